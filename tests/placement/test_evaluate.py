"""The placement evaluator against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitopt.placement.evaluate import evaluate, hop_blocks, score_job, session_capacity
from splitopt.placement.model import Job, Placement
from splitopt.placement.result import PlacementResult
from tests.placement.conftest import HAND_PLACEMENT, hand_cluster

P = HAND_PLACEMENT  # s0: 1..2, s1: 2..4, s2: 1..4; L = 4


@pytest.mark.parametrize(
    ("route", "blocks"),
    [
        ((0, 1), (2, 2)),  # s1 from block 3: k = 2 + 3 - 3
        ((2,), (4,)),
        ((0, 2), (2, 2)),  # s2 hosts 1..4, next needed is 3
        ((1,), None),  # dummy source ends at 0: first server must host block 1
        ((0,), None),  # ends after block 2: does not reach the dummy sink at L + 1
        ((2, 0), None),  # after block 4 nothing may follow (next needed is L + 1)
        ((0, 1, 2), None),
        ((), None),
        ((5,), None),
    ],
)
def test_hop_rule(route: tuple[int, ...], blocks: tuple[int, ...] | None) -> None:
    assert hop_blocks(P, route, 4) == blocks


def test_hop_rule_skips_nothing_and_needs_overlap() -> None:
    gap = Placement.from_ranges([(1, 1), (3, 2)])  # block 2 hosted nowhere
    assert hop_blocks(gap, (0, 1), 4) is None
    empty = Placement.from_ranges([(1, 4), None])
    assert hop_blocks(empty, (1,), 4) is None


def test_times_by_hand() -> None:
    c = hand_cluster()
    js = score_job(c, P, Job(0, 10, 5), (0, 1))
    # prefill: s0: 0.1 + 0.001*10 + 2*(0.5 + 0.01*10) = 1.31; s1: 0.2 + 0.002*10 + 2*1.0 = 2.22
    assert js.prefill_s == pytest.approx(3.53)
    # per token: s0: 0.01 + 2*0.1 = 0.21; s1: 0.02 + 2*0.2 = 0.42; times l_out - 1 = 4
    assert js.decode_s == pytest.approx(4 * 0.63)
    assert js.total_s == pytest.approx(6.05)
    assert js.per_token_s == pytest.approx(6.05 / 5)
    one = score_job(c, P, Job(0, 10, 1), (2,))
    assert one.decode_s == 0.0  # l_out = 1: only the prefill
    assert one.total_s == pytest.approx(0.3 + 4 * 0.2)


def test_memory_accounting_by_hand() -> None:
    c = hand_cluster(jobs=(Job(0, 10, 5), Job(0, 1, 1)))
    sc = evaluate(c, P, [(0, 1), (0, 2)])
    # s_c = 15 and 2 B per block; s0: 20 + 15*2 + 2*2; s1: 30 + 15*2; s2: 40 + 2*2
    assert sc.memory_used.tolist() == pytest.approx([54.0, 60.0, 44.0])
    assert sc.feasible and sc.memory_ok.all()
    assert sc.objective == pytest.approx(sum(j.total_s for j in sc.jobs))
    assert sc.mean_per_token_s == pytest.approx(np.mean([j.per_token_s for j in sc.jobs]))


def test_memory_overflow_is_infeasible() -> None:
    c = hand_cluster(memory=59.0, jobs=(Job(0, 10, 5), Job(0, 1, 1)))
    sc = evaluate(c, P, [(0, 1), (0, 2)])
    assert not sc.feasible and sc.placement_ok
    assert sc.memory_ok.tolist() == [True, False, True]
    assert "s1" in sc.reason and math.isinf(sc.objective)


def test_infeasible_route_and_bad_placement() -> None:
    c = hand_cluster()
    sc = evaluate(c, P, [(1,)])
    assert not sc.feasible and "job 0" in sc.reason and "next block needed is 1" in sc.reason
    out = Placement.from_ranges([(3, 3), None, None])
    assert "outside 1..4" in evaluate(c, out, [(0,)]).reason
    capped = hand_cluster().servers[2]
    assert capped.max_blocks == 4
    tight = hand_cluster(memory=25.0)
    assert "need" in evaluate(tight, P, [(0, 1)]).reason  # 3 blocks of 10 B > 25 B


def test_result_downgrades_rejected_answers() -> None:
    c = hand_cluster()
    ok = PlacementResult.build(c, "x", "feasible", P, [(0, 1)])
    assert ok.status == "feasible" and ok.objective == pytest.approx(6.05)
    bad = PlacementResult.build(c, "x", "optimal", P, [(1,)])
    assert bad.status == "error" and "evaluator rejects" in bad.message


def test_session_capacity() -> None:
    c = hand_cluster()
    cap = session_capacity(c, P, 10, 5)  # s_c = 15 per block
    # s0: (100 - 20) / (15*2) = 2.67; s1: 70 / 45; s2: 60 / 60
    assert cap.tolist() == [2, 1, 1]
