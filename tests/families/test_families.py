"""Seeded families: determinism, content, shipped instances."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from splitopt._version import __version__
from splitopt.cli import main
from splitopt.families import generate
from splitopt.formats.problem_file import problem_to_dict
from splitopt.solvers import get_solver

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("family", ["paper-like", "llm-edge"])
@pytest.mark.parametrize("size", ["tiny", "small"])
def test_deterministic_per_seed(family: str, size: str) -> None:
    a = problem_to_dict(generate(family, 5, size))
    b = problem_to_dict(generate(family, 5, size))
    c = problem_to_dict(generate(family, 6, size))
    assert a == b
    assert a != c


def test_paper_like_has_the_four_paper_families() -> None:
    p = generate("paper-like", 11, "small")
    fams = {r.meta["model_family"] for r in p}
    assert {"Transformer", "BERT", "GPT-2", "ViT"} <= fams


def test_llm_edge_content() -> None:
    p = generate("llm-edge", 3, "medium")
    assert all(r.chain.memory_budget_bytes is not None for r in p)
    assert any(r.meta["output_tokens"] > 1 for r in p)
    assert len({r.meta["client"] for r in p}) >= 3
    assert len({r.meta["dtype"] for r in p}) >= 2
    assert any(r.weight != 1.0 for r in p)  # arrival-rate classes


@pytest.mark.parametrize("family", ["paper-like", "llm-edge"])
def test_slas_bind_but_mostly_feasible(family: str) -> None:
    p = generate(family, 4, "medium")
    res = get_solver("dp-exact").solve(p)
    placements = [r.placement for r in res if r.feasible]
    assert res.evaluation.num_feasible >= 0.75 * len(p)
    mixed = sum(1 for x in placements if "C" in x and "S" in x)
    assert mixed >= 0.4 * len(placements)
    so = get_solver("server-only").solve(p)
    assert res.objective < so.objective


@pytest.mark.parametrize("family", ["paper-like", "llm-edge"])
def test_options(family: str) -> None:
    a = generate(family, 2, "tiny", granularity="sublayer", work_unit="s")
    b = generate(family, 2, "tiny")
    assert a.work_unit == "s"
    assert a.requests[0].meta["granularity"] == "sublayer"
    assert a.requests[0].chain.num_layers > b.requests[0].chain.num_layers


def _shipped() -> list[Path]:
    return sorted((ROOT / "instances").glob("*/*.json"))


@pytest.mark.parametrize(
    "path",
    [p for p in _shipped() if p.parent.name not in ("demo", "clusters", "profiles", "joint")],
    ids=lambda p: p.name,
)
def test_shipped_instances_regenerate(path: Path, tmp_path: Path) -> None:
    """Each shipped instance is, byte for byte, what its recorded generate command
    writes (the README's command; only the recorded version string may differ)."""
    assert path.stat().st_size < 2_000_000
    shipped = path.read_bytes()
    meta = json.loads(shipped)["meta"]
    readme = (path.parent / "README.md").read_text()
    assert path.name in readme
    command = re.search(rf"`splitopt generate ([^`]*) -o instances/[^`]*/{path.name}`", readme)
    assert command is not None, f"no generate command for {path.name} in the README"
    out = tmp_path / path.name
    assert main(["generate", *command.group(1).split(), "-o", str(out)]) == 0
    fresh = out.read_bytes()
    recorded = f'"splitopt_version": "{meta["splitopt_version"]}"'.encode()
    current = f'"splitopt_version": "{__version__}"'.encode()
    assert shipped.count(recorded) == 1
    assert fresh == shipped.replace(recorded, current)
