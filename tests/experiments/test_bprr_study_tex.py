"""The many-server study tables/macros are written from the committed outputs and agree
with them (splitopt.experiments.bprr_study_tex)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from splitopt.experiments import bprr_study_tex as st

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "paper" / "generated"
INPUTS = ("bprr_semantics.md", "bprr_load.md", "bprr_traces.md", "sim_opt_rule.json")


def _macros(text: str) -> dict[str, str]:
    return dict(re.findall(r"\\newcommand\{\\(\w+)\}\{(.*)\}", text))


def test_written_files_match_the_committed_ones(tmp_path: Path) -> None:
    for name in INPUTS:
        shutil.copy(GEN / name, tmp_path / name)
    written = st.write(tmp_path, ROOT / "benchmarks" / "authors_check.json")
    for p in written:
        stale = f"{p.name} is stale: make -C paper bprr-study"
        assert p.read_text() == (GEN / p.name).read_text(), stale


def test_macros_agree_with_the_tables() -> None:
    m = _macros((GEN / "bprr_study_numbers.tex").read_text())
    head, rows = st.md_tables(GEN / "bprr_load.md")[0]
    pet, cg = head.index("petals+petals"), head.index("cg-bp+ws-rr")
    loses = [r for r in rows if float(r[cg].split("±")[0]) > float(r[pet].split("±")[0])]
    assert m["loadCells"] == str(len(rows)) and m["loadCgLoses"] == str(len(loses))
    head, rows = st.md_tables(GEN / "bprr_traces.md")[0]
    assert m["traceCells"] == str(len(rows))
    assert int(m["traceAllGbpBest"]) + int(m["traceAllCgBest"]) <= len(rows)
    load_tex = (GEN / "bprr_load.tex").read_text()
    assert load_tex.count(r"\\" + "\n") >= int(m["loadCells"])  # every cell is a row


def test_md_tables_reads_pipe_tables(tmp_path: Path) -> None:
    p = tmp_path / "t.md"
    p.write_text("x\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\ny\n| c |\n|---|\n| 5 |\n")
    assert st.md_tables(p) == [(["a", "b"], [["1", "2"], ["3", "4"]]), (["c"], [["5"]])]
    assert st.tex("1.0 ± 0.2 (-5 %)") == r"1.0 $\pm$ 0.2 ($-$5\,\%)"
