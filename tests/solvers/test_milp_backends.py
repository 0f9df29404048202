"""The MILP helpers shared by the split ILPs and the BPRR MILP."""

from __future__ import annotations

import math

import pytest

from splitopt.solvers import milp_backends as mb


@pytest.mark.parametrize("largest", [1e-200, 3e-9, 0.7, 1.0, 12345.678, 1e300])
def test_pow2_scale_is_a_power_of_two_landing_in_range(largest: float) -> None:
    for bits in (0, 30, 48):
        k = mb.pow2_scale(bits, largest)
        assert math.frexp(k)[0] == 0.5  # an exact power of two
        assert 2.0 ** (bits - 1) <= largest * k < 2.0**bits
    assert mb.pow2_scale(30, 0.0) == 1.0


def test_time_left() -> None:
    import time

    assert mb.time_left(None, time.perf_counter()) is None
    assert mb.time_left(10.0, time.perf_counter()) <= 10.0


def test_both_halves_use_the_same_helpers() -> None:
    from splitopt.placement import milp
    from splitopt.solvers import ilp_model, ilp_ortools, ilp_pulp

    assert milp.BackendResult is ilp_model.BackendResult is mb.BackendResult
    assert milp.solve_scip is ilp_ortools.solve_scip is mb.solve_scip
    assert ilp_pulp.solve_cbc is mb.solve_cbc and milp.quiet_stdout is mb.quiet_stdout
