"""The paper tables' layout: wrapped headers that keep math whole, a landscape float for
wide tables, and the relayout converter that only changes the layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from splitopt.experiments.relayout import relayout
from splitopt.experiments.tables import Table
from splitopt.experiments.texlayout import head_cell


def test_header_wraps_at_spaces_outside_math() -> None:
    cell = head_cell(r"mean time per token $l_\mathrm{out} = 128$ (s)", "r")
    assert cell.startswith(r"\begin{tabular}[b]{@{}r@{}}")
    assert r"$l_\mathrm{out} = 128$" in cell  # the math stays on one line
    assert head_cell("PETALS", "r") == "PETALS"


def test_wide_tables_go_sideways_and_shrink_only_when_needed() -> None:
    narrow = Table("c", ["a", "b"], [["1", "2"]]).latex()
    wide = Table("c", [f"h{i}" for i in range(12)], [[str(i) for i in range(12)]]).latex()
    assert r"\begin{table}[t]" in narrow and r"\resizebox" not in narrow
    assert r"\begin{sidewaystable}" in wide and r"\end{sidewaystable}" in wide
    assert r"\begin{fitwidth}" in wide and r"\end{fitwidth}" in wide


def _old_layout(t: Table) -> str:
    new = t.latex()
    return new.replace(r"\begin{fitwidth}", r"\resizebox{\linewidth}{!}{%")


def test_relayout_rebuilds_from_markdown_and_refuses_changed_rows(tmp_path: Path) -> None:
    t = Table("Cap 1.5 %", ["family", "reduction vs server-only (%)"], [["BERT", "43.4"]],
              label="tab:x", note="a note")  # fmt: skip
    tex, md = tmp_path / "t.tex", tmp_path / "t.md"
    tex.write_text(_old_layout(t))
    md.write_text(t.markdown())
    assert relayout(tex)
    assert tex.read_text() == t.latex()
    tex.write_text(_old_layout(t))
    md.write_text(t.markdown().replace("43.4", "44.0"))
    with pytest.raises(SystemExit):
        relayout(tex)
    assert r"\resizebox" in tex.read_text()  # left alone
