"""The verify-placement runner: deterministic instances, agreement rule, CSV resume."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.placement.result import PlacementResult
from splitopt.placement.verify import agree, instance, run_verify, tiny_cluster
from tests.placement.hand import two_by_two


def test_instances_are_reproducible_and_in_range() -> None:
    for i in range(30):
        a, b = instance(4, i), instance(4, i)
        assert np.array_equal(a.rtt_s, b.rtt_s) and a.jobs == b.jobs
        assert 2 <= a.num_servers <= 4 and 2 <= a.num_blocks <= 5 and 1 <= len(a.jobs) <= 3
    small = tiny_cluster(np.random.default_rng(1), max_servers=2, max_blocks=2, max_jobs=1)
    assert small.num_servers == 2 and small.num_blocks == 2 and len(small.jobs) == 1


def test_agree_rule() -> None:
    c = two_by_two()
    from splitopt.placement.model import Placement

    good = PlacementResult.build(c, "x", "optimal", Placement.from_ranges([None, (1, 2)]), [(1,)])
    worse = PlacementResult.build(c, "y", "optimal", Placement.from_ranges([(1, 2), None]), [(0,)])
    none = PlacementResult.build(c, "z", "infeasible", None)
    assert good.objective == pytest.approx(1.5) and worse.objective == pytest.approx(3.0)
    assert agree(good, good) and agree(none, none)
    assert not agree(good, worse) and not agree(good, none)


def test_run_verify_writes_and_resumes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "v.csv"
    first = run_verify(3, seed=2, backends=("highs",), csv_path=path)
    assert first.disagreements == 0 and first.comparisons == 3
    assert len(path.read_text().splitlines()) == 4  # header + 3 rows
    again = run_verify(4, seed=2, backends=("highs",), csv_path=path)
    assert [r["index"] for r in again.rows] == [0, 1, 2, 3]
    assert len(path.read_text().splitlines()) == 5  # only instance 3 was added
    assert again.disagreements == 0
    assert "0 disagreements" in again.summary()
