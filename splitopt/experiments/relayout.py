"""Re-set the committed paper tables with the current layout (:mod:`texlayout`) when
their results CSVs are not at hand: each ``NAME.tex`` still in the old layout
(``\\resizebox`` to the text width) is rebuilt from ``NAME.md`` (the same
:class:`~splitopt.experiments.tables.Table` rendered to Markdown), keeping its labels.
Refuses (exit 1, the file left alone) when the rebuilt data rows differ from the old
ones, so only the layout changes.

    python -m splitopt.experiments.relayout paper/generated
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from splitopt.experiments.tables import Table

OLD = r"\resizebox{\linewidth}{!}{%"


def tables_from_markdown(text: str) -> list[Table]:
    """The tables of a page :meth:`Table.markdown` wrote (one or more, in order)."""
    out: list[Table] = []
    for part in re.split(r"\n(?=\*\*)", text.strip()):
        lines = part.strip().splitlines()
        caption = lines[0].strip()[2:-2]
        rows = [ln for ln in lines[1:] if ln.startswith("|")]
        cells = [[c.strip() for c in ln.strip()[1:-1].split(" | ")] for ln in rows]
        note_lines = [ln for ln in lines[1:] if ln.strip() and not ln.startswith("|")]
        out.append(
            Table(caption, cells[0], cells[2:], note="\n".join(note_lines))
        )
    return out


def _data_rows(tex: str) -> list[list[str]]:
    """The body rows of each tabular (between ``\\midrule`` and ``\\bottomrule``)."""
    return [
        [ln for ln in block.strip().splitlines()]
        for block in re.findall(r"\\midrule\n(.*?)\\bottomrule", tex, re.S)
    ]


def relayout(path: Path) -> bool:
    """Rebuild ``path`` (a ``.tex`` beside its ``.md``); True when rewritten."""
    old = path.read_text(encoding="utf-8")
    md = path.with_suffix(".md")
    if OLD not in old or not md.exists():
        return False
    tables = tables_from_markdown(md.read_text(encoding="utf-8"))
    labels = re.findall(r"\\label\{([^}]*)\}", old)
    for t, label in zip(tables, labels, strict=False):
        t.label = label
    new = "\n".join(t.latex() for t in tables)
    if path.name.startswith("bprr_"):  # as bprr_sweeps._tex
        new = new.replace("η", r"$\eta$").replace("±", r"$\pm$")
    if _data_rows(new) != _data_rows(old):
        print(f"{path}: the rebuilt rows differ from the committed ones; left alone")
        raise SystemExit(1)
    path.write_text(new, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "paper/generated")
    for p in sorted(folder.glob("*.tex")):
        if relayout(p):
            print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
