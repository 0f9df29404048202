"""Every error splitopt raises on purpose, in one hierarchy (the bottom layer).

* :class:`SplitoptError` — the base.
* :class:`UserError` — the input or the request is at fault; the CLI prints the
  message on one line and exits with code 2. Every subclass below is one.
* :class:`SpecError` — a scenario object breaks a rule (carries a field path).
* Anything else reaching the CLI is a bug: exit code 1.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

JsonPath = Sequence[str | int]


def format_path(path: JsonPath) -> str:
    """``["requests", 3, "uplink_s", 7]`` -> ``requests[3].uplink_s[7]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class SplitoptError(Exception):
    """Base of every error splitopt raises on purpose."""


class UserError(SplitoptError, ValueError):
    """The input or the request is at fault (exit code 2 in the CLI)."""


class InputError(UserError):
    """Bad input: names the file, the JSON path and what is wrong."""

    def __init__(self, file: str | os.PathLike | None, path: JsonPath | str, reason: str) -> None:
        self.file = None if file is None else str(file)
        self.path = path if isinstance(path, str) else format_path(path)
        self.reason = reason
        where = f"{self.file}: " if self.file else ""
        super().__init__(f"{where}{self.path}: {reason}")


class DataError(UserError):
    """Invalid problem data.

    ``field`` is the offending field name and ``index`` the array position (or
    ``None``); file readers turn them into a JSON path such as
    ``requests[3].uplink_s[7]``.
    """

    def __init__(self, field: str, reason: str, index: int | None = None) -> None:
        self.field = field
        self.index = index
        self.reason = reason
        where = field if index is None else f"{field}[{index}]"
        super().__init__(f"{where}: {reason}")


class SpecError(UserError):
    """A scenario spec or catalogue entry breaks a rule of its type.

    ``path`` is the field path inside the object that was being built (e.g.
    ``["peak_flops", "fp64"]``); a file reader prefixes the file name and the
    object's own JSON path (:meth:`InputError` from :meth:`at`).
    """

    def __init__(self, path: JsonPath, reason: str) -> None:
        self.path = list(path)
        self.reason = reason
        super().__init__(f"{format_path(self.path)}: {reason}")

    def under(self, prefix: JsonPath) -> SpecError:
        """The same error, its path under ``prefix``."""
        return SpecError([*prefix, *self.path], self.reason)


class GridError(UserError):
    """Grid options that make no sense (both a grid and a tick, a tick <= 0, ...)."""


class PlacementError(UserError):
    """A placement that does not fit its request."""


class SolverError(UserError):
    """Bad solver name or options, or a problem the solver refuses."""


class SolverUnavailable(SolverError):
    """The solver's backend library is not installed."""


class FamilyError(UserError):
    """Unknown instance family or size."""


class ExperimentError(UserError):
    """Unknown experiment, or bad harness options."""


class DaskError(UserError):
    """The Dask scheduler is unreachable, does not answer, answers garbage or was lost
    mid-run (exit 2; finished rows and parts are kept for a rerun)."""


class UsageError(UserError):
    """Bad combination of command-line options."""


class OutputError(UserError):
    """An output target splitopt refuses or cannot write; names the target as given."""

    def __init__(self, target: str | os.PathLike, reason: str) -> None:
        self.target = str(target)
        self.reason = reason
        super().__init__(f"{self.target}: {reason}")


__all__ = [
    "DaskError",
    "DataError",
    "ExperimentError",
    "FamilyError",
    "GridError",
    "InputError",
    "JsonPath",
    "OutputError",
    "PlacementError",
    "SolverError",
    "SolverUnavailable",
    "SpecError",
    "SplitoptError",
    "UsageError",
    "UserError",
    "format_path",
]
