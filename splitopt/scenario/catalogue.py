"""Loading the catalogues shipped as data (``splitopt/data/*.json``).

Each file holds ``{"about": ..., "entries": [...]}``; an entry has the fields
of an explicit object in a scenario file (e.g. ``memory_bandwidth_bytes_per_s``)
and is checked by the same constructor, so a broken entry raises
:class:`~splitopt.errors.SpecError` naming the file, the entry and the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any, TypeVar

from splitopt.errors import SpecError
from splitopt.scenario import rules

T = TypeVar("T")


def entries(name: str) -> list[dict[str, Any]]:
    """The entries of ``splitopt/data/NAME.json``."""
    text = (resources.files("splitopt") / "data" / f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)["entries"]


def load(name: str, make: Callable[..., T], file_names: Mapping[str, str] = {}) -> dict[str, T]:
    """``entry name -> make(**attributes)`` for every entry of catalogue ``name``;
    ``file_names`` maps attribute names to the file's field names."""
    attr = {v: k for k, v in file_names.items()}
    out: dict[str, T] = {}
    for i, e in enumerate(entries(name)):
        where: list[str | int] = [f"{name}.json", "entries", i]
        try:
            obj = make(**{attr.get(k, k): v for k, v in e.items()})
        except SpecError as exc:
            exc = rules.renamed(exc, file_names)
            raise SpecError([*where, *exc.path], exc.reason) from None
        except TypeError as exc:  # an unknown or missing field
            raise SpecError(where, str(exc)) from None
        key = getattr(obj, "name")  # noqa: B009
        if key in out:
            raise SpecError([*where, "name"], f"duplicate name {key!r}")
        out[key] = obj
    return out
