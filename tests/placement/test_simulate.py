"""The online simulator against closed forms (SPEC-PLACEMENT P3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitopt.errors import SolverError
from splitopt.formats.cluster_file import read_cluster
from splitopt.placement.cg import route_costs
from splitopt.placement.evaluate import score_job
from splitopt.placement.model import Job, Server
from splitopt.placement.online import (
    DEFAULT_POLICIES,
    Prepared,
    class_costs,
    design_R,
    free_memory,
    parse_policy,
    prepare,
    r_max,
    run_policy,
    run_prepared,
)
from splitopt.placement.routing import dag_route
from splitopt.placement.sim_kernel import simulate_chains_kernel
from splitopt.placement.simulate import Workload, summarise
from splitopt.scenario.cluster import paper_clustered

TINY = "instances/clusters/tiny.json"


@pytest.fixture(scope="module")
def clustered():
    return paper_clustered(clients_per_site=(1, 0, 0), jobs_per_client=1, l_out=64)


def _ample(cluster):
    servers = tuple(
        Server(s.id, s.memory_bytes * 1000, s.decode_s, s.prefill_s0, s.prefill_s1, s.max_blocks)
        for s in cluster.servers
    )
    return type(cluster)(
        cluster.name,
        cluster.model,
        servers,
        cluster.clients,
        cluster.rtt_s,
        cluster.prefill_rtt_s,
        cluster.prefill_rtt_per_token_s,
        cluster.jobs,
        cluster.network_rtt_s,
        dict(cluster.meta),
    )


@pytest.mark.nojit
def test_one_request_alone_takes_the_evaluators_time():
    cluster = read_cluster(TINY)
    for cls in ({0: Job(0, 20, 64)}, {0: Job(1, 20, 64)}):
        wl = Workload(1.0, 1, tuple(cls.values()))
        for policy in ("cg-bp+ws-rr", "petals+ws-rr", "petals"):
            run = run_policy(cluster, wl, policy, 0, {"R": 1}) if "cg" in policy else None
            prep = prepare(cluster, wl, policy, 0, {"R": 1})
            run = run_prepared(cluster, wl, prep, 0, record_routes=True)
            route = run.info["routes"][0]
            js = score_job(cluster, prep.placement, wl.classes[0], route)
            assert js.feasible
            assert run.wait[0] == 0.0
            assert run.service[0] == pytest.approx(js.total_s, rel=1e-12)
            assert run.ttft[0] == pytest.approx(js.prefill_s, rel=1e-12)
            assert run.per_token[0] == pytest.approx(js.per_token_s, rel=1e-12)
            if policy != "petals":  # WS-RR on an empty system: the least T_r route
                hop, block = route_costs(cluster, wl.classes[0])
                cost, _ = dag_route(prep.placement, cluster.num_blocks, hop, block)
                assert run.service[0] == pytest.approx(cost, rel=1e-12)


def test_ample_memory_nothing_waits(clustered):
    cluster = _ample(clustered)
    wl = Workload(5.0, 400, (Job(0, 20, 64),))
    for policy in ("cg-bp+ws-rr", "petals+ws-rr", "petals-cg-counts+petals", "gbp-cr+jffc"):
        run = run_policy(cluster, wl, policy, 3, {"R": 4, "c": 4, "attn_cache_tokens": 10**6})
        assert run.served.all()
        if policy == "gbp-cr+jffc":  # ample memory -> huge chain capacity
            assert np.all(run.wait == 0.0)
            continue
        assert np.all(run.wait == 0.0), policy
        # every request is served on the same least-time route
        assert np.ptp(run.service) == pytest.approx(0.0, abs=1e-9)


def test_memory_is_never_exceeded_and_waits_happen(clustered):
    wl = Workload(2.0, 300, (Job(0, 20, 128),))
    for policy in ("cg-bp+ws-rr", "petals", "petals+ws-rr"):
        prep = prepare(clustered, wl, policy, 1, {"R": 2})
        run = run_prepared(clustered, wl, prep, 1, record_routes=True)
        assert (run.wait > 0).any(), policy  # the load exceeds the memory
        s_c = clustered.model.cache_bytes(20, 128)
        events = np.unique(np.concatenate([run.admit, run.admit + run.service]))
        for t in events:
            active = (run.admit <= t) & (t < run.admit + run.service)
            use = np.zeros(clustered.num_servers)
            for i in np.flatnonzero(active):
                nxt = 1
                for j in run.info["routes"][i]:
                    end = prep.placement.first[j] + prep.placement.count[j]
                    use[j] += s_c * (end - nxt)
                    nxt = end
            assert np.all(use <= prep.cap * (1 + 1e-9) + 1.0), (policy, t)


def test_petals_waits_follow_the_backoff_schedule(clustered):
    wl = Workload(2.0, 300, (Job(0, 20, 128),))
    run = run_policy(clustered, wl, "petals", 1)
    w = run.wait[run.wait > 0]
    assert w.size
    schedule = np.cumsum([min(2.0**i, 60.0) for i in range(200)])
    assert np.all(np.min(np.abs(w[:, None] - schedule[None, :]), axis=1) < 1e-6)


def test_littles_law_on_long_runs(clustered):
    """PASTA + Little: the mean number in the system seen by arrivals (counted from the
    simulator's own state) equals lambda x mean response time. Per-seed ratios of the
    two estimates; the mean ratio is 1 within 4 standard errors over seeds + 1 % (the
    empty start biases the count down by O(1/N))."""
    wl = Workload(0.05, 4000, (Job(0, 20, 64),))  # stable: ~40 % of requests wait
    prep = prepare(clustered, wl, "cg-bp+ws-rr", 0, {"R": 3})
    ratios = []
    for seed in range(8):
        run = run_prepared(clustered, wl, prep, seed)
        lam = (len(run.arrive) - 1) / run.arrive[-1]
        ratios.append(run.in_system_seen.mean() / (lam * run.response.mean()))
        assert (run.wait > 0).mean() > 0.1  # the queue matters in this test
    ratios = np.array(ratios)
    se = ratios.std(ddof=1) / math.sqrt(len(ratios))
    assert abs(ratios.mean() - 1.0) < 4 * se + 0.01


@pytest.mark.nojit
def test_jffc_fifo_and_slots():
    arrive = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 5.0])
    cls = np.zeros(6, dtype=np.int64)
    ct = np.array([[2.0, 3.0]])
    cp = np.array([[0.5, 0.6]])
    slots = np.array([1, 1])
    admit, _service, _prefill, seen, chain = simulate_chains_kernel(arrive, cls, ct, cp, slots, 0.0)
    # 0 -> fastest chain 0; 1 -> chain 1 (free); 2 waits for chain 0 at 2.0;
    # 3 waits for chain 1 at 3.1; 4 for chain 0 at 4.0; 5 finds chain 1 free (done 6.1)?
    assert chain.tolist()[:5] == [0, 1, 0, 1, 0]
    np.testing.assert_allclose(admit[:5], [0.0, 0.1, 2.0, 3.1, 4.0])
    assert np.all(np.diff(admit) >= 0)  # FIFO
    assert seen.tolist()[:3] == [0, 1, 2]
    assert admit[5] == 6.0 and chain[5] == 0  # chain 0 frees at 6.0, chain 1 at 6.1


def test_design_rule_and_rmax(clustered):
    wl = Workload(0.1, 100, (Job(0, 20, 64),))
    R = design_R(clustered, wl)
    assert 1 <= R <= r_max(clustered, wl)
    wl_hi = Workload(100.0, 100, (Job(0, 20, 64),))
    assert design_R(clustered, wl_hi) == r_max(clustered, wl_hi)


def test_policy_names():
    assert parse_policy("petals") == ("petals", "petals")
    assert parse_policy("cg-bp") == ("cg-bp", "ws-rr")
    assert parse_policy("gbp-cr") == ("gbp-cr", "jffc")
    for bad in ("nope", "cg-bp+nope", "cg-bp+jffc", "gbp-cr+ws-rr"):
        with pytest.raises(SolverError):
            parse_policy(bad)


def test_every_policy_runs_and_summarises(clustered):
    wl = Workload(0.5, 60, (Job(0, 20, 64),))
    runs = [run_policy(clustered, wl, p, s) for p in DEFAULT_POLICIES for s in range(3)]
    table = summarise(runs)
    assert len(table) == len(DEFAULT_POLICIES)
    for row in table.values():
        assert row["served"] == 1.0
        assert row["per_token_mean"] > 0 and math.isfinite(row["per_token_mean_ci"])
        assert row["per_token_p50"] <= row["per_token_p95"] <= row["per_token_p99"]


def test_authors_delays_are_labelled_and_added(clustered):
    wl = Workload(0.1, 20, (Job(0, 20, 64),))
    plain = run_policy(clustered, wl, "petals", 0)
    authors = run_policy(clustered, wl, "petals", 0, authors_delays=True)
    assert authors.policy == "petals+petals[authors]"
    assert np.all(authors.wait >= 250.0)
    assert authors.per_token.mean() > plain.per_token.mean() + 250.0 / 64 - 1e-9


def test_cg_bp_cache_budget_is_free_memory(clustered):
    wl = Workload(0.1, 10, (Job(0, 20, 64),))
    prep = prepare(clustered, wl, "cg-bp", 0, {"R": 2})
    assert isinstance(prep, Prepared)
    np.testing.assert_allclose(prep.cap, free_memory(clustered, prep.placement))
    costs = class_costs(clustered, wl.classes)
    assert costs.need[0] == clustered.model.cache_bytes(20, 64)


def test_cli_simulate(tmp_path, capsys):
    from splitopt.cli import main

    out = tmp_path / "sim.json"
    rc = main(
        [
            "simulate",
            "instances/clusters/paper-clustered.json",
            "--policy",
            "cg-bp+ws-rr,petals",
            "--seeds",
            "2",
            "--requests",
            "20",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    import json

    doc = json.loads(out.read_text())
    assert doc["format"] == "splitopt-simulation"
    assert set(doc["policies"]) == {"cg-bp+ws-rr", "petals+petals"}
    assert len(doc["runs"]) == 4
    assert "cg-bp+ws-rr" in capsys.readouterr().out


def test_cli_simulate_bad_input(tmp_path, capsys):
    from splitopt.cli import main

    assert main(["simulate", "instances/clusters/tiny.json", "--policy", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown placement 'nope'" in err[0]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "splitopt-cluster", "version": 1}')
    out = tmp_path / "o.json"
    assert main(["simulate", str(bad), "--json", str(out)]) == 2
    assert not out.exists()
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    # a run too large to hold in memory is refused up front, not after minutes
    huge = ["simulate", "instances/clusters/tiny.json", "--requests", "10000001"]
    assert main([*huge, "--json", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "num_requests" in err[0] and "10,000,000" in err[0]


@pytest.mark.parametrize(
    "path",
    [
        "instances/clusters/paper-clustered.json",
        "instances/clusters/scenarios/paper-clustered-site0.json",
        "instances/clusters/scenarios/scattered-abvt.json",
        "instances/clusters/scenarios/scattered-bellcanada.json",
        "instances/clusters/scenarios/scattered-gtsce-tatanld.json",
    ],
)
def test_every_policy_on_the_shipped_scenarios(path, capsys):
    from splitopt.cli import main

    assert main(["simulate", path, "--seeds", "2", "--requests", "30"]) == 0
    out = capsys.readouterr().out
    for p in DEFAULT_POLICIES:
        assert p.split("+")[0] in out
