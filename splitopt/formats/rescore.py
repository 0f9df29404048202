"""Re-score the solutions of a solution file with the evaluator (``splitopt evaluate``).

The figures in a file are never trusted: the evaluator recomputes latency, work and
memory. The *statuses* a solver recorded are kept where the evaluator agrees: a
placement recorded ``optimal`` (a solver's certificate: ``dp-exact``, ``brute-force``,
a certified ILP, ``dp`` on exact ticks) that the evaluator finds feasible stays
``optimal``; a recorded ``feasible`` stays ``feasible``; a placement the evaluator
finds breaking the SLA or the memory budget becomes ``error`` whatever the file says;
a request without a placement keeps ``infeasible`` or ``time_limit`` as recorded.
"""

from __future__ import annotations

import os

from splitopt.evaluate import PlacementError, evaluate
from splitopt.formats.errors import InputError
from splitopt.problem import Problem
from splitopt.solution import Result

#: Recorded statuses of a feasible placement that re-scoring keeps.
KEPT_FEASIBLE = ("optimal", "feasible")
#: Recorded statuses of a request without a placement that re-scoring keeps.
KEPT_EMPTY = ("infeasible", "time_limit")


def rescore(
    problem: Problem,
    placements: dict[str, str | None],
    doc: dict,
    file: str | os.PathLike,
    where: str = "",
) -> tuple[Result, int]:
    """The :class:`Result` of one solution document, scored by the evaluator, and how
    many of its placements break the SLA or the memory budget."""
    try:
        ev = evaluate(problem, placements)
    except PlacementError as exc:
        at = f"{where}.requests" if where else "requests"
        raise InputError(file, at, str(exc)) from None
    recorded = {
        r.get("id"): r.get("status") for r in doc.get("requests", ()) if isinstance(r, dict)
    }
    ordered = [placements[r.id] for r in problem.requests]
    statuses = []
    broken = 0
    for r, p, ok in zip(problem.requests, ordered, ev.feasible, strict=True):
        said = recorded.get(r.id)
        if p is None:
            statuses.append(said if said in KEPT_EMPTY else "infeasible")
        elif ok:
            statuses.append(said if said in KEPT_FEASIBLE else "feasible")
        else:
            broken += 1
            statuses.append("error")
    result = Result.build(
        problem,
        str(doc.get("solver", "unknown")),
        statuses,
        ordered,
        float(doc.get("runtime_s") or 0),
    )
    return result, broken
