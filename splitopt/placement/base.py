"""The placement-algorithm interface shared by every many-server algorithm (the
counterpart of :class:`splitopt.solvers.base.Solver`).

An algorithm is built from a typed parameter value (``Algorithm(params)``, see
:mod:`splitopt.placement.params`) or from its flat options
(``get_algorithm("petals", seed=3)``); an option it does not take raises
:class:`~splitopt.errors.SolverError` (exit 2 in the CLI). :meth:`solve` returns the
one :class:`~splitopt.placement.result.PlacementResult`, scored by the one evaluator,
whose ``options`` rebuild the algorithm: ``get_algorithm(res.algorithm,
**res.options)`` re-runs it (``splitopt place CLUSTER --replay FILE``).

Subclasses set ``name``, ``exact``, ``description``, ``params_type`` and implement
:meth:`run` (or, for the algorithms written before this base class, inherit it
from the implementation class: see :mod:`splitopt.placement.algorithms`).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from splitopt.errors import SolverError, SolverUnavailable
from splitopt.placement.model import Cluster
from splitopt.placement.params import AlgorithmParams
from splitopt.placement.result import PlacementResult


class PlacementAlgorithm(ABC):
    """Base class of the placement algorithms (block placement + routing)."""

    name: ClassVar[str]
    #: Whether an ``optimal`` status from this algorithm is a proof of optimality.
    exact: ClassVar[bool] = False
    description: ClassVar[str] = ""
    #: The parameter family of this algorithm.
    params_type: ClassVar[type[AlgorithmParams]] = AlgorithmParams

    def __init__(self, params: AlgorithmParams | None = None, **options: Any) -> None:
        if params is None:
            params = self.params_type.from_options(self.name, options)
        elif options:
            raise SolverError(f"placement algorithm {self.name!r}: give params or options")
        elif type(params) is not self.params_type:
            raise SolverError(
                f"placement algorithm {self.name!r} takes {self.params_type.__name__}, "
                f"got {type(params).__name__}"
            )
        self.params = params
        self.setup()

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Check the parameter values (raise :class:`SolverError`); default: accept."""

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Flat option names accepted (derived from ``params_type``)."""
        return cls.params_type.options()

    @classmethod
    def available(cls) -> bool:
        """Whether the algorithm can run here (its backend is installed)."""
        return True

    @abstractmethod
    def run(self, cluster: Cluster) -> PlacementResult:
        """Place and route ``cluster``'s jobs (the answer scored by the evaluator)."""

    def solve(self, cluster: Cluster) -> PlacementResult:
        """:meth:`run`, its result recording the options that rebuild this algorithm."""
        if not self.available():
            raise SolverUnavailable(
                f"placement algorithm {self.name!r} is not available: install its backend"
            )
        return self.record(self.run(cluster))

    def record(self, result: PlacementResult) -> PlacementResult:
        """``result`` with ``options`` = :meth:`describe_options` (what the algorithm
        resolved itself, e.g. a default R, kept where it is one of its options)."""
        return dataclasses.replace(result, options=self.describe_options(result.options))

    def describe_options(self, resolved: dict | None = None) -> dict[str, Any]:
        """The options in force, flat and JSON-ready: the ones given, and those the
        run resolved (``resolved``, a result's own record) that are options of this
        algorithm; ``get_algorithm(name, **them)`` rebuilds an equivalent algorithm."""
        names = self.option_names()
        out = {k: v for k, v in (resolved or {}).items() if k in names and v is not None}
        out.update(self.params.to_options())
        return out


__all__ = ["PlacementAlgorithm"]
