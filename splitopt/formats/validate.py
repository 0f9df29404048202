"""``splitopt validate``: check any file the program reads or writes, by its ``format``.

Every JSON kind is checked by its own reader (the rules of the types, not only the
JSON Schema): ``splitopt-problem``, ``splitopt-scenario`` (compiled),
``splitopt-solution`` (one document or a list), ``splitopt-profile``,
``splitopt-cluster`` (compiled), ``splitopt-placement`` (structure; server ids are
checked against a cluster by :func:`~splitopt.formats.placement_file.read_placements`)
and ``splitopt-simulation``. :func:`validate_document` returns a one-line summary
or raises :class:`~splitopt.formats.errors.InputError` naming file and field.
"""

from __future__ import annotations

import os
from typing import Any

from splitopt.formats import (
    cluster_file,
    placement_file,
    problem_file,
    profile_file,
    scenario_file,
    simulation_file,
    solution_file,
)
from splitopt.formats.errors import InputError, load_json

#: format name -> kind, for every file kind the program reads or writes.
KINDS: dict[str, str] = {
    problem_file.FORMAT: "problem",
    solution_file.FORMAT: "solution",
    scenario_file.FORMAT: "scenario",
    profile_file.FORMAT: "profile",
    cluster_file.FORMAT: "cluster",
    placement_file.FORMAT: "placement",
    simulation_file.FORMAT: "simulation",
}


def _problem(doc: Any, file: Any) -> str:
    from splitopt.formats.read import problem_from_doc

    p = problem_from_doc(doc, file)
    ls = [c.num_layers for c in p.chains]
    budgets = sum(1 for c in p.chains if c.memory_budget_bytes is not None)
    return (
        f"{p.name!r}, {len(p)} requests, {len(p.chains)} distinct chains, "
        f"L {min(ls)}–{max(ls)}, {budgets} with a memory budget, work in {p.work_unit}"
    )


def _solution(doc: Any, file: Any) -> str:
    docs = doc if isinstance(doc, list) else [doc]
    if not docs:
        raise InputError(file, "(top level)", "an empty list holds no solution")
    n = 0
    for i, d in enumerate(docs):
        placements, _ = solution_file._placements_from_doc(
            file, d, [i] if isinstance(doc, list) else []
        )
        n += len(placements)
    return f"solution: {len(docs)} document(s), {n} request placements"


def _profile(doc: Any, file: Any) -> str:
    p = profile_file.profile_from_dict(doc, file)
    return f"profile {p.name!r} of {p.model} ({p.num_layers} layers)"


def _cluster(doc: Any, file: Any) -> str:
    c = cluster_file.cluster_from_dict(doc, file)
    return (
        f"cluster {c.name!r}: {c.num_servers} servers, {c.num_clients} clients, "
        f"{c.num_blocks} blocks, {len(c.jobs)} jobs"
    )


def _placement(doc: Any, file: Any) -> str:
    n = placement_file.check_placements(doc, file)
    return f"placement: {n} result(s) (server ids unchecked: no cluster given)"


def _simulation(doc: Any, file: Any) -> str:
    d = simulation_file.simulation_from_dict(doc, file)
    return f"simulation of {d['cluster']!r}: {len(d['policies'])} policies, {len(d['runs'])} runs"


_CHECKS = {
    "problem": _problem,
    "scenario": _problem,
    "solution": _solution,
    "profile": _profile,
    "cluster": _cluster,
    "placement": _placement,
    "simulation": _simulation,
}


def kind_of(doc: Any, file: str | os.PathLike | None = None) -> str:
    """The kind of a parsed document by its ``format`` (an array of solution documents
    is a solution file). A document the problem reader should explain (not an object,
    no ``format``) is left to it: ``problem``."""
    if isinstance(doc, list):
        solutions = all(
            isinstance(d, dict) and d.get("format") == solution_file.FORMAT for d in doc
        )
        return "solution" if doc and solutions else "problem"
    if not isinstance(doc, dict) or "format" not in doc:
        return "problem"
    fmt = doc["format"]
    if fmt not in KINDS:
        raise InputError(
            file, ["format"], f"unknown format {fmt!r}, expected one of {', '.join(KINDS)}"
        )
    return KINDS[fmt]


def validate_document(file: str | os.PathLike) -> str:
    """Read ``file`` once, check it with its kind's reader, and summarise it."""
    doc = load_json(file)
    return _CHECKS[kind_of(doc, file)](doc, file)


__all__ = ["KINDS", "kind_of", "validate_document"]
