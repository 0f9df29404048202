"""The cost-model option: ``uncalibrated-roofline`` (the pre-issue-12 model, kept
only for comparison) reproduces what the code before issue 12's calibration
compiled, and the default stays the calibrated model.

The references in ``tests/data/uncalibrated/`` were written by the pre-issue-12
code (commit ed417b5^): ``expected-problem.json`` is ``splitopt compile
scenario.json`` run there, and ``{paper-like,llm-edge}-tiny-s1.json`` are the
shipped instances as that commit generated them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from splitopt.errors import FamilyError
from splitopt.families import generate, get_scenario_family
from splitopt.formats.read import compile_file, read_any
from splitopt.problem import Problem
from splitopt.scenario.cost_models import (
    CALIBRATED,
    COST_MODELS,
    UNCALIBRATED,
    check_cost_model,
    figures_id,
    nominal_precision,
    uncalibrated_device,
)
from splitopt.scenario.costmodel import precision
from splitopt.scenario.devices import DEVICES
from tests.conftest import DATA

REF = DATA / "uncalibrated"
FIELDS = (
    "client_time_s",
    "server_time_s",
    "server_work",
    "uplink_s",
    "downlink_s",
    "client_memory_bytes",
)


def same_arrays(a: Problem, b: Problem) -> bool:
    """Same requests, weights, SLAs, budgets and arrays (bit for bit)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a.requests, b.requests, strict=True):
        if (x.id, x.weight, x.chain.sla_s, x.chain.memory_budget_bytes) != (
            y.id,
            y.weight,
            y.chain.sla_s,
            y.chain.memory_budget_bytes,
        ):
            return False
        if not all(np.array_equal(getattr(x.chain, f), getattr(y.chain, f)) for f in FIELDS):
            return False
    return True


def test_uncalibrated_option_reproduces_pre_issue_12_arrays() -> None:
    old = read_any(REF / "expected-problem.json")
    assert same_arrays(compile_file(REF / "scenario.json", UNCALIBRATED), old)
    # the default is the calibrated model, and it costs the same scenario differently
    cal = compile_file(REF / "scenario.json")
    assert cal == compile_file(REF / "scenario.json", CALIBRATED)
    assert not same_arrays(cal, old)


@pytest.mark.parametrize("family", ["paper-like", "llm-edge"])
def test_uncalibrated_family_reproduces_pre_issue_12_instance(family: str) -> None:
    old = read_any(REF / f"{family}-tiny-s1.json")
    assert same_arrays(generate(family, 1, "tiny", cost_model=UNCALIBRATED), old)
    cal = generate(family, 1, "tiny")
    # same draws (ids, weights) under both models; the arrays and SLAs follow the model
    assert [(r.id, r.weight) for r in cal.requests] == [(r.id, r.weight) for r in old.requests]
    assert not same_arrays(cal, old)


def test_uncalibrated_device_figures_by_kind() -> None:
    expect = {"datacenter-gpu": 0.6, "edge-board": 0.4, "sbc": 0.4, "phone": 0.3}
    for d in DEVICES.values():
        u = uncalibrated_device(d)
        e = expect.get(d.kind, 0.5)
        assert (u.compute_efficiency, u.bandwidth_efficiency, u.efficiency) == (e, e, e)
        assert u.prefill_overhead_s == u.step_overhead_s == 0.0
        assert (u.peak_flops, u.memory_bandwidth, u.memory_bytes) == (
            d.peak_flops,
            d.memory_bandwidth,
            d.memory_bytes,
        )


def test_nominal_precision_only_changes_block_formats() -> None:
    assert nominal_precision(precision("q4_k_m")).weight_bytes == 0.5
    assert nominal_precision(precision("q8_0")).weight_bytes == 1.0
    assert precision("q4_k_m").weight_bytes == pytest.approx(4.85 / 8)
    for d in ("fp32", "fp16", "int8", "int4"):
        assert nominal_precision(precision(d)) == precision(d)


def test_unknown_cost_model_is_refused() -> None:
    with pytest.raises(ValueError, match="valid: calibrated, uncalibrated-roofline"):
        check_cost_model("roofline")
    with pytest.raises(FamilyError, match="unknown cost model"):
        get_scenario_family("paper-like").replace(cost_model="old")


def test_figures_id_tells_the_models_apart() -> None:
    assert figures_id(CALIBRATED) != figures_id(UNCALIBRATED)
    assert len(figures_id(CALIBRATED)) == 8


def test_cli_choices_are_the_cost_models() -> None:
    from splitopt.cli import COST_MODEL_CHOICES

    assert COST_MODEL_CHOICES == COST_MODELS


def test_cli_compile_and_generate_take_the_option(tmp_path, cli) -> None:
    out = tmp_path / "p.json"
    r = cli("compile", str(REF / "scenario.json"), "-o", str(out), "--cost-model", UNCALIBRATED)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["meta"]["cost_model"] == UNCALIBRATED
    assert same_arrays(read_any(out), read_any(REF / "expected-problem.json"))
    r = cli("generate", "paper-like", "--seed", "1", "--size", "tiny", "-o", str(out),
                "--cost-model", UNCALIBRATED)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["meta"]["cost_model"] == UNCALIBRATED
    assert same_arrays(read_any(out), read_any(REF / "paper-like-tiny-s1.json"))
    r = cli("generate", "random-chain", "--seed", "1", "-o", str(tmp_path / "r.json"),
                "--cost-model", UNCALIBRATED)  # fmt: skip
    assert r.returncode == 2 and "scenario families only" in r.stderr
    assert not (tmp_path / "r.json").exists()
