"""splitopt.discretise: rounding to ticks (SPEC §3) and the Discretisation value."""

from __future__ import annotations

import itertools
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splitopt.discretise import (
    AUTO_GRID_BYTES,
    DEFAULT_GRID,
    Discretisation,
    ceil_ticks,
    default_grid,
    floor_ticks,
    memory_tick,
    tick_chain,
    tick_problem,
)
from splitopt.errors import GridError
from splitopt.evaluate import score
from splitopt.problem import Chain
from tests.conftest import as_problem, random_chains
from tests.test_properties import chains

SETTINGS = settings(max_examples=50, deadline=None)


def _all_placements(num_layers: int):
    for bits in itertools.product((False, True), repeat=num_layers):
        yield np.array(bits)


def _ticked_usage(t, x: np.ndarray) -> tuple[int, int]:
    """Latency and memory of placement x on a ticked chain, in ticks."""
    prev = np.concatenate([[t.start_server], x])
    cur = np.concatenate([x, [t.end_server]])
    lat = np.where(x, t.server, t.client).sum()
    lat += np.where(~prev & cur, t.up, 0).sum() + np.where(prev & ~cur, t.down, 0).sum()
    mem = 0 if t.memory is None else int(np.where(x, 0, t.memory).sum())
    return int(lat), mem


def _ticked_feasible(t, x) -> bool:
    lat, mem = _ticked_usage(t, x)
    return lat <= t.sla and (t.budget is None or mem <= t.budget)


# ---------------------------------------------------------------------- properties


@SETTINGS
@given(chains(integer=False, max_layers=6), st.sampled_from([1, 3, 10, 100, None]))
def test_rounding_is_conservative_and_relaxed_is_a_relaxation(chain, grid):
    """Feasible on the ticked chain => feasible on the real one (SPEC §3); feasible on the
    real one => feasible on the relaxed (floor-rounded) chain."""
    d = Discretisation(grid=grid)
    up = d.tick(chain)
    down = d.tick(chain, relax=True)
    for x in _all_placements(chain.num_layers):
        real = score(chain, x).feasible
        if _ticked_feasible(up, x):
            assert real
        if real:
            assert _ticked_feasible(down, x)


@SETTINGS
@given(chains(integer=True, max_layers=6))
def test_tick_one_on_whole_numbers_is_exact(chain):
    t = tick_chain(chain, tick=1.0)
    assert t.exact
    # whole numbers unchanged, clamped to D + 1 (an item alone over the SLA stays out)
    assert np.array_equal(t.client, np.minimum(chain.client_time_s, t.sla + 1).astype(np.int64))
    assert t.sla == math.floor(chain.sla_s)
    back = t.to_chain()
    for x in _all_placements(chain.num_layers):
        assert score(back, x).feasible == score(chain, x).feasible


@SETTINGS
@given(st.floats(1e-300, 1e300), st.floats(1e-300, 1e300))
def test_ceil_and_floor_ticks_bracket_the_ratio(x, tick):
    c = int(ceil_ticks(np.array([x]), tick)[0])
    f = floor_ticks(x, tick)
    r = x / tick
    assert f <= c
    if r < 2**50:
        assert c >= r * (1 - 1e-9) and f <= r * (1 + 1e-9)


@pytest.mark.nojit
def test_default_grid_rule():
    assert default_grid(1) == DEFAULT_GRID
    assert default_grid(20) == 100 * 41
    # issue 9: past ~5,000 layers the grid is capped by the tables' memory, not 20,000
    assert default_grid(10_000) == AUTO_GRID_BYTES // (2 * 10_000 + 32) - 1
    assert all(default_grid(L) <= default_grid(L + 1) for L in range(1, 200))


@pytest.mark.nojit
def test_unconstrained_memory_has_one_encoding():
    c = random_chains(1, 1, integer=True)[0]
    no_budget = c.replace(memory_budget_bytes=None)
    t = tick_chain(no_budget, tick=1.0)
    assert t.memory is None and t.budget is None and t.mem_tick_bytes is None
    assert t.to_chain().memory_budget_bytes is None
    assert memory_tick(no_budget) is None


@pytest.mark.nojit
def test_exact_integer_memory_tick():
    c = Chain([1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.0] * 3, [0.0] * 3, [4.0, 6.0], 5.0, 10.0)
    mu, exact = memory_tick(c)
    assert mu == 2.0 and exact
    assert memory_tick(c, mem_grid=3) == (10.0 / 3, False)


# ------------------------------------------------------------------ Discretisation


@pytest.mark.nojit
@pytest.mark.parametrize(
    "kwargs",
    [
        {"grid": 10, "tick_s": 1.0},
        {"mem_grid": 10, "mem_tick_bytes": 1.0},
        {"grid": 0},
        {"grid": 2.5},
        {"grid": True},
        {"tick_s": -1.0},
        {"tick_s": math.inf},
        {"mem_tick_bytes": math.nan},
        {"mem_grid": "3"},
    ],
)
def test_discretisation_rejects_bad_settings(kwargs):
    with pytest.raises(GridError):
        Discretisation(**kwargs)


@pytest.mark.nojit
def test_discretisation_is_a_serialisable_value():
    d = Discretisation(grid=500, mem_tick_bytes=64.0)
    assert d == Discretisation.from_options(**d.to_options())
    assert d.to_options() == {"grid": 500, "mem_tick": 64.0}
    assert pickle.loads(pickle.dumps(d)) == d and hash(d) == hash(
        Discretisation(500, None, None, 64)
    )
    assert Discretisation().is_default and Discretisation().to_options() == {}
    assert not d.is_default and d.fixes_time
    with pytest.raises(AttributeError):
        d.grid = 3  # type: ignore[misc]


@SETTINGS
@given(chains(integer=False, max_layers=8), st.sampled_from([7, 100, None]))
def test_discretisation_matches_tick_chain(chain, grid):
    d = Discretisation(grid=grid)
    a, b = d.tick(chain), tick_chain(chain, grid=grid)
    assert (a.sla, a.tick_s, a.exact) == (b.sla, b.tick_s, b.exact)
    assert np.array_equal(a.client, b.client) and np.array_equal(a.up, b.up)
    n = default_grid(chain.num_layers) if grid is None else grid
    assert d.time_tick(chain) == chain.sla_s / n


def test_tick_problem_takes_a_value_or_options():
    problem = as_problem(random_chains(5, 6, integer=False))
    a = tick_problem(problem, Discretisation(grid=50))
    b = tick_problem(problem, grid=50)
    assert a == b
    assert tick_problem(problem) == tick_problem(problem, Discretisation())
    with pytest.raises(GridError):
        tick_problem(problem, Discretisation(grid=50), grid=50)
    for c in a.chains:
        assert np.all(c.client_time_s == np.round(c.client_time_s))
