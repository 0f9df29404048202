"""Readable LaTeX tables for the paper: header cells wrapped onto short lines and the
table shrunk only when it is still wider than the text (the ``fitwidth``
environment the paper's preamble defines with base LaTeX's ``lrbox`` and graphicx's
``\resizebox``), instead of every table scaled to the text width (which printed the
widest ones at about 4 pt)."""

from __future__ import annotations

import re

#: visible characters per header line (a header wraps at spaces beyond this)
HEAD_WIDTH = 13
#: columns from which a table is set in ``\footnotesize`` rather than ``\small``
MANY_COLUMNS = 8

#: columns from which a table is set sideways (landscape, a page of its own)
SIDEWAYS_COLUMNS = 10

BEGIN_FIT = r"\begin{fitwidth}"
END_FIT = r"\end{fitwidth}"


def _visible(s: str) -> int:
    """Approximate printed width of ``s`` in characters (commands and braces dropped)."""
    s = re.sub(r"\\[A-Za-z]+", "x", s)
    return len(re.sub(r"[{}$^_]", "", s))


def _words(s: str) -> list[str]:
    """``s`` split at spaces outside math and outside braces."""
    out, cur, depth, math = [], "", 0, False
    for ch in s:
        if ch == "$":
            math = not math
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == " " and depth == 0 and not math:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def head_cell(text: str, align: str = "c", width: int = HEAD_WIDTH) -> str:
    """A header cell of LaTeX ``text`` on lines of about ``width`` characters, aligned
    as its column (``l``, ``r`` or ``c``), bottom-aligned with its neighbours."""
    if _visible(text) <= width:
        return text
    lines: list[str] = []
    for w in _words(text):
        if lines and _visible(lines[-1]) + 1 + _visible(w) <= width:
            lines[-1] += " " + w
        else:
            lines.append(w)
    if len(lines) == 1:
        return text
    a = align if align in "lrc" else "c"
    return rf"\begin{{tabular}}[b]{{@{{}}{a}@{{}}}}" + r"\\".join(lines) + r"\end{tabular}"


def head_row(head: list[str] | tuple[str, ...], align: str) -> str:
    """The header row: each cell wrapped by :func:`head_cell` with its column's alignment."""
    cols = [c for c in align if c in "lrcp"]
    return " & ".join(
        head_cell(h, cols[i] if i < len(cols) else "c") for i, h in enumerate(head)
    ) + r" \\"


def size_for(columns: int) -> str:
    """The font size command for a table of ``columns`` columns."""
    return r"\footnotesize" if columns >= MANY_COLUMNS else r"\small"


def begin_table(columns: int) -> str:
    """The float's opening: ``table`` at the top of a page, or ``sidewaystable``
    (package ``rotating``) for a table of ``columns >= SIDEWAYS_COLUMNS``."""
    return r"\begin{sidewaystable}" if columns >= SIDEWAYS_COLUMNS else r"\begin{table}[t]"


def end_table(columns: int) -> str:
    """The closing matching :func:`begin_table`."""
    return r"\end{sidewaystable}" if columns >= SIDEWAYS_COLUMNS else r"\end{table}"


__all__ = [
    "BEGIN_FIT",
    "END_FIT",
    "begin_table",
    "end_table",
    "head_cell",
    "head_row",
    "size_for",
]
