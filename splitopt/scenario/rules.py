"""Value rules shared by the scenario types' constructors.

Each check raises :class:`~splitopt.errors.SpecError` with the field's path, so a
file reader can prefix the file name and the object's JSON path.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from splitopt.errors import JsonPath, SpecError


def show(x: Any) -> str:
    """A number as JSON would spell it (``1`` rather than ``1.0``)."""
    if isinstance(x, float) and math.isfinite(x) and x.is_integer() and abs(x) < 1e16:
        return repr(int(x))
    return repr(x)


def _path(field: str | JsonPath) -> list[str | int]:
    return [field] if isinstance(field, str) else list(field)


def number(value: Any, field: str | JsonPath) -> None:
    """``value`` is a real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpecError(_path(field), f"must be a number, got {value!r}")


def integer(value: Any, field: str | JsonPath) -> None:
    """``value`` is a whole number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise SpecError(_path(field), f"must be a whole number, got {value!r}")


def string(value: Any, field: str | JsonPath) -> None:
    if not isinstance(value, str):
        raise SpecError(_path(field), f"must be a string, got {value!r}")


def boolean(value: Any, field: str | JsonPath) -> None:
    if not isinstance(value, bool):
        raise SpecError(_path(field), f"must be true or false, got {value!r}")


def typed_fields(obj: Any) -> None:
    """Every ``str`` and ``bool`` field of dataclass ``obj`` holds that type."""
    for f in dataclasses.fields(obj):
        if f.type == "str":
            string(getattr(obj, f.name), f.name)
        elif f.type == "bool":
            boolean(getattr(obj, f.name), f.name)


def choice(value: Any, choices: Sequence[str], field: str | JsonPath) -> None:
    if value not in choices:
        raise SpecError(
            _path(field), f"unknown value {value!r}; valid values: {', '.join(choices)}"
        )


def positive(value: float, field: str | JsonPath) -> None:
    number(value, field)
    if not value > 0:
        raise SpecError(_path(field), f"must be > 0, got {show(value)}")


def nonneg(value: float, field: str | JsonPath) -> None:
    number(value, field)
    if not value >= 0:
        raise SpecError(_path(field), f"must be non-negative, got {show(value)}")


def at_least(value: int, minimum: int, field: str | JsonPath) -> None:
    integer(value, field)
    if not value >= minimum:
        raise SpecError(_path(field), f"must be >= {minimum}, got {show(value)}")


def fraction(value: float, field: str | JsonPath) -> None:
    number(value, field)
    if not 0 < value <= 1:
        raise SpecError(_path(field), f"must be in (0, 1], got {show(value)}")


def renamed(exc: SpecError, names: Mapping[str, str]) -> SpecError:
    """``exc`` with its first path element renamed (attribute -> file field name)."""
    if exc.path and isinstance(exc.path[0], str) and exc.path[0] in names:
        return SpecError([names[exc.path[0]], *exc.path[1:]], exc.reason)
    return exc
