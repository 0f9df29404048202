"""The split-half trace study: token lengths from the Azure trace reach the
instances, the rows carry the confirmatory accounting and the tables are
generated from them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from splitopt.experiments import split_traces as st
from splitopt.experiments.harness import experiment_tasks


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    out = []
    for lengths in ("paper", "azure-code"):
        for seed in (0, 1):
            r = st.run_split_traces(seed, "small", "calibrated", lengths)
            out.append(
                {
                    **{k: str(v) for k, v in r.items()},
                    "seed": str(seed),
                    "cost_model": "calibrated",
                    "lengths": lengths,
                }
            )
    return out


def test_trace_lengths_reach_the_instance(rows: list[dict[str, str]]) -> None:
    """The code trace's prompts (about 2,000 tokens, capped by the models'
    contexts) are longer than the family's log-uniform ranges (at most 768)."""
    paper = [float(r["prompt_mean"]) for r in rows if r["lengths"] == "paper"]
    code = [float(r["prompt_mean"]) for r in rows if r["lengths"] == "azure-code"]
    assert min(code) > max(paper)


def test_rows_hold_the_confirmatory_accounting(rows: list[dict[str, str]]) -> None:
    from splitopt.experiments.confirmatory import class_table

    r = next(r for r in rows if r["lengths"] == "azure-code" and r["seed"] == "1")
    t = json.loads(r["classes"])
    assert t == class_table(1, "small", "calibrated", "azure-code")
    assert math.isclose(float(r["charged_dp"]), math.fsum(t["c_dp"]))
    # the DP never charges more than server-only
    assert float(r["charged_dp"]) <= float(r["charged_server_only"]) * (1 + 1e-12)


def test_tables_are_generated_from_the_rows(rows: list[dict[str, str]], tmp_path: Path) -> None:
    summary = st.summarise(rows, replicates=200)
    assert [s["lengths"] for s in summary] == ["paper", "azure-code"]
    made = st.write_tables(summary, tmp_path)
    tex = (tmp_path / "split_traces.tex").read_text()
    red = summary[1]["reduction"]
    assert f"\\newcommand{{\\straceCalAzureCodeReduction}}{{{red:.1f}}}" in tex
    assert {p.name for p in made} == {"split_traces.csv", "split_traces.md", "split_traces.tex"}


def test_experiment_is_registered() -> None:
    tasks = experiment_tasks("split-traces", seed=5, repetitions=2, quick=True)
    assert len(tasks) == len(st.LENGTHS) * 2 * 2
    assert {t.param_dict()["lengths"] for t in tasks} == set(st.LENGTHS)
