"""The two named simulation semantics, PETALS's block caps, the server ping matrix,
trace replay and the design-R rule's edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.errors import SolverError
from splitopt.placement.model import BlockModel, Cluster, Job, Server
from splitopt.placement.online import design_R, prepare, run_policy
from splitopt.placement.petals import Petals, petals_counts
from splitopt.placement.semantics import get_semantics
from splitopt.placement.simulate import TraceWorkload, Workload
from splitopt.scenario.cluster import paper_clustered


def _tiny(max_blocks=None, block_bytes=1e9, memory=20e9, S=3, L=6) -> Cluster:
    model = BlockModel(num_blocks=L, block_bytes=block_bytes, cache_bytes_per_token=1e6)
    servers = tuple(
        Server(
            f"s{j}",
            memory_bytes=memory,
            decode_s=0.01 * (j + 1),
            prefill_s0=0.02,
            prefill_s1=0.0,
            max_blocks=max_blocks,
        )
        for j in range(S)
    )
    rtt = np.full((1, S), 0.01)
    return Cluster("tiny", model, servers, ("c",), rtt, rtt, jobs=(Job(0, 20, 40),))


@pytest.fixture(scope="module")
def clustered() -> Cluster:
    return paper_clustered(clients_per_site=(1, 0, 0), jobs_per_client=1, l_out=64)


def test_unknown_semantics_is_refused():
    with pytest.raises(SolverError, match="valid: splitopt, authors"):
        get_semantics("matlab")


def test_petals_counts_respect_max_blocks():
    cl = _tiny(max_blocks=2)
    assert (petals_counts(cl) <= 2).all()
    assert (Petals().place(cl).count <= 2).all()
    free = _tiny()
    assert petals_counts(free).max() > 2  # the cap is what binds


def test_simulated_petals_policies_respect_max_blocks():
    """``simulate --policy petals`` and its ablations host no more blocks per server
    than its cap (the simulator once hosted 12 where the caps allowed 6)."""
    from splitopt.placement.policies import POLICIES

    cl = _tiny(max_blocks=2)
    wl = Workload(1.0, 5, (Job(0, 20, 40),))
    names = [n for n in POLICIES.names() if n.startswith("petals")]
    assert len(names) >= 5
    for name in names:
        p = prepare(cl, wl, name, 0).placement
        assert p is not None and (np.asarray(p.count) <= 2).all(), name
        assert int(np.asarray(p.count).sum()) >= cl.num_blocks, name  # still a whole chain


def test_petals_answers_with_zero_block_bytes_or_zero_caps():
    assert Petals().solve(_tiny(block_bytes=0.0)).status == "feasible"
    res = Petals().solve(_tiny(max_blocks=0))
    assert res.status == "infeasible"


@pytest.mark.parametrize("policy", ["cg-bp", "sim-opt", "petals-cg-counts", "petals-cg-order"])
def test_nothing_servable_is_an_answer_not_an_overflow(policy):
    cl = _tiny(max_blocks=0)
    wl = Workload(1.0, 5, (Job(0, 4, 4),))
    assert design_R(cl, wl) == 1
    run = run_policy(cl, wl, policy, 0)
    assert run.served.sum() == 0


def test_huge_l_out_is_an_answer(clustered):
    wl = Workload.from_cluster(clustered, rate_per_s=0.1, num_requests=5, l_out=10**9)
    assert design_R(clustered, wl) >= 1
    run_policy(clustered, wl, "cg-bp", 0)  # no OverflowError


def test_clustered_builder_gives_server_pings(clustered):
    srv = clustered.server_rtt_s
    assert srv is not None and srv.shape == (9, 9)
    assert srv[0, 1] == pytest.approx(0.005) and srv[0, 5] == pytest.approx(0.100)


def test_server_pings_change_petals_routing_only(clustered):
    wl = Workload.from_cluster(clustered, rate_per_s=0.2, num_requests=80)
    no_ping = Cluster(
        clustered.name,
        clustered.model,
        clustered.servers,
        clustered.clients,
        clustered.rtt_s,
        clustered.prefill_rtt_s,
        clustered.prefill_rtt_per_token_s,
        clustered.jobs,
        clustered.network_rtt_s,
        dict(clustered.meta),
        None,
    )
    a = run_policy(clustered, wl, "cg-bp", 0)
    b = run_policy(no_ping, wl, "cg-bp", 0)
    assert np.array_equal(a.admit, b.admit)  # WS-RR does not use the pings


@pytest.mark.nojit
def test_server_pings_pick_petals_route():
    # A hosts 1..6 (slow); B 1..3 and C 4..6 (fast). Through the client (1 s round
    # trips) A wins: 0.518 + 0.3 + 0.5 = 1.318 s < 1.596 s; with a 1 ms ping between
    # B and C, B -> C wins: 0.518 + 0.03 + 0.0185 + 0.03 + 0.5 = 1.0965 s.
    from splitopt.placement.model import Placement
    from splitopt.placement.online import Prepared, run_prepared

    model = BlockModel(num_blocks=6, block_bytes=1.0, cache_bytes_per_token=1.0)
    servers = tuple(
        Server(n, memory_bytes=1e12, decode_s=d, prefill_s0=0.0, prefill_s1=0.0)
        for n, d in (("A", 0.05), ("B", 0.01), ("C", 0.01))
    )
    rtt = np.full((1, 3), 1.0)
    ping = np.full((3, 3), 0.001)
    pl = Placement(np.array([1, 1, 4]), np.array([6, 3, 3]))
    wl = Workload(0.01, 3, (Job(0, 2, 2),))
    routes = []
    for srv in (None, ping):
        cl = Cluster("abc", model, servers, ("c",), rtt, rtt, None, (), None, {}, srv)
        prep = Prepared("petals+petals", pl, np.full(3, 1e12), "petals")
        run = run_prepared(cl, wl, prep, 0, record_routes=True)
        routes.append(run.info["routes"][0])
    assert routes == [(0,), (1, 2)]


@pytest.mark.nojit
def test_authors_semantics_counts_cache_from_arrival(clustered):
    # a congested run: under the authors' rule a waiting request holds memory, so
    # later requests wait at least as long on the same placement
    wl = Workload.from_cluster(clustered, rate_per_s=2.0, num_requests=150)
    ours = run_policy(clustered, wl, "cg-bp", 0, {"R": 4})
    auth = run_policy(clustered, wl, "cg-bp", 0, {"R": 4}, semantics="authors")
    assert auth.policy.endswith("[authors-semantics]")
    assert auth.alloc_delay_s == pytest.approx(60.0 + 0.100)
    assert (ours.wait > 0).any()
    assert auth.response.mean() > ours.response.mean() + 60.0
    # rounded to retry instants: every positive wait (less the constants) is 1, 3, 7, ... s
    raw = auth.admit - auth.arrive
    pos = raw[raw > 0]
    steps = np.cumsum([min(2.0**k, 60.0) for k in range(40)])
    assert np.all(np.min(np.abs(pos[:, None] - steps[None, :]), axis=1) < 1e-6)


def test_legacy_authors_delays_unchanged_label(clustered):
    wl = Workload.from_cluster(clustered, rate_per_s=0.1, num_requests=30)
    run = run_policy(clustered, wl, "petals", 0, authors_delays=True)
    assert run.policy == "petals+petals[authors]" and run.alloc_delay_s == 250.0


def test_optimized_number_paper_uses_all_free_memory(clustered):
    wl = Workload.from_cluster(clustered, rate_per_s=0.1, num_requests=30)
    ours = prepare(clustered, wl, "petals-cg-counts", 0)
    paper = prepare(clustered, wl, "petals-cg-counts-paper", 0)
    assert np.array_equal(ours.placement.count, paper.placement.count)
    assert (paper.cap >= ours.cap).all() and (paper.cap > ours.cap).any()


def test_trace_replay_windows_and_scaling():
    t = np.arange(100, dtype=float) * 2.0  # 0.5 req/s
    wl = TraceWorkload.from_trace(t, np.full(100, 3000), np.arange(1, 101), 10, rate_per_s=1.0)
    a0, c0 = wl.sample(0)
    a1, _ = wl.sample(1)
    assert a0[0] == 0.0 and np.allclose(np.diff(a0), 1.0)  # time-scaled to 1 req/s
    assert np.array_equal(a0, a1)
    lens = [(wl.classes[k].l_in, wl.classes[k].l_out) for k in c0]
    assert lens[0] == (2047, 1) and all(i + o <= 2048 for i, o in lens)  # cut to the context
    _, c1 = wl.sample(1)
    assert wl.classes[c1[0]].l_out == 11  # the second window: rows 10..19
    with pytest.raises(Exception, match="do not fit"):
        TraceWorkload.from_trace(t, np.ones(100), np.ones(100), 101)


def test_shipped_traces_read_and_bad_trace_is_exit_2(tmp_path):
    from splitopt.errors import UserError
    from splitopt.formats.trace_file import read_trace

    tr = read_trace("instances/traces/AzureLLMInferenceTrace_code.csv")
    assert len(tr) == 8819 and tr.times_s[0] == 0.0 and 2.5 < tr.rate_per_s < 2.6
    bad = tmp_path / "t.csv"
    bad.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.1,12,x\n")
    with pytest.raises(UserError, match=r"t\.csv.*GeneratedTokens.*not a whole number"):
        read_trace(bad)


@pytest.mark.parametrize("family", ["llm-edge", "paper-like"])
def test_family_token_lengths_come_from_the_trace(family):
    from splitopt.families import get_scenario_family
    from splitopt.families.scenario_family import build, token_pairs

    base = get_scenario_family(family)
    fam = base.replace(token_lengths="azure-code")
    inst = build(fam, seed=3, size="tiny")
    prompts, outputs = token_pairs("azure-code")
    pairs = set(zip(prompts.tolist(), outputs.tolist(), strict=True))
    texts = [rc for rc in inst.scenario.requests if rc.output_tokens > 0]
    assert texts
    for rc in texts:
        ctx = inst.scenario.models[rc.model].architecture.max_context
        # a trace pair, or one cut to the model's context
        assert (
            rc.prompt_tokens,
            rc.output_tokens,
        ) in pairs or rc.prompt_tokens + rc.output_tokens == ctx
    plain = build(base, seed=3, size="tiny")
    assert [r.prompt_tokens for r in plain.scenario.requests] != [
        r.prompt_tokens for r in inst.scenario.requests
    ]
    with pytest.raises(Exception, match="unknown token_lengths"):
        base.replace(token_lengths="azure")


def test_simulate_cli_trace_options(tmp_path, capsys):
    from splitopt.cli import main

    cl = "instances/clusters/scenarios/paper-clustered-site0.json"
    tr = "instances/traces/AzureLLMInferenceTrace_code.csv"
    assert main(["simulate", cl, "--trace", tr, "--rate", "1"]) == 2
    assert main(["simulate", cl, "--trace-rate", "1"]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("when,in,out\n")
    assert main(["simulate", cl, "--trace", str(bad)]) == 2
    assert "bad.csv" in capsys.readouterr().err
    out = tmp_path / "sim.json"
    args = ["simulate", cl, "--trace", tr, "--trace-rate", "0.2", "--requests", "30"]
    rc = main(
        [*args, "--seeds", "2", "--policy", "cg-bp", "--semantics", "authors", "--json", str(out)]
    )
    assert rc == 0 and '"semantics": "authors"' in out.read_text()


def test_overload_is_warned_before_the_run(clustered):
    from splitopt.experiments.sim_inputs import overload_note

    heavy = Workload.from_cluster(clustered, rate_per_s=1e6, num_requests=200_000)
    assert "overloaded" in overload_note(clustered, heavy)
    light = Workload.from_cluster(clustered, rate_per_s=0.1, num_requests=200_000)
    assert overload_note(clustered, light) is None
    assert "unserved" in overload_note(_tiny(max_blocks=0), Workload(1.0, 5, (Job(0, 4, 4),)))


def test_sim_opt_rule_constant_is_the_committed_tuning():
    import json
    from pathlib import Path

    from splitopt.experiments.online import LOAD_SWEEP
    from splitopt.experiments.sim_opt_tuning import TRAIN_DRAWS, TRAIN_LOADS
    from splitopt.placement.online import SIM_OPT_RULE

    doc = json.loads(Path("paper/generated/sim_opt_rule.json").read_text())
    assert (doc["b"], doc["p"]) == SIM_OPT_RULE
    # training disjoint from evaluation: loads and topology draws
    for sc, rates in TRAIN_LOADS.items():
        assert not set(rates) & set(LOAD_SWEEP[sc])
    assert min(TRAIN_DRAWS) >= 10**6


def _petals_route_cost(route, first, count, hop0, pair, block, sink, L):
    cost, prev = 0.0, None
    nxt = 1
    for j in route:
        end = first[j] + count[j]
        cost += (hop0[j] if prev is None else pair[prev, j]) + (end - nxt) * block[j]
        nxt, prev = end, j
    return cost + sink[route[-1]]


def _chains(first, count, L):
    """Every server chain from block 1 to L (a server runs to the end of its span)."""
    out = []

    def go(route, nxt):
        if nxt == L + 1:
            out.append(tuple(route))
            return
        for j in range(len(first)):
            if count[j] > 0 and first[j] <= nxt < first[j] + count[j] and j not in route:
                go([*route, j], first[j] + count[j])

    go([], 1)
    return out


@pytest.mark.nojit
@pytest.mark.parametrize("seed", range(12))
def test_petals_server_dp_equals_brute_force(seed):
    from splitopt.placement.model import Placement
    from splitopt.placement.online import Prepared, run_prepared

    rng = np.random.default_rng(seed)
    S, L = int(rng.integers(2, 6)), int(rng.integers(2, 8))
    first = rng.integers(1, L + 1, S)
    count = np.array([int(rng.integers(1, L - f + 2)) for f in first])
    first[0], count[0] = 1, int(rng.integers(1, L + 1))  # block 1 hosted
    model = BlockModel(num_blocks=L, block_bytes=1.0, cache_bytes_per_token=1.0)
    scale = 10.0 ** rng.uniform(-3, 1, S)  # times over four magnitudes
    servers = tuple(
        Server(f"s{j}", memory_bytes=1e12, decode_s=float(scale[j]), prefill_s0=0.0,
               prefill_s1=0.0)
        for j in range(S)
    )  # fmt: skip
    net = rng.uniform(0.001, 0.3, (1, S))
    ping = rng.uniform(0.0005, 0.3, (S, S))
    cl = Cluster("r", model, servers, ("c",), net, net, None, (), net, {}, ping)
    pl = Placement(first, count)
    prep = Prepared("petals+petals", pl, np.full(S, 1e12), "petals")
    wl = Workload(0.01, 1, (Job(0, 1, 2),))
    run = run_prepared(cl, wl, prep, 0, record_routes=True)
    chains = _chains(first, count, L)
    hop0 = net[0] / 2 + 0.018
    args = (first, count, hop0, ping / 2 + 0.018, scale, net[0] / 2, L)
    if not chains:
        assert not run.served.any()
        return
    best = min(_petals_route_cost(ch, *args) for ch in chains)
    got = run.info["routes"][0]
    assert got in chains
    assert _petals_route_cost(got, *args) == pytest.approx(best, rel=1e-12)


def test_cluster_file_server_pings_round_trip_and_bad_shape(tmp_path):
    import json

    from splitopt.errors import UserError
    from splitopt.formats.cluster_file import cluster_to_dict, read_cluster, write_cluster

    cl = read_cluster("instances/clusters/paper-clustered.json")
    assert cl.server_rtt_s is not None  # a clustered network gives the servers' pings
    path = tmp_path / "c.json"
    write_cluster(cl, path)
    again = read_cluster(path)
    assert np.array_equal(again.server_rtt_s, cl.server_rtt_s)
    doc = cluster_to_dict(cl)
    doc["network"]["server_rtt_s"] = doc["network"]["server_rtt_s"][:-1]
    path.write_text(json.dumps(doc))
    with pytest.raises(UserError, match=r"network\.server_rtt_s.*one per server"):
        read_cluster(path)


@pytest.mark.slow
def test_trace_and_semantics_studies_report_every_cell(tmp_path):
    from splitopt.experiments import bprr_semantics, bprr_traces

    assert bprr_traces.main(["--requests", "20", "--seeds", "1", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "bprr_traces.md").read_text()
    rows = [ln for ln in md.splitlines() if ln.startswith("| clustered") or ln.startswith("| abvt")]
    assert len(rows) == 2 * 2 * 5  # clusters x rates x workloads
    assert "CC BY 4.0" in md and "Splitwise" in md
    assert bprr_semantics.main(["--runs", "1", "--requests", "10", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "bprr_semantics.md").read_text()
    assert sum(ln.startswith("| ") for ln in md.splitlines()) == 1 + 16  # header + cells
    assert "6.23 / 1.92" in md


@pytest.mark.parametrize("seed", range(12))
def test_offline_petals_server_route_equals_brute_force(seed):
    from splitopt.placement.model import Placement
    from splitopt.placement.petals import server_route

    rng = np.random.default_rng(100 + seed)
    S, L = int(rng.integers(2, 6)), int(rng.integers(2, 8))
    first = rng.integers(1, L + 1, S)
    count = np.array([int(rng.integers(1, L - f + 2)) for f in first])
    first[0], count[0] = 1, int(rng.integers(1, L + 1))
    enter, block, sink = (10.0 ** rng.uniform(-3, 1, S) for _ in range(3))
    pair = 10.0 ** rng.uniform(-3, 1, (S, S))
    cost, route = server_route(Placement(first, count), L, enter, pair, block, sink)
    chains = _chains(first, count, L)
    if not chains:
        assert route is None
        return
    best = min(_petals_route_cost(ch, first, count, enter, pair, block, sink, L) for ch in chains)
    assert route in chains and cost == pytest.approx(best, rel=1e-12)


def test_place_petals_uses_server_pings():
    from splitopt.formats.cluster_file import read_cluster

    cl = read_cluster("instances/clusters/paper-clustered.json")
    res = Petals(seed=1).solve(cl)
    assert res.status == "feasible"


def _one_block_server(free_cache: float):
    """One server hosting the one block of a model whose cache is 1 byte per token."""
    from splitopt.placement.model import Placement
    from splitopt.placement.online import Prepared

    model = BlockModel(num_blocks=1, block_bytes=1.0, cache_bytes_per_token=1.0)
    srv = (Server("s", memory_bytes=1.0 + free_cache, decode_s=0.1, prefill_s0=0.0,
                  prefill_s1=0.0),)  # fmt: skip
    rtt = np.full((1, 1), 0.01)
    cl = Cluster("one", model, srv, ("c",), rtt, rtt)
    pl = Placement(np.array([1]), np.array([1]))
    return cl, Prepared("cg-bp+ws-rr", pl, np.array([free_cache]), "ws-rr")


@pytest.mark.nojit
def test_authors_whole_slots_hold_with_several_classes():
    # a long request (1 + 9 tokens: 10 bytes of cache) at t = 0 and a short one (1 + 4:
    # 5 bytes) at 1 ms, 15 bytes free. By bytes both fit at once; in the authors' whole
    # slots of the design class's s_c (10 bytes) one slot is left, so the short request
    # waits for the long one and then for PETALS's next retry instant.
    from splitopt.placement.online import class_costs, run_prepared, slot_bytes

    cl, prep = _one_block_server(15.0)
    wl = TraceWorkload.from_trace(np.array([0.0, 0.001]), np.array([1, 1]), np.array([9, 4]), 2)
    long_, short = (int(k) for k in wl.sample(0)[1])
    assert (wl.classes[long_].l_out, wl.classes[short].l_out) == (9, 4)
    assert slot_bytes(class_costs(cl, wl.classes).need) == 10.0
    ours = run_prepared(cl, wl, prep, 0)
    assert np.allclose(ours.admit, ours.arrive)  # nothing waits by bytes
    auth = run_prepared(cl, wl, prep, 0, semantics="authors")
    assert auth.admit[0] == 0.0
    long_done = auth.admit[0] + auth.service[0]
    assert auth.admit[1] >= long_done - 1e-12  # one slot: the short one waits
    steps = 0.001 + np.cumsum([min(2.0**k, 60.0) for k in range(10)])
    assert np.min(np.abs(steps - auth.admit[1])) < 1e-9  # on a retry instant
    # 20 bytes free = two whole slots: both start at arrival, as by bytes
    cl2, prep2 = _one_block_server(20.0)
    two = run_prepared(cl2, wl, prep2, 0, semantics="authors")
    assert np.allclose(two.admit, two.arrive)


@pytest.mark.nojit
def test_authors_one_class_slots_are_the_matlab_rule():
    # one class of 10 bytes per block, 25 bytes free: floor(25 / 10) = 2 slots, so the
    # third of three simultaneous requests waits under the authors' semantics only
    from splitopt.placement.online import run_prepared

    cl, prep = _one_block_server(25.0)
    wl = TraceWorkload.from_trace(np.array([0, 1e-3, 2e-3]), np.ones(3), np.full(3, 9), 3)
    assert len(wl.classes) == 1
    auth = run_prepared(cl, wl, prep, 0, semantics="authors")
    assert np.allclose(auth.admit[:2], auth.arrive[:2]) and auth.admit[2] > auth.arrive[2]
    ours = run_prepared(cl, wl, prep, 0)
    assert np.allclose(ours.admit[:2], ours.arrive[:2]) and ours.admit[2] > ours.arrive[2]
    # by bytes (ours) the third waits for the first to finish, no retry rounding
    assert ours.admit[2] == pytest.approx(ours.admit[0] + ours.service[0])
    assert auth.admit[2] > ours.admit[2]


def test_authors_semantics_jffc_delays_without_retry_rounding(clustered):
    # GBP-CR + JFFC is not in the authors' code: under 'authors' it gets the delays of
    # the authors' own method (60 s + the 100 ms initial delay), and its central queue
    # hands a request over the moment a slot frees (no retry instants; ours)
    wl = Workload.from_cluster(clustered, rate_per_s=3.0, num_requests=200)
    auth = run_policy(clustered, wl, "gbp-cr+jffc", 0, semantics="authors")
    assert auth.alloc_delay_s == pytest.approx(60.0 + 0.100)
    raw = auth.admit - auth.arrive
    pos = raw[raw > 1e-9]
    assert pos.size > 0  # requests queue
    steps = np.cumsum([min(2.0**k, 60.0) for k in range(40)])
    off_grid = np.min(np.abs(pos[:, None] - steps[None, :]), axis=1) > 1e-6
    assert off_grid.any()
    # each queued request starts exactly when an earlier one (delay included) finishes
    done = auth.admit + auth.alloc_delay_s + auth.service
    for r in np.flatnonzero(raw > 1e-9):
        assert np.min(np.abs(done[:r] - auth.admit[r])) < 1e-9
