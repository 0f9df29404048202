"""Scattered / clustered scenarios of the BPRR paper and the bprr experiments."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.errors import DataError
from splitopt.experiments.harness import experiment_tasks, list_experiments
from splitopt.experiments.online import run_row, table
from splitopt.scenario.topologies import (
    FIBRE_KM_PER_S,
    clustered_cluster,
    scattered_cluster,
    topology_rtt,
)


def test_topology_rtt_is_twice_the_shortest_path_delay():
    rtt, names = topology_rtt("abvt")
    assert rtt.shape == (len(names), len(names)) == (22, 22)
    assert np.allclose(rtt, rtt.T) and np.all(np.diag(rtt) == 0)
    # triangle inequality of shortest paths
    assert np.isfinite(rtt).all()
    assert np.all(rtt[:, None, :] <= rtt[:, :, None] + rtt[None, :, :] + 1e-12)
    import networkx as nx
    import topohub

    g = nx.node_link_graph(topohub.get("topozoo/Abvt"), edges="edges")
    u, v, d = next(iter(g.edges(data=True)))
    i, j = list(g.nodes).index(u), list(g.nodes).index(v)
    assert rtt[i, j] <= 2 * d["dist"] / FIBRE_KM_PER_S + 1e-15


def test_scattered_draw_follows_the_paper_mix():
    cl = scattered_cluster("bellcanada", seed=3, num_servers=10, eta=0.2)
    kinds = [s.id.split("-")[0] for s in cl.servers]
    assert kinds.count("a100") == 2 and kinds.count("mig") == 8
    assert cl.num_clients == 1 and cl.num_servers == 10
    # per-token RTT = network RTT + the paper's 100 ms overhead
    np.testing.assert_allclose(cl.rtt_s - cl.network_rtt_s, 0.1)
    assert scattered_cluster("bellcanada", 3, num_servers=10).rtt_s.tobytes() == cl.rtt_s.tobytes()
    sub = scattered_cluster("gtsce", 0)
    assert "TataNld" in sub.meta["substitute"]
    with pytest.raises(DataError):
        scattered_cluster("abvt", 0, num_servers=40)
    with pytest.raises(DataError):
        scattered_cluster("no-such-graph", 0)


def test_clustered_one_client():
    cl = clustered_cluster(0)
    assert cl.num_clients == 1 and cl.num_servers == 9
    np.testing.assert_allclose(cl.network_rtt_s, 0.1)  # site 0 is 100 ms from every server


def test_experiments_registered_and_rows():
    assert {"bprr-tables", "bprr-load"} <= set(list_experiments())
    tasks = list(experiment_tasks("bprr-tables", 0, 1, True))
    assert len(tasks) == 4 * 2 * 2 * 2 * 4 * 5
    # one size for every BPRR table: Tables III/VI, their MILP bound, the ablations, the
    # semantics table and the sweeps all run 10 Monte-Carlo runs per cell
    from splitopt.experiments.bprr_sweeps import RUNS
    from splitopt.experiments.online import TABLE_RUNS

    assert TABLE_RUNS[0] == RUNS[0] == 10
    for name in ("bprr-tables", "bprr-bound", "bprr-ablation"):
        runs = {t.param_dict()["run"] for t in experiment_tasks(name, 0, 1, False)}
        assert runs == set(range(10)), name
    row = run_row("abvt", 0.1, 64, "cg-bp+ws-rr", 0, num_requests=10)
    assert row["served"] == 1.0 and row["per_token_mean"] > 0 and "R" in row
    rows = [
        {
            "scenario": "clustered",
            "rate": "0.1",
            "l_out": "64",
            "delays": "none",
            "policy": p,
            "per_token_mean": str(v),
        }
        for p, v in (
            ("petals+petals", 2.0),
            ("petals+petals", 2.2),
            ("cg-bp+ws-rr", 1.0),
            ("cg-bp+ws-rr", 1.0),
        )
    ]
    md = table(rows)
    assert "6.23 / 1.92 (-69 %)" in md and "-52 %" in md


def test_shipped_scenarios_regenerate_byte_for_byte(tmp_path):
    import importlib.util
    from pathlib import Path

    here = Path(__file__).resolve().parents[2] / "instances/clusters/scenarios"
    spec = importlib.util.spec_from_file_location("make_scenarios", here / "make_scenarios.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(tmp_path)
    files = sorted(here.glob("*.json"))
    assert len(files) == 4
    for path in files:
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name
