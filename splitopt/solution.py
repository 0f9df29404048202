"""One result type for every solver: per-request statuses and placements, scored
by the evaluator (:mod:`splitopt.evaluate`)."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from splitopt.evaluate import Evaluation, Score, evaluate, evaluate_chains, evaluate_flat
from splitopt.problem import Problem

STATUSES: tuple[str, ...] = ("optimal", "feasible", "infeasible", "time_limit", "error")
_KNOWN = frozenset(STATUSES)
#: the statuses that claim a feasible placement (the evaluator must agree)
_CLAIMS = frozenset(("optimal", "feasible"))


@dataclass(frozen=True)
class RequestResult:
    """One request's outcome. Figures are the evaluator's; NaN where no placement.

    ``placement`` is the ``"CS"`` string (for display and files); ``on_server``
    the same placement as the read-only boolean array the solvers and the
    evaluator use (``None`` where no placement).
    """

    id: str
    status: str
    placement: str | None
    server_work: float
    latency_s: float
    client_memory_bytes: float
    feasible: bool
    bound: float | None = None
    message: str | None = None
    on_server: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Result:
    """What every solver returns.

    Attributes:
        problem: the instance solved.
        solver: the solver's registry name.
        statuses: per-request status, aligned with ``problem.requests``.
        evaluation: the evaluator's figures for the returned placements.
        runtime_s: wall-clock seconds of the solve (evaluation excluded).
        options: the solver options in force (grid, tick, time limit, ...).
        bounds: per-request lower bounds on server work where the solver has one.
        messages: per-request notes (for instance why a request errored).
    """

    problem: Problem
    solver: str
    statuses: tuple[str, ...]
    evaluation: Evaluation
    runtime_s: float
    options: dict = field(default_factory=dict)
    bounds: tuple[float | None, ...] | None = None
    messages: tuple[str | None, ...] | None = None

    @classmethod
    def build(
        cls,
        problem: Problem,
        solver: str,
        statuses: Sequence[str],
        placements: Sequence[np.ndarray | str | None],
        runtime_s: float,
        options: dict | None = None,
        bounds: Sequence[float | None] | None = None,
        messages: Sequence[str | None] | None = None,
    ) -> Result:
        """Score one placement per request (boolean arrays; ``"CS"`` strings are
        accepted at this edge, e.g. from a solution file) and wrap them up.

        A placement the evaluator finds infeasible while the solver called it
        ``optimal`` or ``feasible`` is a solver fault: its status becomes ``error``.
        """
        ev = evaluate(problem, placements)
        return cls._wrap(problem, solver, statuses, ev, runtime_s, options, bounds, messages)

    @classmethod
    def from_chains(
        cls,
        problem: Problem,
        solver: str,
        statuses: Sequence[str],
        placements: Sequence[np.ndarray | None],
        runtime_s: float,
        options: dict | None = None,
        bounds: Sequence[float | None] | None = None,
        messages: Sequence[str | None] | None = None,
        scores: Sequence[Score | None] | None = None,
    ) -> Result:
        """As :meth:`build`, from one answer per *distinct chain* (``problem.chains``):
        each distinct chain is scored once (:func:`~splitopt.evaluate.evaluate_chains`;
        ``scores`` the solver already has for its answers are reused where they match)."""
        ev = evaluate_chains(problem, placements, scores)
        return cls._per_chain(problem, solver, statuses, ev, runtime_s, options, bounds, messages)

    @classmethod
    def from_flat(
        cls,
        problem: Problem,
        solver: str,
        statuses: Sequence[str],
        on_server: np.ndarray,
        have: np.ndarray,
        runtime_s: float,
        options: dict | None = None,
        bounds: Sequence[float | None] | None = None,
        messages: Sequence[str | None] | None = None,
    ) -> Result:
        """As :meth:`from_chains`, from the answers of a batched solver: per distinct
        chain a status, whether it has a placement (``have``), and the placements
        concatenated (``on_server`` over :func:`~splitopt.ragged.batch_of` the
        problem; :func:`~splitopt.evaluate.evaluate_flat`). The same result as
        :meth:`from_chains` of the same answers."""
        ev = evaluate_flat(problem, on_server, have)
        return cls._per_chain(problem, solver, statuses, ev, runtime_s, options, bounds, messages)

    @classmethod
    def _per_chain(
        cls,
        problem: Problem,
        solver: str,
        statuses: Sequence[str],
        ev: Evaluation,
        runtime_s: float,
        options: dict | None,
        bounds: Sequence[float | None] | None,
        messages: Sequence[str | None] | None,
    ) -> Result:
        """:meth:`_wrap` of answers given per distinct chain, spread to the requests."""
        # every request its own chain (a big file of distinct requests): as they are
        same = problem.distinct_requests
        idx = [] if same else problem.chain_index.tolist()

        def spread(values: Sequence | None) -> list | None:
            if values is None:
                return None
            return list(values) if same else list(map(values.__getitem__, idx))

        return cls._wrap(
            problem,
            solver,
            spread(statuses),  # type: ignore[arg-type]
            ev,
            runtime_s,
            options,
            spread(bounds),
            spread(messages),
        )

    @classmethod
    def _wrap(
        cls,
        problem: Problem,
        solver: str,
        statuses: Sequence[str],
        ev: Evaluation,
        runtime_s: float,
        options: dict | None,
        bounds: Sequence[float | None] | None,
        messages: Sequence[str | None] | None,
    ) -> Result:
        sts = list(statuses)
        n = len(sts)
        if n != len(problem):
            raise ValueError(f"{n} statuses for {len(problem)} requests")
        if len(ev.on_server) != n:
            raise ValueError(f"{len(ev.on_server)} evaluated placements for {n} statuses")
        msgs: list[str | None] = list(messages) if messages is not None else [None] * n
        try:
            known = set(sts) <= _KNOWN
        except TypeError:  # an unhashable status: named below
            known = False
        if not known:
            for s in sts:
                if s not in STATUSES:
                    raise ValueError(f"unknown status {s!r}")
        # a placement claimed optimal or feasible that is missing or that the evaluator
        # finds infeasible is a solver fault (every request at once, no step per request)
        claims = np.fromiter(map(_CLAIMS.__contains__, sts), bool, n)
        placed = np.fromiter(map(operator.is_not, ev.on_server, itertools.repeat(None)), bool, n)
        for i in np.flatnonzero(claims & ~(placed & np.asarray(ev.feasible, bool))).tolist():
            sts[i] = "error"
            msgs[i] = "solver returned a placement the evaluator finds infeasible"
        return cls(
            problem=problem,
            solver=solver,
            statuses=tuple(sts),
            evaluation=ev,
            runtime_s=float(runtime_s),
            options=dict(options or {}),
            bounds=tuple(bounds) if bounds is not None else None,
            messages=tuple(msgs),
        )

    @property
    def status(self) -> str:
        """Instance status, the first that applies: ``error``, ``time_limit``,
        ``infeasible`` (every request), ``feasible``, ``optimal``."""
        s = set(self.statuses)
        if "error" in s:
            return "error"
        if "time_limit" in s:
            return "time_limit"
        if not s or s == {"infeasible"}:
            return "infeasible"
        if "feasible" in s:
            return "feasible"
        return "optimal"

    @property
    def objective(self) -> float:
        """Σ ω W over the requests with a feasible placement (work unit of the problem)."""
        return self.evaluation.objective

    @property
    def num_infeasible(self) -> int:
        """Requests without a feasible placement."""
        return len(self.statuses) - self.evaluation.num_feasible

    @property
    def instance(self) -> str:
        return self.problem.name

    @property
    def placements(self) -> tuple[str | None, ...]:
        """The placements as ``"CS"`` strings (display, files), in request order;
        a property, as :attr:`Evaluation.placements` (``result.placements()`` of
        earlier versions still works, with a DeprecationWarning)."""
        return _CallableTuple(self.evaluation.placements, "placements")

    @property
    def on_server(self) -> tuple[np.ndarray | None, ...]:
        """The placements as read-only boolean arrays (``True`` = server); a property,
        as :attr:`Evaluation.on_server`."""
        return _CallableTuple(self.evaluation.on_server, "on_server")

    def __iter__(self) -> Iterator[RequestResult]:
        ev = self.evaluation
        for i, r in enumerate(self.problem.requests):
            yield RequestResult(
                id=r.id,
                status=self.statuses[i],
                placement=ev.placements[i],
                server_work=float(ev.server_work[i]),
                latency_s=float(ev.latency_s[i]),
                client_memory_bytes=float(ev.client_memory_bytes[i]),
                feasible=bool(ev.feasible[i]),
                bound=None if self.bounds is None else self.bounds[i],
                message=None if self.messages is None else self.messages[i],
                on_server=ev.on_server[i],
            )

    @property
    def requests(self) -> tuple[RequestResult, ...]:
        return tuple(self)

    def work_array(self) -> np.ndarray:
        """Per-request server work, NaN where no feasible placement."""
        w = np.array(self.evaluation.server_work, dtype=float)
        w[~self.evaluation.feasible] = np.nan
        return w


class _CallableTuple(tuple):
    """A tuple that may still be called, for the methods that became properties."""

    _name: str

    def __new__(cls, items: object, name: str) -> _CallableTuple:
        out = super().__new__(cls, items)  # type: ignore[arg-type]
        out._name = name
        return out

    def __call__(self) -> tuple:
        import warnings

        warnings.warn(
            f"Result.{self._name} is a property now: drop the ()",
            DeprecationWarning,
            stacklevel=2,
        )
        return tuple(self)
