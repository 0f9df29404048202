"""The online simulator with clients that run blocks (splitopt.joint.online)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from splitopt.cli import main
from splitopt.errors import UsageError
from splitopt.formats.cluster_file import read_joint_cluster
from splitopt.joint import CLIENT, ClientDevice, JointCluster, score_route
from splitopt.joint.online import class_route, fixed_for, fixed_routes, has_devices
from splitopt.placement import policies as registry
from splitopt.placement.online import DEFAULT_POLICIES, run_policy, run_prepared
from splitopt.placement.simulate import Workload
from splitopt.scenario.cluster import paper_clustered

ROOT = Path(__file__).resolve().parents[2]
JOINT = ROOT / "instances" / "joint" / "tiny-joint.json"
POLICIES = (*DEFAULT_POLICIES, "cg-bp+shortest")


@pytest.fixture(scope="module")
def clustered():
    return paper_clustered(clients_per_site=(1, 1, 0), jobs_per_client=1, l_out=64)


def _device(cl, blocks: float, decode_s: float) -> ClientDevice:
    """A client holding ``blocks`` blocks (weights + cache of a 64 + 20 token request)."""
    per = cl.model.block_bytes + cl.model.cache_bytes(20, 64)
    return ClientDevice(blocks * per, decode_s, 1e-3, 1e-5)


def _same(a, b) -> None:
    for name in ("arrive", "admit", "service", "prefill", "l_out", "in_system_seen"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
    assert a.info.get("routes") == b.info.get("routes")


@pytest.mark.parametrize("policy", POLICIES)
def test_clients_hosting_nothing_give_todays_runs_bit_for_bit(clustered, policy) -> None:
    """No device, and devices with zero memory (but fast compute): every array equal."""
    wl = Workload.from_cluster(clustered, rate_per_s=0.5, num_requests=120)
    zero = ClientDevice(0.0, 1e-6, 0.0, 0.0)
    for devs in ((ClientDevice(),) * 2, (zero, zero)):
        jc = JointCluster(clustered, devs)
        assert not has_devices(jc)
        opts = {"sim_opt_seeds": 1}
        prep = registry.prepare(clustered, wl, policy, 0, opts)
        rec = prep.routing != "jffc"
        base = run_prepared(clustered, wl, prep, 0, record_routes=rec)
        fixed = fixed_for(jc, wl.classes)(prep)
        run = run_prepared(clustered, wl, prep, 0, record_routes=rec, fixed=fixed)
        _same(base, run)
        assert run.client_blocks is not None and not run.client_blocks.any()
        assert run.swarm_blocks is not None
        assert np.all(run.swarm_blocks[run.served] == clustered.num_blocks)


def test_a_client_too_small_for_one_block_falls_back_to_the_swarm(clustered) -> None:
    wl = Workload.from_cluster(clustered, rate_per_s=0.5, num_requests=80)
    jc = JointCluster(clustered, (_device(clustered, 0.9, 1e-6),) * 2)
    assert jc.max_client_blocks(wl.classes[0]) == 0
    base = run_policy(clustered, wl, "cg-bp+ws-rr", 1)
    run = run_policy(clustered, wl, "cg-bp+ws-rr", 1, fixed_for=fixed_for(jc, wl.classes))
    _same(base, run)


@pytest.mark.nojit
def test_client_blocks_are_charged_as_the_joint_evaluator_times_them(clustered) -> None:
    """A fast client holding 20 blocks: each request's service is the evaluator's T_r
    of its class's route, its client blocks those of the route, waits >= 0, and the
    client blocks + swarm blocks = L."""
    wl = Workload.from_cluster(clustered, rate_per_s=0.2, num_requests=40)
    dev = _device(clustered, 20.5, 0.0005)
    jc = JointCluster(clustered, (dev, ClientDevice()))
    prep = registry.prepare(clustered, wl, "cg-bp+ws-rr", 0)
    assert prep.placement is not None
    run = run_policy(clustered, wl, "cg-bp+ws-rr", 0, fixed_for=fixed_for(jc, wl.classes))
    _, cls = wl.sample(0)
    assert run.client_blocks is not None and run.swarm_blocks is not None
    for c, job in enumerate(wl.classes):
        mine = (cls == c) & run.served
        ans = class_route(jc, prep.placement, job)
        if job.client == 1:  # runs nothing: the policy's route
            assert ans is None and not run.client_blocks[cls == c].any()
            continue
        assert ans is not None and ans.score is not None
        sc = score_route(jc, prep.placement, job, ans.route)
        assert sc.client_blocks == 20
        assert np.all(run.service[mine] == sc.total_s)
        assert np.all(run.prefill[mine] == sc.prefill_s)
        assert np.all(run.client_blocks[mine] == 20)
    ok = run.served
    assert ok.all() and np.all(run.wait >= 0)
    assert np.all(run.client_blocks[ok] + run.swarm_blocks[ok] == clustered.num_blocks)
    m = run.metrics()
    assert 0 < m["client_blocks_mean"] < 20 and m["swarm_blocks_mean"] > 50


def test_fixed_routes_wait_for_cache_and_never_overfill_a_server(clustered) -> None:
    """Every request on one fixed route at a high rate: some wait, and at every
    admission the cache reserved on each route server stays within its budget."""
    cl = clustered
    wl = Workload(5.0, 150, (cl.jobs[0],))
    jc = JointCluster(cl, (_device(cl, 10.5, 0.0005), ClientDevice()))
    prep = registry.prepare(cl, wl, "cg-bp+ws-rr", 0, {"R": 2})
    assert prep.placement is not None and prep.cap is not None
    fixed = fixed_routes(jc, prep.placement, wl.classes)
    assert fixed.hops[0] > 0 and fixed.client_blocks[0] == 10
    run = run_prepared(cl, wl, prep, 0, fixed=fixed, record_routes=True)
    assert run.served.all() and (run.wait > 1e-9).any()
    h = int(fixed.hops[0])
    srv, blk = fixed.servers[0, :h], fixed.blocks[0, :h]
    need = cl.model.cache_bytes(wl.classes[0].l_in, wl.classes[0].l_out)
    assert all(r == tuple(srv) for r in run.info["routes"])
    start, end = run.admit, run.admit + run.service
    for t in start:
        live = (start <= t) & (end > t)
        for j, k in zip(srv, blk, strict=True):
            assert live.sum() * k * need <= prep.cap[j] * (1 + 1e-9)


def test_jffc_runs_client_blocks_on_its_chains(clustered) -> None:
    wl = Workload.from_cluster(clustered, rate_per_s=0.2, num_requests=60)
    jc = JointCluster(clustered, (_device(clustered, 15.5, 0.0005),) * 2)
    base = run_policy(clustered, wl, "gbp-cr+jffc", 0)
    run = run_policy(clustered, wl, "gbp-cr+jffc", 0, fixed_for=fixed_for(jc, wl.classes))
    assert run.client_blocks is not None
    assert np.all(run.client_blocks[run.served] == 15)
    assert run.service.mean() < base.service.mean()


def test_the_swarm_work_objective_takes_more_client_blocks_within_the_sla(clustered) -> None:
    """A slow client: swarm work with SLA factor 1.5 runs more blocks on it than least
    time does, and stays within 1.5 x the class's time when its client runs nothing."""
    wl = Workload.from_cluster(clustered, rate_per_s=0.1, num_requests=30)
    jc = JointCluster(clustered, (_device(clustered, 30.5, 0.05),) * 2)
    prep = registry.prepare(clustered, wl, "cg-bp+ws-rr", 0)
    assert prep.placement is not None
    timed = fixed_routes(jc, prep.placement, wl.classes)
    fr = fixed_routes(jc, prep.placement, wl.classes, objective="swarm-work", sla_factor=1.5)
    bare = JointCluster.without_devices(clustered)
    for c, job in enumerate(wl.classes):
        assert class_route(bare, prep.placement, job) is None
        assert fr.client_blocks[c] > timed.client_blocks[c]
        route = class_route(jc, prep.placement, job, "swarm-work", sla_factor=1.5)
        assert route is not None and route.score is not None
        assert any(s.device == CLIENT for s in route.route)
        assert fr.total_s[c] == route.score.total_s
        base = route.time_by_client_blocks[0]
        assert base < fr.total_s[c] <= 1.5 * base * (1 + 1e-9)
    with pytest.raises(UsageError):
        fixed_routes(jc, prep.placement, wl.classes, objective="time", sla_factor=1.0)


def test_simulate_cli_on_a_cluster_with_client_devices(tmp_path, capsys) -> None:
    jc = read_joint_cluster(JOINT)
    assert has_devices(jc)
    out = tmp_path / "sim.json"
    code = main(
        ["simulate", str(JOINT), "--policy", "cg-bp+ws-rr,gbp-cr+jffc", "--seeds", "2",
         "--requests", "30", "--rate", "0.5", "--json", str(out)]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "client blocks" in text
    doc = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(c))
    for name in ("cg-bp+ws-rr", "gbp-cr+jffc"):
        row = doc["policies"][name]
        assert row["client_blocks_mean"] > 0
        assert row["client_blocks_mean"] + row["swarm_blocks_mean"] == pytest.approx(40)
    assert doc["clients"]["instances"] == "per-request"
    assert doc["clients"]["objective"] == "time"


def test_simulate_cli_joint_flags_need_client_devices(capsys) -> None:
    tiny = ROOT / "instances" / "clusters" / "tiny.json"
    assert main(["simulate", str(tiny), "--sla-factor", "1.2", "--seeds", "1"]) == 2
    assert "devices" in capsys.readouterr().err
