"""Scenario files: good files compile, broken ones give file + field + reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from splitopt.formats.errors import InputError
from splitopt.formats.problem_file import problem_to_dict, read_problem, write_problem
from splitopt.formats.read import compile_file, read_any
from splitopt.formats.scenario_file import (
    read_scenario,
    scenario_from_dict,
    scenario_to_dict,
    write_scenario,
)
from splitopt.problem import LAYER_FIELDS

DATA = Path(__file__).resolve().parents[1] / "data" / "scenario"
BROKEN = DATA / "broken"
EXPECTED: dict[str, str] = json.loads((BROKEN / "expected.json").read_text())
ROOT = Path(__file__).resolve().parents[2]
META_KEYS = {
    "model",
    "model_family",
    "client",
    "network",
    "prompt_tokens",
    "output_tokens",
    "class",
    "dtype",
    "granularity",
}


def test_every_broken_file_has_an_expectation() -> None:
    files = {p.name for p in BROKEN.glob("*.json")} - {"expected.json"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_message(name: str) -> None:
    path = BROKEN / name
    with pytest.raises(InputError) as info:
        compile_file(path)
    msg = str(info.value)
    assert msg.startswith(str(path)), msg
    assert EXPECTED[name] in msg, msg


@pytest.mark.parametrize("name", ["minimal.json", "explicit.json", "mixed.json"])
def test_good_files_compile(name: str) -> None:
    problem = compile_file(DATA / "good" / name)
    assert len(problem) >= 2
    for r in problem:
        assert set(r.meta) >= META_KEYS
        assert "sla_s" not in r.meta  # the SLA lives in the chain only


def test_count_expands_to_requests_sharing_one_chain() -> None:
    problem = compile_file(DATA / "good" / "minimal.json")
    ids = problem.ids
    assert ids == ["short/0", "short/1", "short/2", "long"]
    short = [r for r in problem if r.meta["class"] == "short"]
    assert len({id(r.chain) for r in short}) == 1
    assert len({id(r.meta) for r in short}) == 1
    assert len(problem.chains) == 2
    assert [r.weight for r in problem] == [1.0, 1.0, 1.0, 0.25]
    assert problem.requests[3].meta["model_family"] == "GPT-2"
    assert problem.requests[0].chain.memory_budget_bytes == 2e8


def test_explicit_objects_equal_catalogue_names() -> None:
    a = compile_file(DATA / "good" / "minimal.json")
    b = compile_file(DATA / "good" / "explicit.json")
    for ca, cb in zip(a.chains, b.chains, strict=True):
        assert ca.key == cb.key
    assert b.requests[0].meta["model"] == "my-gpt2"


def test_overrides_and_defaults() -> None:
    scn = read_scenario(DATA / "good" / "mixed.json")
    assert scn.work_unit == "s"
    assert scn.server.device.efficiency == 0.5
    assert scn.clients["phone"].device.efficiency == 0.25
    assert scn.clients["board"].device.efficiency == 0.3
    assert scn.clients["board"].network.one_way_delay_s == 0.005
    assert scn.clients["board"].network.uplink_bps == 300e6
    # No budget given: the device's memory; null: unlimited.
    assert scn.clients["board"].memory_budget_bytes == 8e9
    assert scn.clients["pi"].memory_budget_bytes is None
    assert scn.models["tiny-llama"].architecture.num_layers == 4
    assert scn.models["qwen"].compute_dtype == "fp16"
    assert scn.num_requests == 6
    problem = compile_file(DATA / "good" / "mixed.json")
    by_class = {r.meta["class"]: r for r in problem}
    assert by_class["small"].chain.end == "server"
    assert by_class["image"].meta["prompt_tokens"] == 197
    assert by_class["image"].chain.num_layers == 2 + 2 * 12
    assert by_class["small"].chain.num_layers == 6
    np.testing.assert_array_equal(
        by_class["chat"].chain.server_work, by_class["chat"].chain.server_time_s
    )


def test_round_trip_through_files(tmp_path: Path) -> None:
    for name in ("minimal.json", "mixed.json"):
        problem = compile_file(DATA / "good" / name)
        out = tmp_path / f"{name}.problem.json"
        write_problem(problem, out)
        back = read_problem(out)
        assert back.ids == problem.ids
        assert back.work_unit == problem.work_unit
        assert len(back.chains) == len(problem.chains)
        for r1, r2 in zip(problem, back, strict=True):
            assert r1.chain.key == r2.chain.key
            assert r1.weight == r2.weight
            assert dict(r1.meta) == r2.meta
            for f in LAYER_FIELDS:
                np.testing.assert_array_equal(getattr(r1.chain, f), getattr(r2.chain, f))
        assert problem_to_dict(back) == problem_to_dict(problem)


def test_read_any_compiles_scenarios() -> None:
    a = read_any(DATA / "good" / "minimal.json")
    b = compile_file(DATA / "good" / "minimal.json")
    assert problem_to_dict(a) == problem_to_dict(b)


def test_demo_scenario() -> None:
    path = ROOT / "instances" / "demo" / "scenario.json"
    scn = read_scenario(path)
    assert scn.description and "\n" not in scn.description
    problem = compile_file(path)
    assert len({r.meta["class"] for r in problem}) >= 3


def test_cli_reports_bad_scenario(tmp_path: Path, cli) -> None:
    path = BROKEN / "unknown-device.json"
    proc = cli("compile", str(path), "-o", str(tmp_path / "x.json"))
    assert proc.returncode == 2
    assert EXPECTED["unknown-device.json"] in proc.stderr
    assert "Traceback" not in proc.stderr


SHIPPED_SCENARIOS = sorted(
    [*(ROOT / "instances").rglob("scenario*.json"), *(DATA / "good").glob("*.json")]
)


@pytest.mark.parametrize("path", SHIPPED_SCENARIOS, ids=lambda p: p.name)
def test_scenario_round_trips(path: Path, tmp_path: Path) -> None:
    """read -> write -> read gives an equal scenario, and the same compiled problem."""
    scn = read_scenario(path)
    out = tmp_path / "back.json"
    write_scenario(scn, out)
    back = read_scenario(out)
    assert back == scn
    assert scenario_from_dict(scenario_to_dict(back)) == scn
    a, b = compile_file(path), compile_file(out)
    assert problem_to_dict(a) == problem_to_dict(b)


def test_round_trip_writes_catalogue_names_and_explicit_objects() -> None:
    doc = scenario_to_dict(read_scenario(DATA / "good" / "explicit.json"))
    assert isinstance(doc["server"]["device"], dict)
    assert doc["clients"]["desk"]["network"]["uplink_bit_per_s"] == 500e6
    assert doc["models"]["gpt"]["architecture"]["name"] == "my-gpt2"
    minimal = scenario_to_dict(read_scenario(DATA / "good" / "minimal.json"))
    assert all(isinstance(m["architecture"], str) for m in minimal["models"].values())
