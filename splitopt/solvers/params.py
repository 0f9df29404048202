"""Typed, serialisable solver parameters, one frozen value per solver family.

Every solver takes a :class:`SolverParams` subclass (``Solver.params_type``):

* :class:`SolverParams` -- ``time_limit`` only (``dp-exact``, the baselines, brute force);
* :class:`DPParams` -- ``dp-grid``: a :class:`~splitopt.discretise.Discretisation` and ``bound``;
* :class:`DefaultDPParams` -- ``dp``: exact by default, the grid DP when given ticks;
* :class:`ILPParams` -- the ILPs: real data (``discretisation=None``, the default) or
  ticked mode with a :class:`~splitopt.discretise.Discretisation` that fixes the time tick.

A value converts to and from flat *options* (``grid``, ``tick``, ``mem_grid``,
``mem_tick``, ``bound``, ``exact``, ``time_limit``): the keyword arguments of
:func:`splitopt.solve`, the ``options`` object of a solution file (so a run can
be replayed from its file: ``splitopt solve PROBLEM --replay SOLUTION``) and,
through :data:`OPTIONS`, the flags of ``splitopt solve``. An option a solver
does not take is an error (:class:`~splitopt.errors.SolverError`), never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from splitopt.discretise import DISCRETISATION_OPTIONS, Discretisation
from splitopt.errors import GridError, SolverError


@dataclass(frozen=True)
class OptionSpec:
    """One flat option: its name (keyword, JSON key; CLI flag ``--name`` with ``-``),
    its type (``int``, ``float`` or ``bool`` for a switch) and its help line."""

    name: str
    kind: type
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


#: Every option some solver takes, in CLI order. ``splitopt solve`` adds one flag per entry.
OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("grid", int, "time ticks per SLA (τ = SLA/N): dp, and the ILPs in ticked mode"),
    OptionSpec("tick", float, "fixed time tick τ in seconds: dp, and the ILPs in ticked mode"),
    OptionSpec("mem_grid", int, "memory ticks per budget (dp, ticked ILPs)"),
    OptionSpec("mem_tick", float, "fixed memory tick μ in bytes (dp, ticked ILPs)"),
    OptionSpec("bound", bool, "dp: also compute a lower bound (relaxed rounding)"),
    OptionSpec(
        "exact", bool, "dp and the ILPs: solve the real data (default without --grid/--tick)"
    ),
    OptionSpec("time_limit", float, "wall-clock seconds per problem (every solver)"),
)
OPTION_SPECS: dict[str, OptionSpec] = {o.name: o for o in OPTIONS}


def _check_time_limit(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # noqa: SIM102
        if math.isfinite(value) and value > 0:
            return float(value)
    raise SolverError(f"time limit must be > 0 seconds, got {value!r}")


def _discretisation(solver: str, options: Mapping[str, Any]) -> Discretisation:
    try:
        return Discretisation.from_options(**{k: options.get(k) for k in DISCRETISATION_OPTIONS})
    except GridError as exc:
        raise SolverError(f"solver {solver!r}: {exc}") from None


@dataclass(frozen=True)
class SolverParams:
    """Parameters every solver takes.

    Attributes:
        time_limit: wall-clock seconds for the whole problem, or ``None`` (no limit).
    """

    time_limit: float | None = None

    #: The flat option names this family accepts (keywords, file keys, CLI flags).
    options: ClassVar[tuple[str, ...]] = ("time_limit",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "time_limit", _check_time_limit(self.time_limit))

    @classmethod
    def from_options(cls, solver: str, options: Mapping[str, Any]) -> SolverParams:
        """The value of flat ``options`` for ``solver`` (its name, for messages).

        ``None`` values mean "not given". Raises :class:`SolverError` naming the first
        option this family does not take.
        """
        given = {k: v for k, v in options.items() if v is not None}
        unknown = [k for k in given if k not in cls.options]
        if unknown:
            raise SolverError(f"solver {solver!r} takes no option {unknown[0]!r}")
        return cls._from(solver, given)

    @classmethod
    def _from(cls, solver: str, given: dict[str, Any]) -> SolverParams:
        return cls(time_limit=given.get("time_limit"))

    def to_options(self) -> dict[str, Any]:
        """Flat, JSON-ready options that rebuild this value (non-default ones only)."""
        return {} if self.time_limit is None else {"time_limit": self.time_limit}

    def replace(self, **changes: Any) -> SolverParams:
        """A copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return type(self)(**values)


@dataclass(frozen=True)
class DPParams(SolverParams):
    """Parameters of the grid DP ``dp``.

    Attributes:
        discretisation: how chains are ticked (default: the per-chain default grid).
        bound: also solve the relaxed rounding for a lower bound (and a proof of
            optimality where the two meet).
    """

    discretisation: Discretisation = field(default_factory=Discretisation)
    bound: bool = False

    options: ClassVar[tuple[str, ...]] = ("time_limit", *DISCRETISATION_OPTIONS, "bound")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.discretisation, Discretisation):
            raise SolverError("dp: discretisation must be a Discretisation")
        object.__setattr__(self, "bound", bool(self.bound))

    @classmethod
    def _from(cls, solver: str, given: dict[str, Any]) -> SolverParams:
        return cls(
            time_limit=given.get("time_limit"),
            discretisation=_discretisation(solver, given),
            bound=bool(given.get("bound", False)),
        )

    def to_options(self) -> dict[str, Any]:
        out = {**self.discretisation.to_options(), **super().to_options()}
        if self.bound:
            out["bound"] = True
        return out


@dataclass(frozen=True)
class DefaultDPParams(DPParams):
    """Parameters of the default ``dp``: exact (labels on the real data) unless a
    discretisation or ``bound`` is given, then the grid DP on those ticks (as
    ``dp-grid``; old ``dp --grid N`` commands keep their meaning).

    Flat options: those of :class:`DPParams` and ``exact`` (true: the exact mode,
    what solution files of the exact ``dp`` record; an error with ticks).
    """

    options: ClassVar[tuple[str, ...]] = (*DPParams.options, "exact")

    @property
    def ticked(self) -> bool:
        """Whether ticks were asked for (the grid DP runs)."""
        return not self.discretisation.is_default or self.bound

    @classmethod
    def _from(cls, solver: str, given: dict[str, Any]) -> SolverParams:
        exact = given.pop("exact", None)
        p = super()._from(solver, given)
        assert isinstance(p, DefaultDPParams)
        if exact is not None and not exact:
            raise SolverError(
                f"solver {solver!r}: exact false is the grid DP: use --solver dp-grid"
            )
        if exact and p.ticked:
            raise SolverError(f"solver {solver!r}: give --exact or a grid/tick/bound, not both")
        return p

    def to_options(self) -> dict[str, Any]:
        if self.ticked:
            return super().to_options()
        return {"exact": True, **SolverParams.to_options(self)}


@dataclass(frozen=True)
class ILPParams(SolverParams):
    """Parameters of the ILP solvers.

    Attributes:
        discretisation: ``None`` for the real data (the default, ``exact`` mode), or
            the ticks of ticked mode, which must fix the time tick (a grid or a tick).

    Flat options: ``exact`` (true: real data; an error together with a grid or a
    tick) and ``mode`` (``"exact"`` or ``"ticked"``, as solution files record it)
    are accepted for the same choice.
    """

    discretisation: Discretisation | None = None

    options: ClassVar[tuple[str, ...]] = ("time_limit", *DISCRETISATION_OPTIONS, "exact", "mode")

    def __post_init__(self) -> None:
        super().__post_init__()
        d = self.discretisation
        if d is not None and not isinstance(d, Discretisation):
            raise SolverError("ILP: discretisation must be a Discretisation or None")
        if d is not None and not d.fixes_time:
            raise SolverError(
                "a memory grid/tick needs ticked mode (--grid or --tick)"
                if not d.is_default
                else "ticked mode needs a grid or a tick"
            )

    @property
    def ticked(self) -> bool:
        return self.discretisation is not None

    @classmethod
    def _from(cls, solver: str, given: dict[str, Any]) -> SolverParams:
        d = _discretisation(solver, given)
        mode = given.get("mode")
        if mode not in (None, "exact", "ticked"):
            raise SolverError(f"solver {solver!r}: mode must be 'exact' or 'ticked', got {mode!r}")
        exact = bool(given.get("exact", False)) or mode == "exact"
        if exact and d.fixes_time:
            raise SolverError(f"solver {solver!r}: give --exact or a grid/tick, not both")
        if mode == "ticked" and not d.fixes_time:
            raise SolverError(f"solver {solver!r}: ticked mode needs a grid or a tick")
        if not d.fixes_time and not d.is_default:
            raise SolverError(
                f"solver {solver!r}: a memory grid/tick needs ticked mode (--grid or --tick)"
            )
        return cls(time_limit=given.get("time_limit"), discretisation=d if d.fixes_time else None)

    def to_options(self) -> dict[str, Any]:
        d = self.discretisation
        out = {} if d is None else d.to_options()
        out.update(super().to_options())
        out["mode"] = "ticked" if self.ticked else "exact"
        return out
