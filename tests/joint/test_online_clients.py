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
from splitopt.joint.online import (
    ROUTE_CHOICES,
    class_route,
    fixed_for,
    fixed_routes,
    has_devices,
)
from splitopt.joint.route import rebuild, time_table
from splitopt.placement import policies as registry
from splitopt.placement.joint_dp import joint_route_kernel
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
    """No device, and devices with zero memory (but fast compute), under both route
    choices: every array equal."""
    wl = Workload.from_cluster(clustered, rate_per_s=0.5, num_requests=120)
    zero = ClientDevice(0.0, 1e-6, 0.0, 0.0)
    for devs in ((ClientDevice(),) * 2, (zero, zero)):
        jc = JointCluster(clustered, devs)
        assert not has_devices(jc)
        opts = {"sim_opt_seeds": 1}
        prep = registry.prepare(clustered, wl, policy, 0, opts)
        rec = prep.routing != "jffc"
        base = run_prepared(clustered, wl, prep, 0, record_routes=rec)
        for choice in ROUTE_CHOICES:
            fixed = fixed_for(jc, wl.classes, route_choice=choice)(prep)
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
    for choice in ROUTE_CHOICES:
        ff = fixed_for(jc, wl.classes, route_choice=choice)
        _same(base, run_policy(clustered, wl, "cg-bp+ws-rr", 1, fixed_for=ff))


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
    ff = fixed_for(jc, wl.classes, route_choice="static")
    run = run_policy(clustered, wl, "cg-bp+ws-rr", 0, fixed_for=ff)
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
    fixed = fixed_routes(jc, prep.placement, wl.classes, route_choice="static")
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
    timed = fixed_routes(jc, prep.placement, wl.classes, route_choice="static")
    fr = fixed_routes(
        jc,
        prep.placement,
        wl.classes,
        objective="swarm-work",
        sla_factor=1.5,
        route_choice="static",
    )
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
    assert doc["clients"]["route_choice"] == "waits"
    jsonschema = pytest.importorskip("jsonschema")
    from splitopt.formats import schemas

    schema = json.loads(schemas.shipped("simulation"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
    assert not errors, [e.message for e in errors[:3]]


def test_simulate_cli_joint_flags_need_client_devices(capsys) -> None:
    tiny = ROOT / "instances" / "clusters" / "tiny.json"
    assert main(["simulate", str(tiny), "--sla-factor", "1.2", "--seeds", "1"]) == 2
    assert "devices" in capsys.readouterr().err
    assert main(["simulate", str(tiny), "--client-routes", "static", "--seeds", "1"]) == 2
    assert "devices" in capsys.readouterr().err


def _servers_of(route) -> tuple[list[int], list[int]]:
    order: list[int] = []
    blocks: dict[int, int] = {}
    for seg in route:
        if seg.device != CLIENT:
            if seg.device not in blocks:
                order.append(seg.device)
                blocks[seg.device] = 0
            blocks[seg.device] += seg.blocks
    return order, [blocks[j] for j in order]


def _check_walk(seeds: range) -> int:
    """The simulator kernel's walk of the joint DP's tables against the joint
    evaluator on the Python rebuild's route, for every n with a route."""
    from splitopt.families.joint_tiny import tiny_joint
    from splitopt.placement.sim_kernel import _joint_servers

    checked = 0
    for seed in seeds:
        jc, pl, job = tiny_joint(seed)
        tables = time_table(jc, pl, job)
        visit, block, cc = jc.costs(job)
        cl, dev = jc.cluster, jc.devices[job.client]
        pv = np.array([cl.prefill_rtt(job.client, j, job.l_in) for j in range(cl.num_servers)])
        pb = np.array([s.prefill_s(job.l_in) for s in cl.servers])
        S = cl.num_servers
        for n in np.flatnonzero(np.isfinite(tables[0])):
            route = rebuild(tables, jc.num_blocks, int(n))
            sc = score_route(jc, pl, job, route)
            out, kb, pos = np.zeros(S, np.int64), np.zeros(S, np.int64), np.zeros(S, np.int64)
            h, tot, pre = _joint_servers(
                *tables[1:], jc.num_blocks, int(n), visit, block, float(cc), pv, pb,
                float(dev.prefill_s(job.l_in)), out, kb, pos,
            )  # fmt: skip
            order, nb = _servers_of(route)
            assert dict(zip(out[:h].tolist(), kb[:h].tolist(), strict=True)) == dict(
                zip(order, nb, strict=True)
            )
            assert tot == pytest.approx(sc.total_s, rel=1e-9, abs=1e-300)
            assert pre == pytest.approx(sc.prefill_s, rel=1e-9, abs=1e-300)
            checked += 1
    return checked


def test_the_kernels_walk_of_the_joint_dp_matches_the_evaluator() -> None:
    assert _check_walk(range(400)) > 400


@pytest.mark.nojit
def test_the_kernels_walk_of_the_joint_dp_matches_the_evaluator_nojit() -> None:
    assert _check_walk(range(30)) > 0


@pytest.mark.nojit
def test_waits_at_a_low_rate_take_the_static_routes(clustered) -> None:
    """With no request waiting, the choice at arrival is the static one: the same
    client blocks and, to rounding, the same service times."""
    wl = Workload.from_cluster(clustered, rate_per_s=0.002, num_requests=12)
    jc = JointCluster(clustered, (_device(clustered, 20.5, 0.0005), _device(clustered, 6.5, 0.002)))
    st = run_policy(clustered, wl, "cg-bp+ws-rr", 0, fixed_for=fixed_for(jc, wl.classes,
                    route_choice="static"))  # fmt: skip
    wa = run_policy(clustered, wl, "cg-bp+ws-rr", 0, fixed_for=fixed_for(jc, wl.classes))
    assert np.all(st.wait == 0) and np.all(wa.wait == 0)
    assert st.client_blocks is not None and wa.client_blocks is not None
    assert st.client_blocks.any()
    assert np.array_equal(st.client_blocks, wa.client_blocks)
    np.testing.assert_allclose(wa.service, st.service, rtol=1e-12)
    np.testing.assert_allclose(wa.prefill, st.prefill, rtol=1e-12)


def test_waits_move_client_parts_off_busy_servers(clustered) -> None:
    """A fast client at a high rate: the choice at arrival is never slower on average
    than the static route (which all of a class's requests share), and its requests'
    service is the evaluator's time of a route with their client blocks (at least
    the DP's optimum for that count)."""
    cl = clustered
    wl = Workload(2.0, 200, (cl.jobs[0],))
    jc = JointCluster(cl, (_device(cl, 10.5, 0.001), ClientDevice()))
    st = run_policy(cl, wl, "cg-bp+ws-rr", 0, {"R": 2},
                    fixed_for=fixed_for(jc, wl.classes, route_choice="static"))  # fmt: skip
    wa = run_policy(cl, wl, "cg-bp+ws-rr", 0, {"R": 2}, fixed_for=fixed_for(jc, wl.classes))
    assert wa.served.all() and st.served.all()
    assert wa.response.mean() <= st.response.mean()
    assert wa.client_blocks is not None
    prep = registry.prepare(cl, wl, "cg-bp+ws-rr", 0, {"R": 2})
    assert prep.placement is not None
    best = time_table(jc, prep.placement, wl.classes[0])[0]
    for n in np.unique(wa.client_blocks):
        mine = wa.client_blocks == n
        assert np.all(wa.service[mine] >= best[n] * (1 - 1e-12))


def test_joint_dp_kernel_moved_keeps_its_old_import() -> None:
    from splitopt.joint.kernels import joint_route_kernel as old

    assert old is joint_route_kernel


def test_the_api_simulates_client_devices_from_the_file() -> None:
    import splitopt

    sim = splitopt.simulate(JOINT, ["cg-bp+ws-rr"], 1, rate_per_s=0.5, num_requests=30)
    assert sim.runs[0].client_blocks is not None and sim.runs[0].client_blocks.any()
    bare = splitopt.simulate(
        read_joint_cluster(JOINT).cluster, ["cg-bp+ws-rr"], 1, rate_per_s=0.5, num_requests=30
    )
    assert bare.runs[0].client_blocks is None


@pytest.mark.parametrize("choice", ROUTE_CHOICES)
def test_every_registered_policy_runs_clients_that_run_blocks(clustered, choice) -> None:
    """All registered policies with clients holding up to 6 blocks: every request
    served, client blocks within what the client holds, client + swarm blocks = L."""
    wl = Workload.from_cluster(clustered, rate_per_s=0.5, num_requests=40)
    jc = JointCluster(clustered, (_device(clustered, 6.5, 0.001),) * 2)
    ff = fixed_for(jc, wl.classes, route_choice=choice)
    names = list(registry.POLICIES)
    assert len(names) >= 20
    ran_blocks = 0
    for name in names:
        run = run_policy(clustered, wl, name, 0, {"sim_opt_seeds": 1}, fixed_for=ff)
        assert run.served.all(), name
        assert run.client_blocks is not None and run.swarm_blocks is not None
        assert run.client_blocks.min() >= 0 and run.client_blocks.max() <= 6, name
        assert np.all(run.client_blocks + run.swarm_blocks == clustered.num_blocks), name
        ran_blocks += int(run.client_blocks.sum() > 0)
    assert ran_blocks > 0
