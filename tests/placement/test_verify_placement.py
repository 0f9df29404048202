"""The verify-placement runner: deterministic instances, agreement rule, harness resume."""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitopt.experiments.harness import read_csv_rows
from splitopt.families.clusters import cluster_instance, tiny_cluster
from splitopt.placement.model import Placement
from splitopt.placement.result import PlacementResult
from splitopt.verify_placement import agree, false_optimum, main, run_verify
from tests.placement.hand import two_by_two


def test_instances_are_reproducible_and_in_range() -> None:
    for i in range(30):
        a, b = cluster_instance("tiny", 4, i), cluster_instance("tiny", 4, i)
        assert np.array_equal(a.rtt_s, b.rtt_s) and a.jobs == b.jobs
        assert 2 <= a.num_servers <= 4 and 2 <= a.num_blocks <= 5 and 1 <= len(a.jobs) <= 3
    small = tiny_cluster(np.random.default_rng(1), max_servers=2, max_blocks=2, max_jobs=1)
    assert small.num_servers == 2 and small.num_blocks == 2 and len(small.jobs) == 1


@pytest.mark.parametrize("family", ["wide", "edge", "huge"])
def test_wide_range_families_reach_their_regions(family: str) -> None:
    clusters = [cluster_instance(family, 0, i) for i in range(40)]
    for c in clusters:
        assert 3 <= c.num_servers <= 4 and 3 <= c.num_blocks <= 5 and 2 <= len(c.jobs) <= 4
    times = [s.decode_s for c in clusters for s in c.servers if s.decode_s > 0]
    assert max(times) / min(times) > 1e9  # many orders of magnitude (decoys included)
    if family == "huge":
        assert any(s.memory_bytes == 1e308 for c in clusters for s in c.servers)
        assert all(c.model.block_bytes >= 1e200 for c in clusters)


def test_edge_family_puts_memories_next_to_a_load() -> None:
    """Every memory is within 1e-6 relative of a load s_m m + Σ_{some jobs} s_c(r) k,
    on both sides of it, and mostly not exactly on it."""
    import itertools

    below = above = on = 0
    for i in range(30):
        c = cluster_instance("edge", 1, i)
        s_m, L = c.model.block_bytes, c.num_blocks
        s_c = [c.model.cache_bytes(j.l_in, j.l_out) for j in c.jobs]
        loads = {
            s_m * m + sum(s_c[r] for r in sub) * k
            for m in range(1, L + 1)
            for k in range(1, m + 1)
            for n in range(len(s_c) + 1)
            for sub in itertools.combinations(range(len(s_c)), n)
        }
        for s in c.servers:
            rel = min((s.memory_bytes - x) / x for x in loads if x > 0)
            best = min((abs(s.memory_bytes - x) / x, (s.memory_bytes - x) / x) for x in loads)
            assert best[0] <= 1e-6 * (1 + 1e-9), (i, s.id, rel)
            below += best[1] < 0
            above += best[1] > 0
            on += best[1] == 0
    assert below > 10 and above > 10 and on < below + above


def test_agree_and_false_optimum_rules() -> None:
    c = two_by_two()
    good = PlacementResult.build(c, "x", "optimal", Placement.from_ranges([None, (1, 2)]), [(1,)])
    worse = PlacementResult.build(c, "y", "optimal", Placement.from_ranges([(1, 2), None]), [(0,)])
    none = PlacementResult.build(c, "z", "infeasible", None)
    late = PlacementResult.build(c, "w", "time_limit", None)
    assert good.objective == pytest.approx(1.5) and worse.objective == pytest.approx(3.0)
    assert agree(good, good) and agree(none, none)
    assert not agree(good, worse) and not agree(good, none)
    assert false_optimum(good, worse) and false_optimum(good, none)
    assert not false_optimum(good, good) and not false_optimum(good, late)
    assert not false_optimum(none, none) and false_optimum(none, good)


def test_run_verify_writes_and_resumes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "v.csv"
    first = run_verify(3, seed=2, backends=("highs",), csv_path=path)
    assert first.disagreements == 0 and first.comparisons == 3 and first.false_optima == 0
    assert len(read_csv_rows(path)) == 3
    mtimes = {r["index"]: r["runtime_s"] for r in read_csv_rows(path)}
    again = run_verify(4, seed=2, backends=("highs",), csv_path=path)
    assert [int(r["index"]) for r in again.rows] == [0, 1, 2, 3]
    rows = read_csv_rows(path)
    assert len(rows) == 4  # only instance 3 was added; 0-2 kept as they were
    assert all(r["runtime_s"] == mtimes[r["index"]] for r in rows if r["index"] in mtimes)
    assert again.disagreements == 0
    assert "0 disagreements" in again.summary() and "0 false optima" in again.summary()


def test_wide_family_rows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rep = run_verify(2, seed=0, backends=("highs",), csv_path=tmp_path / "w.csv", family="wide")
    assert rep.false_optima == 0 and rep.task_errors == 0 and rep.comparisons == 2
    assert not math.isnan(rep.mean_runtime("highs"))


def test_command_line(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "s.json"
    rc = main(["--count", "2", "--backends", "highs", "--csv", str(tmp_path / "c.csv"),
               "--json", str(out)])  # fmt: skip
    assert rc == 0 and '"false_optima": 0' in out.read_text()
    assert main(["--family", "nope", "--count", "1"]) == 2
    assert "unknown cluster family" in capsys.readouterr().err


def test_old_module_says_where_it_moved(capsys) -> None:  # type: ignore[no-untyped-def]
    from splitopt.placement.verify import main as old_main

    assert old_main([]) == 2
    assert "splitopt.verify_placement" in capsys.readouterr().err


def test_catalogue_runs_both_tiny_and_wide_range_families() -> None:
    import splitopt.experiments  # noqa: F401  (registers the catalogue)
    from splitopt.experiments.harness import experiment_tasks

    tiny = list(experiment_tasks("verify-placement", 0, 1, True))
    wide = list(experiment_tasks("verify-placement-wide", 0, 1, True))
    assert len(tiny) == 50 and {t.experiment for t in tiny} == {"verify-placement"}
    fams = {dict(t.params).get("family") for t in wide}
    assert fams == {"wide", "edge", "huge"} and len({t.key for t in wide}) == len(wide) == 60
    assert all(dict(t.params)["time_limit"] == 10.0 for t in wide)
