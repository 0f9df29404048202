"""``--semantics authors`` equals the authors' MATLAB request for request (run in GNU
Octave from a checkout outside this repository; skipped where it or Octave is absent:
see ``benchmarks/authors_check.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "authors_check", Path(__file__).resolve().parents[1] / "benchmarks/authors_check.py"
)
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)

pytestmark = pytest.mark.skipif(
    not check.available(), reason="octave or the authors' outside checkout is absent"
)


@pytest.mark.slow
def test_clustered_cell_with_waiting_is_identical_request_for_request():
    rep = check.run_cell(site=0, rate=0.1, l_out=64, n=120)
    for key in check.POLICIES:
        assert rep[key]["identical"] == rep[key]["requests"], (key, rep[key])
    assert rep["petals_number"]["waited"] > 0  # the cell exercises waiting for memory
