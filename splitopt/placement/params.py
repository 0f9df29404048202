"""Typed, serialisable parameters of the placement algorithms, one frozen value per
algorithm family (as :mod:`splitopt.solvers.params` for the split solvers).

Every algorithm takes an :class:`AlgorithmParams` subclass
(``PlacementAlgorithm.params_type``); its dataclass fields *are* its flat options,
each described by an :class:`~splitopt.solvers.params.OptionSpec` in ``OPTIONS``
(name, type, help line). A value converts to and from flat *options*: the keyword
arguments of :func:`splitopt.placement.get_algorithm`, the ``options`` object of a
placement file (so a run can be replayed: ``splitopt place CLUSTER --replay FILE``)
and, through :func:`all_options`, the flags of ``splitopt place``. An option an
algorithm does not take is an error (:class:`~splitopt.errors.SolverError`, exit 2
in the CLI), never dropped.

Value rules (ranges, choices) stay in the algorithms' own constructors, which the
base class calls when it is built, so a bad value fails at construction too.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from splitopt.errors import SolverError
from splitopt.solvers.params import OptionSpec

#: Option types beyond int/float/bool/str: a list of whole numbers (``--counts 2,2,3``).
IntList = list


def _coerce(algorithm: str, spec: OptionSpec, value: Any) -> Any:
    """``value`` checked against ``spec.kind`` (``None`` passes: "not given")."""
    if value is None:
        return None
    where = f"placement algorithm {algorithm!r}: option {spec.name!r}"
    kind = spec.kind
    if kind is bool:
        if not isinstance(value, bool):
            raise SolverError(f"{where} must be true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            x = float(value)
            if math.isfinite(x) and x.is_integer():
                return int(x)
        raise SolverError(f"{where} must be a whole number, got {value!r}")
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
            raise SolverError(f"{where} must be a number, got {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise SolverError(f"{where} must be a string, got {value!r}")
        return value
    if kind is IntList:
        if isinstance(value, str):  # "random"/"given" style choices are checked by the algorithm
            return value
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value
        ):
            raise SolverError(f"{where} must be a list of whole numbers, got {value!r}")
        return [int(v) for v in value]
    raise TypeError(f"unsupported option kind {kind!r}")  # a bug in an OPTIONS table


@dataclass(frozen=True)
class AlgorithmParams:
    """Base of the parameter families: no options. Subclasses add fields (``None`` =
    the algorithm's default rule) and one :class:`OptionSpec` per field in ``OPTIONS``."""

    OPTIONS: ClassVar[tuple[OptionSpec, ...]] = ()

    @classmethod
    def options(cls) -> tuple[str, ...]:
        """The flat option names this family accepts (keywords, file keys, CLI flags)."""
        return tuple(o.name for o in cls.OPTIONS)

    @classmethod
    def from_options(cls, algorithm: str, options: Mapping[str, Any]) -> AlgorithmParams:
        """The value of flat ``options`` for ``algorithm`` (its name, for messages).

        ``None`` values mean "not given". Raises :class:`SolverError` naming the first
        option this family does not take, and the ones it does.
        """
        specs = {o.name: o for o in cls.OPTIONS}
        given = {k: v for k, v in options.items() if v is not None}
        unknown = [k for k in given if k not in specs]
        if unknown:
            valid = ", ".join(specs) or "none"
            raise SolverError(
                f"placement algorithm {algorithm!r} takes no option {unknown[0]!r} "
                f"(its options: {valid})"
            )
        return cls(**{k: _coerce(algorithm, specs[k], v) for k, v in given.items()})

    def to_options(self) -> dict[str, Any]:
        """Flat, JSON-ready options that rebuild this value (the ones that are set)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None:
                out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the algorithm's constructor (``None`` = its default)."""
        return self.to_options()

    def replace(self, **changes: Any) -> AlgorithmParams:
        """A copy with some fields changed."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return type(self)(**values)


def _opt(name: str, kind: type, help: str) -> OptionSpec:
    return OptionSpec(name, kind, help)


@dataclass(frozen=True)
class CGParams(AlgorithmParams):
    """``cg-bprr``. Attributes: ``R`` (design concurrency; default: the number of
    jobs), ``design_tokens`` (tokens per request the cache is sized for; default: the
    largest l_in + l_out), ``route_objective`` (``total`` or ``per-token``)."""

    R: int | None = None
    design_tokens: int | None = None
    route_objective: str | None = None

    OPTIONS: ClassVar[tuple[OptionSpec, ...]] = (
        _opt("R", int, "cg-bprr: design concurrency R (default: the number of jobs)"),
        _opt("design_tokens", int, "cg-bprr: tokens per request the cache is sized for"),
        _opt("route_objective", str, "cg-bprr: route by 'total' (default) or 'per-token' time"),
    )


@dataclass(frozen=True)
class PetalsParams(AlgorithmParams):
    """``petals``. Attributes: ``seed`` (join order, default 0), ``order``
    (``random``, ``given`` or a permutation of the servers), ``attn_cache_tokens``
    (default 4096, PETALS's ``server.py``), ``autograd_bytes`` (reserved per server),
    ``counts`` (blocks per server instead of PETALS's rule)."""

    seed: int | None = None
    order: str | list | None = None
    attn_cache_tokens: int | None = None
    autograd_bytes: float | None = None
    counts: list | None = None

    OPTIONS: ClassVar[tuple[OptionSpec, ...]] = (
        _opt("seed", int, "petals: join-order seed (default 0)"),
        _opt("order", IntList, "petals: join order 'random' (default), 'given' or i,j,k,..."),
        _opt("attn_cache_tokens", int, "petals: attention cache tokens per block (default 4096)"),
        _opt("autograd_bytes", float, "petals: bytes reserved per server for autograd"),
        _opt("counts", IntList, "petals: blocks per server n,n,... instead of its rule"),
    )


@dataclass(frozen=True)
class MilpParams(AlgorithmParams):
    """``bprr-milp`` and its backends. Attributes: ``time_limit`` (seconds, all
    re-solves together), ``backend`` (``highs``, ``cbc``, ``cpsat``, ``scip``),
    ``strengthen`` (our valid rows, default true), ``gap`` (0 only: recorded in
    placement files, accepted back so they replay)."""

    time_limit: float | None = None
    backend: str | None = None
    strengthen: bool | None = None
    gap: float | None = None

    OPTIONS: ClassVar[tuple[OptionSpec, ...]] = (
        _opt("time_limit", float, "seconds (exact algorithms: MILP, brute force)"),
        _opt("backend", str, "bprr-milp: highs (default), cbc, cpsat or scip"),
        _opt("strengthen", bool, "bprr-milp: add our valid rows (default on)"),
        _opt("gap", float, "bprr-milp: relative gap (0 only; solved to optimality)"),
    )

    def __post_init__(self) -> None:
        if self.gap is not None and self.gap != 0:
            raise SolverError(f"bprr-milp solves to gap 0 only, got gap {self.gap!r}")

    def kwargs(self) -> dict[str, Any]:
        out = self.to_options()
        out.pop("gap", None)
        return out


@dataclass(frozen=True)
class BruteParams(AlgorithmParams):
    """``bprr-brute``. Attributes: ``max_placements`` (refuse larger clusters,
    default 200,000), ``time_limit`` (seconds)."""

    max_placements: int | None = None
    time_limit: float | None = None

    OPTIONS: ClassVar[tuple[OptionSpec, ...]] = (
        _opt("max_placements", int, "bprr-brute: refuse clusters with more placements"),
        _opt("time_limit", float, "seconds (exact algorithms: MILP, brute force)"),
    )


#: Every parameter family, for the CLI's flags (one per distinct option name).
FAMILIES: tuple[type[AlgorithmParams], ...] = (CGParams, PetalsParams, MilpParams, BruteParams)


def all_options() -> dict[str, OptionSpec]:
    """Every option some placement algorithm takes, by name, in CLI order (an option
    of several families, e.g. ``time_limit``, appears once with its first help line)."""
    out: dict[str, OptionSpec] = {}
    for fam in FAMILIES:
        for o in fam.OPTIONS:
            out.setdefault(o.name, o)
    return out


__all__ = [
    "FAMILIES",
    "AlgorithmParams",
    "BruteParams",
    "CGParams",
    "IntList",
    "MilpParams",
    "PetalsParams",
    "all_options",
]
