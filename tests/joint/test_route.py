"""The joint DP against brute force, and the two special cases that tie it to both halves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitopt.joint import CLIENT, ClientDevice, JointCluster, Segment, best_route, score_route
from splitopt.joint.brute import all_routes, brute_best
from splitopt.placement.evaluate import score_job
from splitopt.placement.model import Placement
from splitopt.placement.routing import dag_route
from splitopt.problem import Chain, Problem, Request
from splitopt.solvers import get_solver
from tests.joint.gen import tiny_joint

N = 2000


def _sla(rng: np.random.Generator, times: np.ndarray) -> float:
    finite = times[np.isfinite(times)]
    if finite.size == 0:
        return 1.0
    return float(rng.uniform(0.5 * finite.min(), 1.2 * finite.max()))


@pytest.mark.parametrize("objective", ["time", "swarm-work"])
def test_dp_equals_brute_force(objective: str) -> None:
    """>= 2,000 tiny instances per objective: same feasibility, same optimum."""
    disagreements = []
    optimal = infeasible = 0
    for seed in range(N):
        jc, pl, job = tiny_joint(seed)
        rng = np.random.default_rng(10_000 + seed)
        sla = None
        if objective == "swarm-work":
            from splitopt.joint.route import time_table

            sla = _sla(rng, np.asarray(time_table(jc, pl, job)[0]))
        ans = best_route(jc, pl, job, objective, sla)
        ref = brute_best(jc, pl, job, objective, sla)
        assert ans.status != "error", (seed, ans)
        if ref is None:
            if ans.status != "infeasible":
                disagreements.append((seed, "brute infeasible", ans.status))
            infeasible += 1
            continue
        if ans.status != "optimal":
            disagreements.append((seed, "dp", ans.status))
            continue
        optimal += 1
        sc, rsc = ans.score, ref[1]
        assert sc is not None
        if objective == "time":
            same = math.isclose(sc.total_s, rsc.total_s, rel_tol=1e-9)
        else:
            same = sc.swarm_blocks == rsc.swarm_blocks and math.isclose(
                sc.total_s, rsc.total_s, rel_tol=1e-9
            )
        if not same:
            disagreements.append((seed, sc, rsc))
    assert not disagreements, disagreements[:3]
    # the families reach both outcomes
    assert optimal > N // 3 and infeasible > N // 20


def test_routes_use_the_client() -> None:
    """The generator reaches routes with client prefixes, suffixes and interior runs."""
    kinds = set()
    for seed in range(400):
        jc, pl, job = tiny_joint(seed)
        ans = best_route(jc, pl, job)
        if ans.status != "optimal":
            continue
        devs = [s.device for s in ans.route]
        if CLIENT in devs and len(devs) > 1:
            if devs[0] == CLIENT:
                kinds.add("prefix")
            if devs[-1] == CLIENT:
                kinds.add("suffix")
            if CLIENT in devs[1:-1]:
                kinds.add("interior")
    assert kinds == {"prefix", "suffix", "interior"}


def test_client_running_nothing_is_the_many_server_model() -> None:
    """Clients that host nothing: the joint optimum is BPRR's shortest route, bit for bit."""
    checked = 0
    for seed in range(3500):
        jc, pl, job = tiny_joint(seed, max_blocks=8, max_servers=4, device=False)
        ans = best_route(jc, pl, job)
        visit, block, _ = jc.costs(job)
        cost, route = dag_route(pl, jc.num_blocks, visit, block)
        if not math.isfinite(cost):
            assert ans.status == "infeasible"
            continue
        ref = score_job(jc.cluster, pl, job, route)
        assert ans.status == "optimal" and ans.score is not None
        assert ans.score.client_blocks == 0
        assert math.isclose(ans.score.total_s, ref.total_s, rel_tol=1e-12), seed
        if tuple(s.device for s in ans.route) == route:
            assert ans.score.total_s == ref.total_s  # same route: the same sums
        checked += 1
    assert checked >= 1000


def _split_chain(jc: JointCluster, job, sla: float) -> Chain:
    """The split problem equivalent to the joint one when one server hosts every block."""
    L = jc.num_blocks
    visit, block, client = jc.costs(job)
    dev = jc.devices[0]
    per = jc.client_block_bytes(job)
    return Chain(
        client_time_s=np.full(L, client),
        server_time_s=np.full(L, block[0]),
        server_work=np.ones(L),
        uplink_s=np.full(L + 1, visit[0]),
        downlink_s=np.zeros(L + 1),
        client_memory_bytes=np.full(L, per),
        sla_s=sla,
        memory_budget_bytes=dev.memory_bytes,
    )


def test_one_server_hosting_everything_is_the_split_problem() -> None:
    """One server hosting blocks 1..L: least swarm blocks under the SLA equal the split
    half's optimum (dp-exact and brute force) on the equivalent chain."""
    rng = np.random.default_rng(7)
    checked = feasible = 0
    for seed in range(1200):
        jc, _, job = tiny_joint(seed, max_blocks=8, max_servers=1)
        L = jc.num_blocks
        pl = Placement(np.array([1]), np.array([L]))
        from splitopt.joint.route import time_table

        sla = _sla(rng, np.asarray(time_table(jc, pl, job)[0]))
        ans = best_route(jc, pl, job, "swarm-work", sla)
        chain = _split_chain(jc, job, sla)
        prob = Problem(name="eq", requests=(Request(id="r", chain=chain),), work_unit="FLOP")
        for solver in ("dp-exact", "brute-force"):
            res = get_solver(solver).solve(prob)
            st = res.statuses[0]
            if st == "infeasible":
                assert ans.status == "infeasible", (seed, solver)
                continue
            assert st == "optimal", (seed, solver, st)
            work = res.evaluation.server_work[0]
            assert ans.status == "optimal", (seed, solver)
            assert ans.score is not None and ans.score.swarm_blocks == round(work), seed
        feasible += ans.status == "optimal"
        checked += 1
    assert checked == 1200 and feasible > 600


def test_evaluator_rejects_broken_routes() -> None:
    jc, _, job = tiny_joint(3, device=True)
    L = jc.num_blocks
    pl = Placement(np.array([1]), np.array([L]))
    bad = [
        (Segment(0, 2, L),),  # does not start at block 1
        (Segment(5, 1, L),),  # no such server
        (Segment(CLIENT, 1, L), Segment(CLIENT, L, L)),  # overlap
    ]
    if L >= 2:
        bad.append((Segment(0, 1, L - 1), Segment(0, L, L)))  # stops early, next not client
    for r in bad:
        sc = score_route(jc, pl, job, r)
        assert not sc.feasible and sc.reason


def test_client_memory_is_enforced() -> None:
    jc, pl, job = tiny_joint(11)
    L = jc.num_blocks
    pl = Placement(np.array([1]), np.array([L]))
    per = jc.client_block_bytes(job)
    small = JointCluster(jc.cluster, (ClientDevice(memory_bytes=per * 1.5, decode_s=1e-9),))
    ans = best_route(small, pl, job)
    assert ans.status == "optimal" and ans.score is not None
    assert ans.score.client_blocks <= 1
    every = [r for r in all_routes(small, pl) if score_route(small, pl, job, r).feasible]
    assert all(score_route(small, pl, job, r).client_blocks <= 1 for r in every)


@pytest.mark.nojit
def test_dp_equals_brute_force_small_nojit() -> None:
    """The kernel with the JIT off (make test runs this marker with NUMBA_DISABLE_JIT=1)."""
    for seed in range(60):
        jc, pl, job = tiny_joint(seed, max_blocks=4)
        ans = best_route(jc, pl, job)
        ref = brute_best(jc, pl, job)
        if ref is None:
            assert ans.status == "infeasible"
        else:
            assert ans.status == "optimal" and ans.score is not None
            assert math.isclose(ans.score.total_s, ref[1].total_s, rel_tol=1e-9)
