"""Kernel checks that also run with NUMBA_DISABLE_JIT=1 (marker ``nojit``; see the Makefile)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitopt.discretise import tick_chain
from splitopt.solvers.baselines import brute_force
from splitopt.solvers.dp import run_grid_dp, solve_labels
from splitopt.solvers.kernels import warm_up
from tests.conftest import random_chains

pytestmark = pytest.mark.nojit


def test_kernels_match_brute_force_small():
    for c in random_chains(99, 40, integer=True, max_layers=7):
        best, _ = brute_force(c)
        g, x = run_grid_dp(tick_chain(c, tick=1.0))
        e, y, n = solve_labels(c)
        assert g == best and e == best
        assert n >= 0 and x.dtype == np.uint8 and y.shape == (c.num_layers,)


def test_label_dp_real_data_small():
    for c in random_chains(98, 30, integer=False, max_layers=7):
        best, _ = brute_force(c)
        e, _, _ = solve_labels(c)
        assert (math.isinf(best) and math.isinf(e)) or abs(best - e) <= 1e-9 * max(1, best)


def test_warm_up_runs():
    warm_up()
