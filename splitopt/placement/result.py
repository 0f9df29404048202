"""One result type for every placement algorithm (in the manner of PyVRP's Result)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from splitopt.placement.evaluate import PlacementScore, evaluate
from splitopt.placement.model import Cluster, Placement, Route

STATUSES: tuple[str, ...] = ("optimal", "feasible", "infeasible", "time_limit", "error")


@dataclass(frozen=True, eq=False)
class PlacementResult:
    """An algorithm's placement and routes, scored by :func:`evaluate`.

    ``status``: ``optimal`` (proved), ``feasible`` (heuristic answer that the evaluator
    accepts), ``infeasible`` (proved none exists, or the heuristic found none),
    ``time_limit`` (stopped early; may still carry a feasible answer) or ``error``
    (the algorithm's answer failed the evaluator; ``message`` says why).
    ``bound``: a proved lower bound on sum_r T_r for exact methods, or the
    algorithm's own performance bound where the paper defines one (heuristics),
    in seconds; ``None`` if none. ``bound_kind`` says which: ``"lower-objective"`` (a
    lower bound on sum_r T_r, the default when a bound is given) or
    ``"upper-per-token"`` (the CG-BPRR theorem's upper bound on each request's
    per-token decode time, sum_j (t_cj + k_j tau_j)).
    """

    algorithm: str
    status: str
    placement: Placement | None
    routes: tuple[Route, ...]
    score: PlacementScore | None
    bound: float | None
    runtime_s: float
    options: dict = field(default_factory=dict)
    message: str | None = None
    bound_kind: str | None = None  # "lower-objective" (exact) | "upper-per-token" (CG-BPRR)

    @property
    def objective(self) -> float:
        """sum_r T_r by the evaluator (inf without a feasible answer)."""
        return (
            self.score.objective if self.score is not None and self.score.feasible else float("inf")
        )

    @property
    def feasible(self) -> bool:
        return self.score is not None and self.score.feasible

    @classmethod
    def build(
        cls,
        cluster: Cluster,
        algorithm: str,
        status: str,
        placement: Placement | None,
        routes: Sequence[Route] = (),
        *,
        bound: float | None = None,
        runtime_s: float = 0.0,
        options: Mapping[str, Any] | None = None,
        message: str | None = None,
        bound_kind: str | None = None,
    ) -> PlacementResult:
        """Score the answer; an answer the evaluator rejects becomes status ``error``."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        routes = tuple(tuple(int(j) for j in r) for r in routes)
        score = None
        if placement is not None:
            score = evaluate(cluster, placement, routes)
            claimed = status in ("optimal", "feasible") or (status == "time_limit" and routes)
            if not score.feasible and claimed:
                message = f"evaluator rejects the answer: {score.reason}" + (
                    f" ({message})" if message else ""
                )
                status = "error"
        return cls(
            algorithm,
            status,
            placement,
            routes,
            score,
            None if bound is None else float(bound),
            float(runtime_s),
            dict(options or {}),
            message,
            None if bound is None else (bound_kind or "lower-objective"),
        )


__all__ = ["STATUSES", "PlacementResult"]
