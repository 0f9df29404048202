"""Request traces: the Azure LLM inference trace 2023 CSV layout.

Columns ``TIMESTAMP`` (invocation time, ``YYYY-MM-DD HH:MM:SS.fffffff``),
``ContextTokens`` (prompt tokens) and ``GeneratedTokens`` (output tokens), one request
per row in time order (``instances/traces/``; CC BY 4.0, Patel et al., "Splitwise",
ISCA 2024).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from splitopt.formats.errors import InputError

COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")


@dataclass(frozen=True, eq=False)
class Trace:
    """Arrival times (s from the first request), prompt and output tokens per request."""

    name: str
    times_s: np.ndarray
    context_tokens: np.ndarray
    generated_tokens: np.ndarray

    def __len__(self) -> int:
        return int(self.times_s.shape[0])

    @property
    def rate_per_s(self) -> float:
        """Mean arrival rate over the trace (req/s)."""
        span = float(self.times_s[-1] - self.times_s[0])
        return (len(self) - 1) / span if span > 0 else float("inf")


def read_trace(file: str | os.PathLike) -> Trace:
    """Read a trace CSV; :class:`InputError` (file, row, column) on anything malformed."""
    try:
        with open(file, newline="", encoding="utf-8-sig") as fh:
            return _parse(file, fh)
    except OSError as exc:
        raise InputError(file, [], f"cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(file, [], f"not a CSV text file ({exc})") from None


def _parse(file: str | os.PathLike, fh: Iterable[str]) -> Trace:
    rows = csv.reader(fh)
    header = next(rows, None)
    if header is None or [h.strip() for h in header[:3]] != list(COLUMNS):
        raise InputError(file, [0], f"header must start with {','.join(COLUMNS)}")
    stamps: list[str] = []
    ctx: list[int] = []
    gen: list[int] = []
    for i, row in enumerate(rows, start=1):
        if len(row) < 3:
            raise InputError(file, [i], f"has {len(row)} fields, expected 3")
        stamps.append(row[0].strip().replace(" ", "T"))
        for out, k in ((ctx, 1), (gen, 2)):
            try:
                v = int(row[k])
            except ValueError:
                msg = f"not a whole number: {row[k]!r}"
                raise InputError(file, [i, COLUMNS[k]], msg) from None
            if v < 0 or (k == 2 and v < 1):
                raise InputError(file, [i, COLUMNS[k]], f"out of range: {v}")
            out.append(v)
    if not stamps:
        raise InputError(file, [], "holds no requests")
    try:
        t = np.array(stamps, dtype="datetime64[ns]")
    except ValueError as exc:
        raise InputError(file, [COLUMNS[0]], f"unreadable timestamp ({exc})") from None
    sec = (t - t[0]).astype(np.int64) / 1e9
    if (np.diff(sec) < 0).any():
        i = int(np.flatnonzero(np.diff(sec) < 0)[0]) + 2
        raise InputError(file, [i, COLUMNS[0]], "timestamps must not decrease")
    name = os.path.splitext(os.path.basename(os.fspath(file)))[0]
    return Trace(name, sec, np.array(ctx, dtype=np.int64), np.array(gen, dtype=np.int64))


__all__ = ["COLUMNS", "Trace", "read_trace"]
