"""Result's check of the solvers' claims (statuses against the evaluator), done over
all requests at once: the same statuses and messages as one request at a time."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.evaluate import evaluate
from splitopt.solution import STATUSES, Result
from tests.conftest import as_problem, random_chains

FAULT = "solver returned a placement the evaluator finds infeasible"


def _one_by_one(statuses, ev, messages):  # type: ignore[no-untyped-def]
    """The rule request by request (what Result did before it was vectorised)."""
    sts, msgs = list(statuses), list(messages)
    for i, (s, x) in enumerate(zip(sts, ev.on_server, strict=True)):
        if s in ("optimal", "feasible") and (x is None or not ev.feasible[i]):
            sts[i], msgs[i] = "error", FAULT
    return sts, msgs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_claims_checked_as_one_by_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    problem = as_problem(random_chains(seed, 40, integer=seed % 2 == 0))
    placements = [
        None if rng.random() < 0.2 else rng.random(r.chain.num_layers) < 0.5
        for r in problem.requests
    ]
    statuses = [STATUSES[k] for k in rng.integers(0, len(STATUSES), len(problem))]
    messages = [None if rng.random() < 0.5 else f"note {i}" for i in range(len(problem))]
    res = Result.build(problem, "x", statuses, placements, 0.0, messages=messages)
    want_sts, want_msgs = _one_by_one(statuses, evaluate(problem, placements), messages)
    assert list(res.statuses) == want_sts
    assert list(res.messages) == want_msgs
    # the draw holds each case: a claim the evaluator refuses, one without a placement
    assert "error" in res.statuses and any(
        s in ("optimal", "feasible") and p is None
        for s, p in zip(statuses, placements, strict=True)
    )


def test_unknown_status_named() -> None:
    problem = as_problem(random_chains(3, 3, integer=True))
    with pytest.raises(ValueError, match="unknown status 'solved'"):
        Result.build(problem, "x", ["infeasible", "solved", "bogus"], [None] * 3, 0.0)
    with pytest.raises(ValueError, match=r"unknown status \['optimal'\]"):
        Result.build(problem, "x", ["infeasible", ["optimal"], "error"], [None] * 3, 0.0)
    with pytest.raises(ValueError, match="2 statuses for 3 requests"):
        Result.build(problem, "x", ["infeasible"] * 2, [None] * 3, 0.0)


@pytest.mark.parametrize("case", ["distinct", "repeats", "one length", "one length, all placed"])
def test_evaluate_flat_same_as_per_chain(case: str) -> None:
    """evaluate_flat (the batched solvers' scoring) gives evaluate_chains' figures and
    placements, whether every request has its own chain or chains repeat, and where
    every chain has one length and a placement (its rows cut at C speed)."""
    from splitopt.evaluate import evaluate_chains, evaluate_flat
    from splitopt.ragged import batch_of

    one = case.startswith("one length")
    if one:
        from splitopt.families.random_chain import random_chain

        gen = np.random.default_rng(4)
        chains = [random_chain(gen, 6) for _ in range(90)]
    else:
        chains = random_chains(5, 90, integer=False)
    if case == "repeats":
        chains = chains + chains[::3]
    problem = as_problem(chains)
    rng = np.random.default_rng(5)
    k = len(problem.chains)
    assert (k < len(problem)) == (case == "repeats")
    placed = case.endswith("all placed")
    xs = [
        None if not placed and rng.random() < 0.2 else rng.random(c.num_layers) < 0.5
        for c in problem.chains
    ]
    assert all(x is not None for x in xs) == placed
    have = np.array([x is not None for x in xs])
    flat = np.concatenate(
        [
            np.zeros(c.num_layers, bool) if x is None else x
            for c, x in zip(problem.chains, xs, strict=True)
        ]
    )
    assert flat.shape == (int(batch_of(problem).offsets[-1]),)
    got, want = evaluate_flat(problem, flat, have), evaluate_chains(problem, xs)
    for f in ("latency_s", "server_work", "client_memory_bytes", "feasible", "weights"):
        np.testing.assert_array_equal(getattr(got, f), getattr(want, f))
    assert got.placements == want.placements
    assert all(p is None or type(p) is str for p in got.placements)
    assert [None if x is None else x.tolist() for x in got.on_server] == [
        None if x is None else x.tolist() for x in want.on_server
    ]
    assert all(x is None or (not x.flags.writeable and x.ndim == 1) for x in got.on_server)
