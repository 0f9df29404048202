"""The solver interface shared by every algorithm.

A solver solves one :class:`~splitopt.problem.Chain` at a time
(:meth:`Solver.solve_chain`); :meth:`Solver.solve` runs it once per distinct
chain of a problem, maps the answers back to the requests and lets the
evaluator score them.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from splitopt.errors import SolverError, SolverUnavailable
from splitopt.evaluate import Score, as_placement
from splitopt.problem import Chain, Problem
from splitopt.solution import Result
from splitopt.solvers.params import SolverParams


@dataclass(frozen=True, eq=False)
class ChainSolution:
    """A solver's answer for one chain: a status, a placement (read-only boolean
    array, ``True`` = server; or ``None``) and, where the solver has one, a lower
    bound on the server work.

    ``score`` may carry the evaluator's figures when the solver already computed
    them with :func:`~splitopt.evaluate.score` for this very chain and placement,
    so the answer is not scored twice; figures for anything else are ignored
    and recomputed. A ``"CS"`` string placement is accepted (converted) for
    convenience; 0/1 arrays too.
    """

    status: str
    placement: np.ndarray | None
    bound: float | None = None
    message: str | None = None
    score: Score | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.placement is not None:
            object.__setattr__(self, "placement", as_placement(self.placement))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChainSolution):
            return NotImplemented
        same_x = (self.placement is None and other.placement is None) or (
            self.placement is not None
            and other.placement is not None
            and np.array_equal(self.placement, as_placement(other.placement))
        )
        return same_x and (self.status, self.bound, self.message) == (
            other.status,
            other.bound,
            other.message,
        )

    __hash__ = None  # type: ignore[assignment]


class Solver(ABC):
    """Base class. Subclasses set ``name``, ``exact`` and ``description``,
    ``params_type`` where they take more than a time limit, and implement
    :meth:`solve_chain`.

    A solver is built from a typed parameter value (``Solver(params)``, see
    :mod:`splitopt.solvers.params`) or from its flat options
    (``Solver(time_limit=10, grid=500)``); an option the solver does not take
    raises :class:`SolverError`. ``time_limit`` (every solver) is seconds of wall
    clock for the whole problem; requests left when it runs out get status
    ``time_limit``.
    """

    name: ClassVar[str]
    #: Whether an ``optimal`` status from this solver is a proof of optimality.
    exact: ClassVar[bool] = False
    description: ClassVar[str] = ""
    #: Whether :meth:`solve` gives each distinct chain only what is left of the time
    #: limit divided by the chains still to solve (else all that is left): for
    #: solvers that use a chain's whole allowance when they cannot finish it.
    shares_time_limit: ClassVar[bool] = False
    #: The parameter family of this solver.
    params_type: ClassVar[type[SolverParams]] = SolverParams
    #: Flat option names accepted (derived from ``params_type``).
    option_names: ClassVar[tuple[str, ...]] = SolverParams.options

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.option_names = cls.params_type.options

    def __init__(self, params: SolverParams | None = None, **options: object) -> None:
        if params is None:
            params = self.params_type.from_options(self.name, options)
        elif options:
            raise SolverError(f"solver {self.name!r}: give parameters or options, not both")
        elif type(params) is not self.params_type:
            raise SolverError(
                f"solver {self.name!r} takes {self.params_type.__name__}, "
                f"got {type(params).__name__}"
            )
        self.params = params

    @property
    def time_limit(self) -> float | None:
        return self.params.time_limit

    @classmethod
    def available(cls) -> bool:
        """Whether the solver can run here (its backend is installed)."""
        return True

    @abstractmethod
    def solve_chain(self, chain: Chain, time_limit: float | None = None) -> ChainSolution:
        """Solve one chain; ``time_limit`` is what is left of the wall-clock budget."""

    def check(self, problem: Problem) -> None:  # noqa: B027 - optional hook
        """Refuse a problem before solving (raise :class:`SolverError`); default: accept."""

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """One-off set-up kept out of ``runtime_s`` (e.g. JIT compilation); default: none."""

    def solve(self, problem: Problem) -> Result:
        """Solve every request of ``problem`` (each distinct chain once)."""
        if not self.available():
            raise SolverUnavailable(
                f"solver {self.name!r} is not available: install its backend "
                "(pip install 'splitopt[ilp]' for the ILP solvers)"
            )
        self.check(problem)
        self.prepare()
        t0 = time.perf_counter()
        deadline = None if self.time_limit is None else t0 + self.time_limit
        answers: list[ChainSolution] = []
        n = len(problem.chains)
        for i, chain in enumerate(problem.chains):
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left <= 0:
                answers.append(ChainSolution("time_limit", None, message="time limit reached"))
                continue
            if left is not None and self.shares_time_limit:
                left /= n - i
            answers.append(self.solve_chain(chain, left))
        return self.result(problem, answers, time.perf_counter() - t0)

    def result(self, problem: Problem, answers: list[ChainSolution], runtime: float) -> Result:
        """The one :class:`Result` of ``answers`` (one per distinct chain of ``problem``),
        scored by the evaluator; ``runtime`` in seconds."""
        return Result.from_chains(
            problem,
            self.name,
            [a.status for a in answers],
            [a.placement for a in answers],
            runtime,
            options=self.describe_options(),
            bounds=[a.bound for a in answers],
            messages=[a.message for a in answers],
            scores=[a.score for a in answers],
        )

    def describe_options(self) -> dict:
        """The options in force (flat, JSON-ready: :meth:`SolverParams.to_options`), for
        result files and experiment rows; ``from_options`` of them rebuilds the solver."""
        return self.params.to_options()
