"""The notebook-sized API: read → solve → evaluate → write, and place / simulate.

Every function here is a thin, documented front to the layers below (the readers in
:mod:`splitopt.formats`, the solver registry, the one evaluator of each half, the
simulator); it adds no logic of its own, so the CLI and this API give the same
answers. ``import splitopt`` exposes them as ``splitopt.read``, ``splitopt.solve``,
``splitopt.write``, ``splitopt.place``, ``splitopt.simulate``, …

Units: seconds and bytes everywhere; server work in the problem's ``work_unit``.

Example (single server)::

    import splitopt
    problem = splitopt.read("instances/demo/scenario.json")  # problem or scenario file
    result = splitopt.solve(problem, "dp-exact")
    splitopt.write(result, "solution.json")                    # a splitopt-solution file

Example (many servers)::

    cluster = splitopt.read_cluster("instances/clusters/tiny.json")
    placed = splitopt.place(cluster, "cg-bprr")                 # PlacementResult
    sim = splitopt.simulate(cluster, ["cg-bp+ws-rr", "petals"], seeds=3)
    sim.table["cg-bp+ws-rr"]["per_token_mean"]                  # seconds
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from splitopt.placement.model import Cluster
from splitopt.placement.result import PlacementResult
from splitopt.placement.simulate import SimRun
from splitopt.problem import Problem
from splitopt.solution import Result

PathLike = str | os.PathLike

if TYPE_CHECKING:
    from splitopt.joint import JointCluster


def read(path: PathLike) -> Problem:
    """Read a problem file (JSON or Parquet), or compile a scenario file, into a
    :class:`~splitopt.problem.Problem`. Bad input raises :class:`~splitopt.errors.InputError`
    naming the file and the JSON path."""
    from splitopt.formats.read import read_any

    return read_any(path)


def read_cluster(path: PathLike) -> Cluster:
    """Read a ``splitopt-cluster`` file into a :class:`~splitopt.placement.model.Cluster`."""
    from splitopt.formats.cluster_file import read_cluster as _read

    return _read(path)


def write(result: Result | Sequence[Result], path: PathLike) -> None:
    """Write ``result`` (or several: a JSON array) as a ``splitopt-solution`` file,
    atomically, with its summary (what ``splitopt solve --json`` writes)."""
    from splitopt.formats.errors import write_text_atomic
    from splitopt.formats.solution_file import solution_dumps
    from splitopt.metrics import summarize

    if isinstance(result, Result):
        text = solution_dumps(result, summarize(result))
    else:
        results = list(result)
        text = solution_dumps(results, [summarize(r) for r in results])
    write_text_atomic(path, text)


def read_solution(problem: Problem, path: PathLike) -> Result:
    """Re-score the placements a solution file holds for ``problem`` with the evaluator.

    The statuses a solver certified (``optimal``) are kept where the evaluator agrees
    the placement is feasible (what ``splitopt evaluate`` prints)."""
    from splitopt.formats.rescore import rescore
    from splitopt.formats.solution_file import read_solutions

    solutions, _ = read_solutions(path, problem.name)
    placements, doc, where = solutions[0]
    return rescore(problem, placements, doc, path, where)[0]


@dataclass(frozen=True)
class Simulation:
    """The runs of :func:`simulate` and their per-policy summary.

    ``table[policy]`` holds means and 95 % confidence half-widths over seeds, in
    seconds (``per_token_mean``, ``per_token_mean_ci``, ``ttft_mean``, …) and the
    served fraction (``served``)."""

    runs: tuple[SimRun, ...]
    table: dict[str, dict[str, float]] = field(default_factory=dict)
    #: per policy that left requests unserved: why (e.g. blocks no server hosts)
    notes: dict[str, str] = field(default_factory=dict)


def place(
    cluster: Cluster | PathLike, algorithm: str = "cg-bprr", **options: Any
) -> PlacementResult:
    """Place the model's blocks on the cluster's servers and route its jobs with the
    placement algorithm registered as ``algorithm`` (``cg-bprr``, ``petals``,
    ``bprr-milp``, …); ``options`` go to the algorithm (``seed``, ``time_limit`` in s).
    The answer is scored by the many-server evaluator."""
    from splitopt.placement import get_algorithm

    c = cluster if isinstance(cluster, Cluster) else read_cluster(cluster)
    return get_algorithm(algorithm, **options).solve(c)


def simulate(
    cluster: Cluster | JointCluster | PathLike,
    policies: Sequence[str] | None = None,
    seeds: int = 5,
    *,
    rate_per_s: float | None = None,
    num_requests: int | None = None,
    l_out: int | None = None,
    first_seed: int = 0,
    options: Mapping[str, Any] | None = None,
    authors_delays: bool = False,
    joint_objective: str | None = None,
    sla_s: float | None = None,
    sla_factor: float | None = None,
    client_routes: str = "waits",
) -> Simulation:
    """Simulate online policies (Poisson arrivals, seeded) on ``cluster``, as
    ``splitopt simulate`` does: every policy sees the same arrivals per seed.

    A cluster file whose clients name devices (or a
    :class:`~splitopt.joint.JointCluster`) runs each request's client part
    (:mod:`splitopt.joint.online`; ``joint_objective``, ``sla_s``, ``sla_factor`` and
    ``client_routes`` as the command line's ``--joint-objective``, ``--sla``,
    ``--sla-factor`` and ``--client-routes``); its runs carry ``client_blocks``.

    ``policies``: names such as ``"cg-bp+ws-rr"``, ``"petals"``, ``"gbp-cr+jffc"``,
    ``"sim-opt"`` (default: all). ``rate_per_s``, ``num_requests``, ``l_out``
    override the cluster file's workload. A policy that leaves requests unserved has
    ``inf`` means in ``table`` and a line saying why in ``notes``."""
    from splitopt.formats.cluster_file import read_joint_cluster
    from splitopt.joint import JointCluster
    from splitopt.joint.online import simulate_options
    from splitopt.placement.online import DEFAULT_POLICIES, canonical, simulate_many
    from splitopt.placement.simulate import Workload, summarise

    if isinstance(cluster, JointCluster):
        jc = cluster
    elif isinstance(cluster, Cluster):
        jc = JointCluster.without_devices(cluster)
    else:
        jc = read_joint_cluster(cluster)
    c = jc.cluster
    names = [canonical(p) for p in (policies or DEFAULT_POLICIES)]
    workload = Workload.from_cluster(
        c, rate_per_s=rate_per_s, num_requests=num_requests, l_out=l_out
    )
    fixed_for, _ = simulate_options(
        "the cluster", jc, joint_objective, sla_s, sla_factor, c, workload,
        route_choice=client_routes,
    )  # fmt: skip
    runs = simulate_many(
        c,
        workload,
        names,
        seeds,
        dict(options or {}),
        authors_delays=authors_delays,
        first_seed=first_seed,
        fixed_for=fixed_for,
    )
    from splitopt.placement.why import unserved_notes

    return Simulation(tuple(runs), summarise(runs), unserved_notes(runs))


__all__ = ["Simulation", "place", "read", "read_cluster", "read_solution", "simulate", "write"]
