"""Verification of the joint model's exact per-request DP through the experiment
harness (``splitopt experiment joint-verify``).

Four checks, each on seeded tiny instances of :mod:`splitopt.families.joint_tiny`
(instance ``i`` of seed ``S`` uses generator seed ``S * 1,000,000 + i``):

* ``dp-brute-time`` / ``dp-brute-swarm-work``: the DP (:func:`splitopt.joint.best_route`)
  against the brute force over every route (:func:`splitopt.joint.brute.brute_best`),
  L <= 6, S <= 3; the same feasibility, the same least T (``time``) or the same swarm
  blocks and T (``swarm-work``, SLA drawn between half the least and 1.2 x the largest
  achievable time, so some instances are infeasible);
* ``no-device``: a client that runs nothing gets BPRR's shortest route
  (:func:`splitopt.placement.routing.dag_route`, scored by the many-server evaluator),
  L <= 8, S <= 4;
* ``one-server``: one server hosting every block, swarm-work: the least swarm blocks
  equal the split half's ``dp-exact`` and ``brute-force`` optimum (server work, one
  unit per block) on the equivalent chain, L <= 8.

The joint MILP (:class:`splitopt.joint.milp.JointMilp`, placement and routes with
server memory) on tiny clusters of :func:`splitopt.families.joint_tiny.tiny_joint_cluster`
(L <= 4, S <= 3, 1-2 jobs, server memory binding on most servers):

* ``milp-brute-time`` / ``milp-brute-swarm-work``: every backend's own answer
  (``certify=False``: the backend's claim, decoded and scored by the joint evaluator)
  and HiGHS's certified answer against the brute force over every placement and
  route combination (:func:`splitopt.joint.brute.brute_joint`); the same
  feasibility and the same least sum of T (``time``) or least swarm blocks
  (``swarm-work``, per-job SLA between 0.8 and 3 x the job's T in a time-optimal
  answer, so some are infeasible);
* ``milp-no-device``: clients that run nothing: the joint MILP's optimum equals the
  many-server brute force's (``bprr-brute``, scored by the many-server evaluator);
* ``milp-one-server``: one server with memory to spare, one job, swarm-work: the
  joint MILP's least swarm blocks equal the split half's ``dp-exact`` optimum.

Every DP answer is re-scored by the joint evaluator; a status ``error`` (the evaluator
disagrees with the DP) counts as a disagreement. Times agree to a relative 1e-9.
Each task checks a batch of consecutive instances and writes one CSV row (counts and,
as JSON, the first disagreements); ``--quick`` checks a tenth of the instances.
``python -m splitopt.experiments.joint_verify_report CSV OUT.md`` writes the summary.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from splitopt.experiments.harness import Task, experiment

#: Relative tolerance on times.
RTOL = 1e-9
#: Instances per check (full run); ``--quick`` runs a tenth.
COUNTS = {
    "dp-brute-time": 2000,
    "dp-brute-swarm-work": 3000,
    "no-device": 4000,
    "one-server": 2000,
    "milp-brute-time": 2000,
    "milp-brute-swarm-work": 1000,
    "milp-no-device": 1000,
    "milp-one-server": 1000,
}
#: Instances per task (one CSV row).
BATCH = 100
_RUNNER = "joint-verify"  # registered name (experiments.harness)


def instance_seed(seed: int, index: int) -> int:
    return seed * 1_000_000 + index


def _dp_brute(objective: str, s: int) -> tuple[str, str | None]:
    from splitopt.families.joint_tiny import random_sla, tiny_joint
    from splitopt.joint import best_route
    from splitopt.joint.brute import brute_best
    from splitopt.joint.route import time_table

    jc, pl, job = tiny_joint(s)
    sla = None
    if objective == "swarm-work":
        rng = np.random.default_rng([s, 1])
        sla = random_sla(rng, np.asarray(time_table(jc, pl, job)[0]))
    ans = best_route(jc, pl, job, objective, sla)
    ref = brute_best(jc, pl, job, objective, sla)
    if ans.status == "error":
        return "error", "the evaluator disagrees with the DP"
    if ref is None:
        return (
            ("infeasible", None)
            if ans.status == "infeasible"
            else (
                "optimal",
                f"brute force finds no route, the DP is {ans.status}",
            )
        )
    if ans.status != "optimal" or ans.score is None:
        return ans.status, f"brute force finds T = {ref[1].total_s!r}, the DP is {ans.status}"
    sc, rsc = ans.score, ref[1]
    same = math.isclose(sc.total_s, rsc.total_s, rel_tol=RTOL)
    if objective == "swarm-work":
        same = same and sc.swarm_blocks == rsc.swarm_blocks
    if not same:
        return "optimal", (
            f"DP: T {sc.total_s!r}, {sc.swarm_blocks} swarm blocks; brute force: "
            f"T {rsc.total_s!r}, {rsc.swarm_blocks}"
        )
    return "optimal", None


def _no_device(s: int) -> tuple[str, str | None]:
    from splitopt.families.joint_tiny import tiny_joint
    from splitopt.joint import best_route
    from splitopt.placement.evaluate import score_job
    from splitopt.placement.routing import dag_route

    jc, pl, job = tiny_joint(s, max_blocks=8, max_servers=4, device=False)
    ans = best_route(jc, pl, job)
    visit, block, _ = jc.costs(job)
    cost, route = dag_route(pl, jc.num_blocks, visit, block)
    if not math.isfinite(cost):
        if ans.status == "infeasible":
            return "infeasible", None
        return ans.status, f"dag_route finds no route, the DP is {ans.status}"
    ref = score_job(jc.cluster, pl, job, route)
    if ans.status != "optimal" or ans.score is None:
        return ans.status, f"dag_route finds T = {ref.total_s!r}, the DP is {ans.status}"
    if ans.score.client_blocks != 0:
        return "optimal", "the DP runs blocks on a client that has no device"
    if not math.isclose(ans.score.total_s, ref.total_s, rel_tol=RTOL):
        return "optimal", f"DP T {ans.score.total_s!r}, dag_route T {ref.total_s!r}"
    return "optimal", None


def _one_server(s: int) -> tuple[str, str | None]:
    from splitopt.families.joint_tiny import random_sla, tiny_joint
    from splitopt.joint import best_route
    from splitopt.joint.route import time_table
    from splitopt.placement.model import Placement
    from splitopt.problem import Chain, Problem, Request
    from splitopt.solvers import get_solver

    jc, _, job = tiny_joint(s, max_blocks=8, max_servers=1)
    L = jc.num_blocks
    pl = Placement(np.array([1]), np.array([L]))
    sla = random_sla(np.random.default_rng([s, 2]), np.asarray(time_table(jc, pl, job)[0]))
    ans = best_route(jc, pl, job, "swarm-work", sla)
    if ans.status == "error":
        return "error", "the evaluator disagrees with the DP"
    visit, block, client = jc.costs(job)
    chain = Chain(  # the equivalent split problem: one round trip per server visit
        client_time_s=np.full(L, client),
        server_time_s=np.full(L, block[0]),
        server_work=np.ones(L),
        uplink_s=np.full(L + 1, visit[0]),
        downlink_s=np.zeros(L + 1),
        client_memory_bytes=np.full(L, jc.client_block_bytes(job)),
        sla_s=sla,
        memory_budget_bytes=jc.devices[0].memory_bytes,
    )
    prob = Problem(name="eq", requests=(Request(id="r", chain=chain),), work_unit="FLOP")
    for solver in ("dp-exact", "brute-force"):
        res = get_solver(solver).solve(prob)
        st = res.statuses[0]
        if st == "infeasible":
            if ans.status != "infeasible":
                return ans.status, f"{solver} infeasible, the DP is {ans.status}"
            continue
        if st != "optimal":
            return ans.status, f"{solver} status {st}"
        work = float(res.evaluation.server_work[0])
        if ans.status != "optimal" or ans.score is None:
            return ans.status, f"{solver} finds work {work!r}, the DP is {ans.status}"
        if ans.score.swarm_blocks != round(work) or abs(work - round(work)) > 1e-9:
            return "optimal", f"DP {ans.score.swarm_blocks} swarm blocks, {solver} {work!r}"
    return ans.status, None


def _milp_sla(jc: Any, s: int) -> list[float] | None:
    from splitopt.joint.brute import brute_joint
    from splitopt.joint.evaluate import score_answer

    _, pl, routes = brute_joint(jc)
    if pl is None:
        return None
    rng = np.random.default_rng([s, 3])
    return [sc.total_s * float(rng.uniform(0.8, 3.0)) for sc in score_answer(jc, pl, routes).routes]


def _milp_brute(objective: str, s: int) -> tuple[str, str | None]:
    from splitopt.families.joint_tiny import tiny_joint_cluster
    from splitopt.joint.brute import brute_joint
    from splitopt.joint.milp import BACKENDS, JointMilp, backend_available

    jc = tiny_joint_cluster(s)
    sla = None
    if objective == "swarm-work":
        sla = _milp_sla(jc, s)
        if sla is None:  # no answer at all: nothing to constrain
            sla = [1.0] * len(jc.cluster.jobs)
    ref, _, _ = brute_joint(jc, objective, sla)
    runs = [(b, False) for b in BACKENDS if backend_available(b)] + [("highs", True)]
    status = "infeasible" if math.isinf(ref) else "optimal"
    for backend, cert in runs:
        res = JointMilp(backend, certify=cert).solve(jc, objective, sla)
        tag = f"{backend}{' certified' if cert else ''}"
        if res.status == "error":
            return "error", f"{tag}: {res.message}"
        if math.isinf(ref):
            if res.status != "infeasible":
                return status, f"{tag}: {res.status} {res.value!r}, brute force finds none"
            continue
        if res.status != "optimal":
            return status, f"{tag}: {res.status}, brute force finds {ref!r}"
        if not math.isclose(res.value, ref, rel_tol=RTOL):
            return status, f"{tag}: {res.value!r}, brute force {ref!r}"
    return status, None


def _milp_no_device(s: int) -> tuple[str, str | None]:
    from splitopt.families.joint_tiny import tiny_joint_cluster
    from splitopt.joint.milp import JointMilp
    from splitopt.placement import get_algorithm

    jc = tiny_joint_cluster(s, device=False)
    ref = get_algorithm("bprr-brute").solve(jc.cluster)
    res = JointMilp("highs").solve(jc)
    if res.status == "error" or ref.status == "error":
        return "error", f"joint {res.message}; bprr-brute {ref.message}"
    if not ref.feasible:
        if res.status != "infeasible":
            return res.status, f"bprr-brute finds none, the joint MILP {res.value!r}"
        return "infeasible", None
    if res.status != "optimal":
        return res.status, f"joint MILP {res.status}, bprr-brute {ref.objective!r}"
    if any(sc.client_blocks for sc in res.score.routes):  # type: ignore[union-attr]
        return "optimal", "a client that runs nothing runs blocks"
    if not math.isclose(res.value, ref.objective, rel_tol=RTOL):
        return "optimal", f"joint MILP {res.value!r}, bprr-brute {ref.objective!r}"
    return "optimal", None


def one_server_split_work(
    jc: Any, job: Any, sla: float, solvers: tuple[str, ...] = ("dp-exact", "brute-force")
) -> list[tuple[str, str, float]]:
    """The split half's answers (solver, status, server work) on the split problem
    equivalent to one server (index 0) hosting every block for ``job`` (memory to spare)."""
    from splitopt.problem import Chain, Problem, Request
    from splitopt.solvers import get_solver

    L = jc.num_blocks
    visit, block, client = jc.costs(job)
    chain = Chain(  # one round trip per server visit
        client_time_s=np.full(L, client),
        server_time_s=np.full(L, block[0]),
        server_work=np.ones(L),
        uplink_s=np.full(L + 1, visit[0]),
        downlink_s=np.zeros(L + 1),
        client_memory_bytes=np.full(L, jc.client_block_bytes(job)),
        sla_s=sla,
        memory_budget_bytes=jc.devices[job.client].memory_bytes,
    )
    prob = Problem(name="eq", requests=(Request(id="r", chain=chain),), work_unit="FLOP")
    out = []
    for solver in solvers:
        res = get_solver(solver).solve(prob)
        out.append((solver, res.statuses[0], float(res.evaluation.server_work[0])))
    return out


def _milp_one_server(s: int) -> tuple[str, str | None]:
    from splitopt.families.joint_tiny import random_sla, tiny_joint
    from splitopt.joint.milp import JointMilp
    from splitopt.joint.model import JointCluster
    from splitopt.joint.route import time_table
    from splitopt.placement.model import Placement

    jc0, _, job = tiny_joint(s, max_blocks=6, max_servers=1)
    jc = JointCluster(jc0.cluster, jc0.devices)
    L = jc.num_blocks
    full = Placement(np.array([1]), np.array([L]))
    sla = random_sla(np.random.default_rng([s, 4]), np.asarray(time_table(jc, full, job)[0]))
    res = JointMilp("highs").solve(jc, "swarm-work", [sla])
    if res.status == "error":
        return "error", res.message
    for solver, st, work in one_server_split_work(jc, job, sla):
        if st == "infeasible":
            if res.status != "infeasible":
                return res.status, f"{solver} infeasible, the joint MILP is {res.status}"
            continue
        if st != "optimal":
            return res.status, f"{solver} status {st}"
        if res.status != "optimal":
            return res.status, f"{solver} finds work {work!r}, the joint MILP is {res.status}"
        if res.value != round(work) or abs(work - round(work)) > 1e-9:
            return "optimal", f"joint MILP {res.value!r} swarm blocks, {solver} {work!r}"
    return res.status, None


def run_joint_check(check: str, seed: int, first: int, count: int, **_: Any) -> dict[str, Any]:
    """Check instances ``first .. first + count - 1`` of ``check`` (the harness runner)."""
    fn = {
        "dp-brute-time": lambda s: _dp_brute("time", s),
        "dp-brute-swarm-work": lambda s: _dp_brute("swarm-work", s),
        "no-device": _no_device,
        "one-server": _one_server,
        "milp-brute-time": lambda s: _milp_brute("time", s),
        "milp-brute-swarm-work": lambda s: _milp_brute("swarm-work", s),
        "milp-no-device": _milp_no_device,
        "milp-one-server": _milp_one_server,
    }[check]
    statuses: dict[str, int] = {}
    bad: list[dict[str, Any]] = []
    for i in range(first, first + count):
        status, why = fn(instance_seed(seed, i))
        statuses[status] = statuses.get(status, 0) + 1
        if why is not None or status == "error":
            bad.append({"index": i, "why": why or status})
    return {
        "instances": count,
        "optimal": statuses.get("optimal", 0),
        "infeasible": statuses.get("infeasible", 0),
        "disagreements": len(bad),
        "failures": json.dumps(bad[:5]) if bad else "",
    }


@experiment(
    "joint-verify",
    "joint model: the exact per-request DP and the joint MILP against brute force (both "
    "objectives) and the two special cases of each (client runs nothing = BPRR's shortest "
    "route / bprr-brute; one server = split dp-exact)",
)
def joint_verify(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """Batches of :data:`BATCH` instances per check; repetitions use seeds seed, seed+1, ..."""
    for rep in range(repetitions):
        for check, n in COUNTS.items():
            n = n // 10 if quick else n
            for first in range(0, n, BATCH):
                yield Task.make(
                    "joint-verify",
                    _RUNNER,
                    check=check,
                    seed=seed + rep,
                    first=first,
                    count=min(BATCH, n - first),
                )


def summarise(rows: list[dict[str, str]]) -> str:
    """A Markdown table of a run's CSV rows: per check and seed, instances, optimal,
    infeasible, disagreements and the tasks' run time (and the rows that failed to run)."""
    agg: dict[tuple[str, str], list[float]] = {}
    failed = 0
    for r in rows:
        if r.get("error"):
            failed += 1
            continue
        k = (r["check"], r["seed"])
        a = agg.setdefault(k, [0, 0, 0, 0, 0.0])
        for i, f in enumerate(("instances", "optimal", "infeasible", "disagreements")):
            a[i] += int(float(r[f]))
        a[4] += float(r.get("runtime_s") or 0.0)
    lines = [
        "| check | seed | instances | optimal | infeasible | disagreements | run time (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (check, seed), a in sorted(agg.items()):
        lines.append(
            f"| {check} | {seed} | {int(a[0]):,} | {int(a[1]):,} | {int(a[2]):,} | "
            f"{int(a[3]):,} | {a[4]:,.0f} |"
        )
    total = sum(int(a[3]) for a in agg.values())
    lines.append("")
    lines.append(
        f"{sum(int(a[0]) for a in agg.values()):,} instances, {total} disagreements, "
        f"{failed} task(s) that failed to run."
    )
    return "\n".join(lines)


__all__ = [
    "COUNTS",
    "instance_seed",
    "joint_verify",
    "one_server_split_work",
    "run_joint_check",
    "summarise",
]
