"""Reading any input file: a problem file as it is, a scenario file compiled."""

from __future__ import annotations

import os

from splitopt.formats.errors import InputError, load_json
from splitopt.formats.problem_file import FORMAT as PROBLEM_FORMAT
from splitopt.formats.problem_file import problem_from_dict
from splitopt.problem import Problem

SCENARIO_FORMAT = "splitopt-scenario"


def read_any(file: str | os.PathLike) -> Problem:
    """A :class:`Problem` from a ``splitopt-problem`` or ``splitopt-scenario`` file."""
    return read_with_doc(file)[0]


def read_with_doc(file: str | os.PathLike) -> tuple[Problem, object]:
    """The problem and the parsed document, reading ``file`` exactly once (so a pipe
    such as ``<(cat x.json)`` works)."""
    doc = load_json(file)
    return problem_from_doc(doc, file), doc


def problem_from_doc(doc: object, file: str | os.PathLike | None) -> Problem:
    """A :class:`Problem` from a parsed problem or scenario document."""
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if fmt == SCENARIO_FORMAT:
        from splitopt.scenario.compile import compile_scenario_doc

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
