"""bprr-brute: hand-checked cases, its route enumeration, its pruning against a naive search."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from splitopt.errors import SolverError
from splitopt.families.clusters import tiny_cluster
from splitopt.placement import get_algorithm
from splitopt.placement.brute import BPRRBrute, all_routes, count_placements, server_options
from splitopt.placement.evaluate import evaluate
from splitopt.placement.model import Placement
from tests.placement.conftest import HAND_PLACEMENT, hand_cluster
from tests.placement.hand import HAND_CASES, two_by_two


@pytest.mark.parametrize("case", sorted(HAND_CASES))
def test_hand_cases(case: str) -> None:
    make, expected = HAND_CASES[case]
    res = get_algorithm("bprr-brute").solve(make())
    if expected is None:
        assert res.status == "infeasible" and res.placement is None
    else:
        assert res.status == "optimal"
        assert res.objective == pytest.approx(expected, rel=1e-12)


def test_routes_of_a_known_placement() -> None:
    """s0 hosts 1..2, s1 2..4, s2 1..4 (L = 4): s0 -> s1, s0 -> s2 and s2 alone."""
    p = HAND_PLACEMENT
    routes = all_routes(tuple(p.first.tolist()), tuple(p.count.tolist()), 4)
    assert sorted(routes) == [((0, 1), (2, 2)), ((0, 2), (2, 2)), ((2,), (4,))]


def test_server_options_respect_cap_and_memory() -> None:
    c = two_by_two(memory=(1000.0, 3.0), cap1=None)  # s1 fits one 2 B block
    opts = server_options(c)
    assert opts[0] == [(0, 0), (1, 1), (2, 1), (1, 2)]
    assert opts[1] == [(0, 0), (1, 1), (2, 1)]
    assert count_placements(c) == 12


def test_refuses_large_clusters() -> None:
    c = hand_cluster()
    with pytest.raises(SolverError, match="max_placements"):
        BPRRBrute(max_placements=10).solve(c)


def test_bad_options() -> None:
    with pytest.raises(SolverError):
        BPRRBrute(max_placements=0)
    with pytest.raises(SolverError):
        get_algorithm("bprr-brute", colour=1)


def naive(cluster) -> float:  # type: ignore[no-untyped-def]
    """Every placement x every route per job, scored by the evaluator (no pruning)."""
    best = math.inf
    L = cluster.num_blocks
    for combo in itertools.product(*server_options(cluster)):
        first = tuple(a for a, _ in combo)
        count = tuple(m for _, m in combo)
        routes = [r for r, _ in all_routes(first, count, L)]
        p = Placement(np.array(first), np.array(count))
        for choice in itertools.product(routes, repeat=len(cluster.jobs)):
            s = evaluate(cluster, p, choice)
            if s.feasible:
                best = min(best, s.objective)
    return best


def test_pruned_search_equals_naive_search() -> None:
    seen = set()
    for i in range(40):
        c = tiny_cluster(np.random.default_rng([99, i]), max_servers=3, max_blocks=3, max_jobs=2)
        res = BPRRBrute().solve(c)
        want = naive(c)
        seen.add(res.status)
        if math.isinf(want):
            assert res.status == "infeasible"
        else:
            assert res.status == "optimal"
            assert res.objective == pytest.approx(want, rel=1e-12)
    assert seen == {"optimal", "infeasible"}


def test_no_jobs() -> None:
    res = BPRRBrute().solve(two_by_two(jobs=0))
    assert res.status == "optimal" and res.objective == 0.0


def test_size_is_checked_before_any_range_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """L = 100,000 on one server: refused from the count alone (it used to list
    ~5e9 ranges first and die with MemoryError)."""
    import numpy as np

    import splitopt.placement.brute as brute
    from splitopt.placement.model import BlockModel, Cluster, Job, Server

    def no_listing(cluster):  # type: ignore[no-untyped-def]
        raise AssertionError("ranges listed before the size check")

    monkeypatch.setattr(brute, "server_options", no_listing)
    big = Cluster(
        "big",
        BlockModel(100_000, 1.0, 0.0),
        (Server("s0", 1e6, 0.1, 0.1),),
        ("c",),
        np.zeros((1, 1)),
        np.zeros((1, 1)),
        None,
        (Job(0, 1, 1),),
    )
    with pytest.raises(SolverError, match="max_placements"):
        brute.BPRRBrute().solve(big)
    assert count_placements(big) == 1 + 100_000 * 100_001 // 2


def test_count_placements_matches_the_listing() -> None:
    for i in range(20):
        c = tiny_cluster(np.random.default_rng([5, i]))
        assert count_placements(c) == math.prod(len(o) for o in server_options(c))
