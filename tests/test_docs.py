"""The documentation: its hand-written example files, its tutorials, its generators, the README.

The strict site build itself (``mkdocs build --strict``) runs in ``make test`` before
pytest; here are the parts that can be checked without MkDocs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import splitopt
from splitopt.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "data" / "docs-examples"
sys.path.insert(0, str(ROOT / "tools"))
import docsgen  # noqa: E402


# -- the files a new user writes from the guides --------------------------------------------
def test_docs_problem_example_solves_as_the_guide_says(capsys):
    problem = splitopt.read(EXAMPLES / "problem.json")
    result = splitopt.solve(problem, "dp-exact")
    by_id = {r.id: r for r in result}
    # photo-caption: served; its 200 MB budget keeps the 400 MB middle layer off the client
    assert by_id["photo-caption"].status == "optimal"
    assert by_id["photo-caption"].placement[1] == "S"
    # too-tight: the SLA is below the fastest placement, and the reason says so
    assert by_id["too-tight"].status == "infeasible"
    why = splitopt.reasons(result)
    assert set(why) == {"too-tight"}
    assert why["too-tight"].code == "sla-below-fastest"
    assert why["too-tight"].min_latency_s > why["too-tight"].sla_s
    assert main(["validate", str(EXAMPLES / "problem.json")]) == 0


def test_docs_scenario_example_compiles_gpt2_to_14_layers():
    problem = splitopt.read(EXAMPLES / "scenario.json")
    assert len(problem.requests) == 3
    assert {r.chain.num_layers for r in problem.requests} == {14}
    result = splitopt.solve(problem, "dp-exact")
    assert result.evaluation.num_feasible == 3
    assert main(["validate", str(EXAMPLES / "scenario.json")]) == 0


def test_docs_cluster_example_reads_and_places():
    cluster = splitopt.read_cluster(EXAMPLES / "cluster.json")
    assert cluster.model.num_blocks == 6 and len(cluster.servers) == 2
    assert len(cluster.jobs) == 3  # office has count 2
    placed = splitopt.place(cluster, "cg-bprr")
    assert placed.feasible and placed.objective > 0


# -- tutorials: the scripts the site shows ----------------------------------------------------
@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_tutorial_runs(script):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", f"examples/{script}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]


# -- generators -----------------------------------------------------------------------------
def test_every_schema_field_has_a_row():
    for name in docsgen.schema_names():
        text = docsgen.schema_markdown(name)
        schema = json.loads((docsgen.SCHEMAS / f"{name}.schema.json").read_text())
        nodes = [schema, *schema.get("$defs", {}).values()]
        for node in nodes:
            for field in node.get("properties", {}):
                assert f"| `{field}` |" in text, (name, field)


def test_schema_descriptions_are_rendered_and_missing_ones_flagged():
    schema = {
        "x-name": "t",
        "type": "object",
        "required": ["a_s"],
        "properties": {
            "a_s": {"type": "number", "description": "the time"},
            "b_bytes": {"type": "number", "x-unit": "GiB"},
        },
    }
    missing: list[str] = []
    table = docsgen.field_table(schema, schema, missing, "t")
    assert "| `a_s` | number | s | yes | the time |" in table
    assert "| `b_bytes` | number | GiB |" in table and docsgen.NO_DESCRIPTION in table
    assert missing == ["t.b_bytes"]


def test_cli_reference_covers_every_command():
    text = docsgen.cli_markdown()
    import argparse

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in sub.choices:
        assert f"## `splitopt {name}`" in text


def test_unknown_directive_or_file_fails():
    with pytest.raises(docsgen.DocsError):
        docsgen.render("<!-- splitopt:include no/such/file.md -->\n", "p.md")
    with pytest.raises(docsgen.DocsError):
        docsgen.render("<!-- splitopt:nonsense -->\n", "p.md")
    with pytest.raises(docsgen.DocsError):
        docsgen.render("<!-- splitopt:include ../../etc/passwd -->\n", "p.md")


# -- README ------------------------------------------------------------------------------------
def test_readme_is_short_starts_with_the_two_commands_and_links_exist():
    text = (ROOT / "README.md").read_text()
    lines = text.splitlines()
    assert len(lines) <= 250
    block = "\n".join(lines[:6])
    assert "make demo" in block and "make test" in block
    assert not re.search(r"\bissue \d+", text, re.I)
    for target in re.findall(r"\]\((?!https?:)([^)#]+)", text):
        assert (ROOT / target).exists(), target


def test_user_docs_carry_no_issue_labels():
    for page in (ROOT / "docs").rglob("*.md"):
        assert not re.search(r"\(issue \d+\)|\bissue \d+'s\b", page.read_text()), page


# -- packaging ---------------------------------------------------------------------------------
def test_no_warnings_under_w_error():
    """Every baseline and DP, on both start/end sides, with warnings as errors (on Python
    3.12+ ``~`` on a bool was a DeprecationWarning in solvers/baselines.py)."""
    code = """
import numpy as np, splitopt
from splitopt.problem import Chain, Problem, Request
reqs = []
for i, (s, e) in enumerate([("client", "client"), ("server", "client"), ("client", "server")]):
    ch = Chain([1.0, 2.0, 0.5], [0.1, 0.2, 0.1], [1.0, 2.0, 1.0], [0.3, 0.1, 0.2, 0.1],
               [0.1, 0.2, 0.1, 0.3], [1e6, 2e6, 1e6], 2.5, 3e6, s, e)
    reqs.append(Request(f"r{i}", ch))
p = Problem(name="w", requests=tuple(reqs))
for s in ("greedy", "greedy-skip", "greedy-backward", "greedy-ratio", "best-cut",
          "server-only", "dp", "dp-exact", "brute-force"):
    splitopt.reasons(splitopt.solve(p, s))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
