"""Reading any input into a :class:`~splitopt.problem.Problem`: a problem file as
it is, a scenario file (or document) compiled."""

from __future__ import annotations

import os
from typing import Any

from splitopt.errors import SpecError
from splitopt.formats.errors import InputError, gc_paused, load_json
from splitopt.formats.problem_file import FORMAT as PROBLEM_FORMAT
from splitopt.formats.problem_file import problem_from_dict
from splitopt.formats.scenario_file import FORMAT as SCENARIO_FORMAT
from splitopt.formats.scenario_file import scenario_from_dict
from splitopt.problem import Problem
from splitopt.scenario.compile import compile_scenario
from splitopt.scenario.cost_models import CALIBRATED


def compile_scenario_doc(
    doc: Any, file: str | os.PathLike | None = None, cost_model: str = CALIBRATED
) -> Problem:
    """Validate a parsed scenario document and compile it with ``cost_model``
    (:mod:`splitopt.scenario.cost_models`); a cost-model error names the file and
    the scenario field behind it."""
    scenario = scenario_from_dict(doc, file)
    try:
        return compile_scenario(scenario, cost_model)
    except SpecError as exc:
        raise InputError(file, exc.path, exc.reason) from None


def compile_file(path: str | os.PathLike, cost_model: str = CALIBRATED) -> Problem:
    """Read, validate and compile a scenario file (with ``cost_model``)."""
    return compile_scenario_doc(load_json(path), path, cost_model)


def read_any(file: str | os.PathLike) -> Problem:
    """A :class:`Problem` from a ``splitopt-problem`` or ``splitopt-scenario`` file, or
    a columnar (Parquet) problem file read whole, as the command line reads it."""
    from splitopt.formats.columnar import ColumnarProblem, is_columnar

    if is_columnar(file):
        return ColumnarProblem(file).read()
    return read_with_doc(file)[0]


def read_with_doc(file: str | os.PathLike) -> tuple[Problem, object]:
    """The problem and the parsed document, reading ``file`` exactly once (so a pipe
    such as ``<(cat x.json)`` works). The parse and the problem's construction run
    with the cyclic garbage collector paused (:func:`gc_paused`: a big document's
    million containers are not scanned again and again)."""
    with gc_paused():
        doc = load_json(file)
        return problem_from_doc(doc, file), doc


def problem_from_doc(doc: object, file: str | os.PathLike | None) -> Problem:
    """A :class:`Problem` from a parsed problem or scenario document."""
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if fmt == SCENARIO_FORMAT:
        return compile_scenario_doc(doc, file)
    if fmt is None and isinstance(doc, dict) and "format" not in doc:
        raise InputError(
            file, ["format"], f"missing field (expected {PROBLEM_FORMAT!r} or {SCENARIO_FORMAT!r})"
        )
    if fmt != PROBLEM_FORMAT and isinstance(doc, dict):
        raise InputError(
            file,
            ["format"],
            f"unknown format {fmt!r}, expected {PROBLEM_FORMAT!r} or {SCENARIO_FORMAT!r}",
        )
    return problem_from_dict(doc, file)
