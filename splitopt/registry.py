"""One registry for every kind of named thing: split solvers, placement algorithms,
online policies, instance families, experiments (in the manner of PuLP's solver list).

A :class:`Registry` maps a name to an entry: either a lazy ``"module:Name"`` string,
imported the first time the entry is asked for (so optional backends load only when
used), or the object itself. Registering a name that is already taken by a different
entry *shadows* it and warns (:class:`ShadowWarning`); asking for a name nobody
registered raises the registry's error (a :class:`~splitopt.errors.UserError`, so the
CLI exits 2) listing the known names.

::

    SOLVERS = Registry("solver", SolverError, {"dp": "splitopt.solvers.dp:GridDP"})
    SOLVERS.get("dp")              # the class GridDP (imported now)
    SOLVERS.register("mine", Mine)  # an object or "module:Name"
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

from splitopt.errors import SplitoptError, UserError

T = TypeVar("T")


class ShadowWarning(UserWarning):
    """A name was registered again with a different entry (the new one wins)."""


class LoadError(SplitoptError):
    """A registered ``"module:Name"`` entry cannot be imported (the default ``unavailable``)."""


class Registry(Generic[T]):
    """Names -> entries, resolved lazily.

    Args:
        kind: what the entries are, for messages (``"solver"``, ``"placement algorithm"``).
        error: the :class:`UserError` subclass raised for an unknown name.
        entries: the initial entries, in listing order (no shadow warnings for these).
        unavailable: raised when a lazy entry cannot be imported (a missing backend).
    """

    def __init__(
        self,
        kind: str,
        error: type[UserError] = UserError,
        entries: Mapping[str, str | T] | None = None,
        unavailable: type[Exception] = LoadError,
    ) -> None:
        self.kind = kind
        self.error = error
        self.unavailable = unavailable
        self._entries: dict[str, str | T] = dict(entries or {})
        self._loaded: dict[str, T] = {}

    # -- registration ---------------------------------------------------------------------
    def register(self, name: str, entry: str | T) -> None:
        """Add ``entry`` (an object or ``"module:Name"``) under ``name``; warns with
        :class:`ShadowWarning` when ``name`` already holds a different entry."""
        if not isinstance(name, str) or not name:
            raise self.error(f"{self.kind} name must be a non-empty string, got {name!r}")
        if isinstance(entry, str) and entry.count(":") != 1:
            raise self.error(f"{self.kind} {name!r}: a lazy entry is 'module:Name', got {entry!r}")
        old = self._entries.get(name)
        if old is not None and old is not entry and old != entry:
            warnings.warn(
                f"{self.kind} {name!r} registered again: {_describe(entry)} shadows "
                f"{_describe(old)}",
                ShadowWarning,
                stacklevel=2,
            )
        self._entries[name] = entry
        self._loaded.pop(name, None)

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests; an unknown name is an error)."""
        self._check(name)
        del self._entries[name]
        self._loaded.pop(name, None)

    # -- look-up --------------------------------------------------------------------------
    def _check(self, name: str) -> None:
        if name not in self._entries:
            known = ", ".join(self._entries) or "(none)"
            raise self.error(f"unknown {self.kind} {name!r}; valid {self.kind}s: {known}")

    def get(self, name: str) -> T:
        """The entry of ``name``, imported now if lazy. Unknown name: ``self.error``;
        an entry whose module cannot be imported: ``self.unavailable``."""
        self._check(name)
        if name in self._loaded:
            return self._loaded[name]
        entry = self._entries[name]
        if isinstance(entry, str):
            module, attr = entry.split(":")
            try:
                value = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise self.unavailable(f"{self.kind} {name!r} cannot be loaded: {exc}") from None
        else:
            value = entry
        self._loaded[name] = value
        return value

    def target(self, name: str) -> str | T:
        """The entry as registered (the ``"module:Name"`` string for lazy ones)."""
        self._check(name)
        return self._entries[name]

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} entries)"


def _describe(entry: Any) -> str:
    if isinstance(entry, str):
        return repr(entry)
    mod = getattr(entry, "__module__", None)
    qual = getattr(entry, "__qualname__", None)
    return f"{mod}:{qual}" if mod and qual else repr(entry)


__all__ = ["LoadError", "Registry", "ShadowWarning"]
