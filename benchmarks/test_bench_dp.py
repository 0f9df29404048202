"""Grid DP and label DP speed on 32- and 80-layer block chains.

Cell updates per second = DP states (layer × location × time tick [× memory
tick]) divided by the median solve time. JIT compilation is excluded by warm-up
rounds. Run: ``make bench`` or ``.venv/bin/python -m pytest benchmarks -k dp``.
"""

from __future__ import annotations

import pytest

from benchmarks.chains import block_chain
from splitopt.discretise import tick_chain
from splitopt.solvers.dp import run_grid_dp, solve_labels, state_count
from splitopt.solvers.kernels import warm_up

warm_up()


@pytest.mark.parametrize("memory", [False, True], ids=["latency", "memory"])
@pytest.mark.parametrize("grid", [1000, 10000])
@pytest.mark.parametrize("layers", [32, 80])
def test_grid_dp(benchmark, layers, grid, memory):
    chain = block_chain(layers, memory=memory)
    ticked = tick_chain(chain, grid=grid, mem_grid=64 if memory else None)
    best, _ = benchmark.pedantic(run_grid_dp, args=(ticked,), rounds=7, warmup_rounds=2)
    states = state_count(ticked)
    benchmark.extra_info.update(
        objective=best, states=states, cells_per_s=states / benchmark.stats.stats.median
    )


@pytest.mark.parametrize("memory", [False, True], ids=["latency", "memory"])
@pytest.mark.parametrize("layers", [32, 80])
def test_dp_exact(benchmark, layers, memory):
    chain = block_chain(layers, memory=memory)
    best, _, labels = benchmark.pedantic(solve_labels, args=(chain,), rounds=7, warmup_rounds=2)
    benchmark.extra_info.update(objective=best, labels=labels)
