"""The scenario-family builder: config validation, determinism, one SLA, typed overrides."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import splitopt.families.scenario_family as sf
import splitopt.formats.read as read_mod
import splitopt.formats.scenario_file as scenario_file
import splitopt.scenario.compile as compile_mod
from splitopt.errors import FamilyError, UserError
from splitopt.families import get_scenario_family
from splitopt.families.llm_edge import FAMILY as LLM_EDGE
from splitopt.families.paper_like import FAMILY as PAPER_LIKE
from splitopt.families.scenario_family import (
    ClientEntry,
    ModelGroup,
    ScenarioFamily,
    SizeSpec,
    SlaRule,
    build,
    calibrate_slas,
    latency_bounds,
)
from splitopt.formats.problem_file import problem_to_dict
from splitopt.scenario.architectures import ARCHITECTURES

FAMILIES = [LLM_EDGE, PAPER_LIKE]


def _classes_by_name(scenario):  # type: ignore[no-untyped-def]
    return {rc.name: rc for rc in scenario.requests}


# -- configuration ---------------------------------------------------------------------


def test_registry_gives_the_tables() -> None:
    assert get_scenario_family("llm-edge") is LLM_EDGE
    assert get_scenario_family("paper-like") is PAPER_LIKE
    with pytest.raises(FamilyError, match="not scenario-based"):
        get_scenario_family("random-chain")
    with pytest.raises(FamilyError, match="unknown family"):
        get_scenario_family("nope")


def test_config_is_frozen_and_replace_returns_a_new_validated_one() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        LLM_EDGE.count = 3  # type: ignore[misc]
    other = LLM_EDGE.replace(prompt_tokens=64)
    assert other is not LLM_EDGE
    assert other.prompt_tokens == 64 and LLM_EDGE.prompt_tokens is None
    assert dataclasses.replace(other, prompt_tokens=None) == LLM_EDGE
    with pytest.raises(TypeError):
        LLM_EDGE.sizes["tiny"] = SizeSpec(1, 1, 1)  # type: ignore[index]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prompt_tokens": 0}, "prompt_tokens must be an integer >= 1"),
        ({"output_tokens": -1}, "output_tokens must be an integer >= 0"),
        ({"count": 1.5}, "count must be an integer"),
        ({"classes": 0}, "classes must be an integer >= 1"),
        ({"client": "toaster"}, "unknown client 'toaster'"),
        ({"granularity": "atom"}, "unknown granularity"),
        ({"work_unit": "J"}, "unknown work unit"),
        ({"servers": ("no-such-gpu",)}, "unknown server device"),
        ({"servers": ()}, "at least one server"),
        ({"dtypes": (("int4", 0.5), ("int8", 0.4))}, "sum to 1"),
        ({"dtypes": (("fp8", 1.0),)}, "unknown dtype"),
        ({"rate_fraction": 1.5}, "rate_fraction"),
        ({"rates": (0.0, 1.0)}, "rates"),
        ({"sla": SlaRule(infeasible_frac=0.7, generous_frac=0.7)}, "SLA fractions"),
        ({"sla": SlaRule(binding=(0.5, 0.1))}, "binding"),
        ({"sla_stream": "x"}, "sla_stream"),
        ({"class_names": "model"}, "class_names"),
        ({"sizes": {"tiny": SizeSpec(6, 99, 3)}}, "clients but the table has"),
        ({"sizes": {}}, "at least one size"),
        ({"clients": {"x": ClientEntry("no-such-phone", "5g", (1e9, 2e9))}}, "unknown device"),
        ({"clients": {"x": ClientEntry("rtx-3060", "carrier-pigeon", (1e9, 2e9))}}, "network"),
        ({"clients": {"x": ClientEntry("rtx-3060", "1gbe", (2e9, 1e9))}}, "budget range"),
        ({"groups": (ModelGroup("G", ("gpt-5",), (1, 2)),)}, "unknown architecture"),
        ({"groups": (ModelGroup("G", ("gpt2",), None),)}, "needs a prompt_tokens range"),
        ({"groups": (ModelGroup("G", ("bert-base",), (1, 9), (1, 4)),)}, "does not generate"),
        ({"groups": (ModelGroup("G", ("gpt2",), (9, 1)),)}, "prompt_tokens range"),
        ({"bogus": 1}, "unknown family setting"),
    ],
)
def test_bad_config_is_a_family_error(changes: dict, message: str) -> None:
    base = LLM_EDGE.replace(sizes={"tiny": SizeSpec(6, 1, 3)}) if "clients" in changes else LLM_EDGE
    with pytest.raises(FamilyError, match=message) as info:
        base.replace(**changes)
    assert isinstance(info.value, UserError)  # exit code 2 in the CLI


def test_unknown_size_is_a_family_error() -> None:
    with pytest.raises(FamilyError, match="unknown size 'huge'"):
        build(LLM_EDGE, 0, "huge")


def test_only_architectures() -> None:
    fam = PAPER_LIKE.only_architectures(["gpt2-large", "bert-base"])
    assert [g.label for g in fam.groups] == ["BERT", "GPT-2"]
    archs = {m.architecture.name for m in fam.build(3, "small").scenario.models.values()}
    assert archs <= {"gpt2-large", "bert-base"} and archs
    with pytest.raises(FamilyError, match="not in the family"):
        PAPER_LIKE.only_architectures(["llama-3-8b"])


# -- determinism -----------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_deterministic_per_seed(family: ScenarioFamily) -> None:
    a, b, c = build(family, 7, "small"), build(family, 7, "small"), build(family, 8, "small")
    assert a.scenario == b.scenario
    assert problem_to_dict(a.problem) == problem_to_dict(b.problem)
    assert a.scenario != c.scenario
    assert problem_to_dict(a.problem) != problem_to_dict(c.problem)
    assert a.problem.name == f"{family.name}-small-s7"


# -- one validation, one costing, one SLA ----------------------------------------------


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_costed_once_calibrated_once_no_json(
    family: ScenarioFamily, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"class_chains": 0, "chain_arrays": 0, "calibrate": 0}
    real_cc, real_ca, real_cal = sf.class_chains, compile_mod.chain_arrays, sf.calibrate_slas

    def count(name, fn):  # type: ignore[no-untyped-def]
        def wrapped(*a, **k):  # type: ignore[no-untyped-def]
            calls[name] += 1
            return fn(*a, **k)

        return wrapped

    def no_json(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("the builder must not go through scenario documents")

    monkeypatch.setattr(sf, "class_chains", count("class_chains", real_cc))
    monkeypatch.setattr(compile_mod, "chain_arrays", count("chain_arrays", real_ca))
    monkeypatch.setattr(sf, "calibrate_slas", count("calibrate", real_cal))
    # compile cannot read documents at all (layers); the format layer's readers must
    # not be called either
    monkeypatch.setattr(scenario_file, "scenario_from_dict", no_json)
    monkeypatch.setattr(read_mod, "scenario_from_dict", no_json)
    inst = build(family, 2, "small")
    pairs = {(rc.model, rc.client) for rc in inst.scenario.requests}
    assert calls == {"class_chains": 1, "chain_arrays": len(pairs), "calibrate": 1}


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_sla_stored_once(family: ScenarioFamily) -> None:
    inst = build(family.replace(sla_stream=11), 4, "medium")
    classes = _classes_by_name(inst.scenario)
    first: dict[str, object] = {}
    for r in inst.problem:
        assert "sla_s" not in r.meta
        rc = classes[r.meta["class"]]
        assert r.chain.sla_s == rc.sla_s
        first.setdefault(rc.name, r.chain)
    # each class's SLA is the rule applied to its own (final) chain: recalibrating
    # the problem's chains with the same stream gives the stored SLAs back
    chains = [first[rc.name] for rc in inst.scenario.requests]
    again = calibrate_slas(chains, np.random.default_rng([4, 11]), family.sla)  # type: ignore[arg-type]
    assert again == [rc.sla_s for rc in inst.scenario.requests]


def test_calibration_rule_places_slas() -> None:
    chains = [r.chain for r in build(LLM_EDGE, 5, "small").problem]
    bounds = [latency_bounds(c) for c in chains]
    # all drawn infeasible: below the least latency
    slas = calibrate_slas(chains, np.random.default_rng(0), SlaRule(1.0, 0.0))
    assert all(s < t for s, (t, _, _) in zip(slas, bounds, strict=True))
    # none infeasible, none generous, f = 0.5: halfway between T_min and T_client
    # (4 significant digits), or raised where all-client does not fit
    slas = calibrate_slas(chains, np.random.default_rng(0), SlaRule(0.0, 0.0, (0.5, 0.5)))
    checked = 0
    for s, c, (t_min, t_client, _) in zip(slas, chains, bounds, strict=True):
        assert s >= t_min * (1 - 5e-4)
        if t_client > t_min * (1 + 1e-6) and c.client_memory_bytes.sum() <= c.budget:
            mid = t_min + 0.5 * (t_client - t_min)
            assert s == pytest.approx(mid, rel=6e-4)
            checked += 1
    assert checked >= 3
    # the same stream gives the same SLAs
    a = calibrate_slas(chains, np.random.default_rng(3))
    assert a == calibrate_slas(chains, np.random.default_rng(3))


# -- typed overrides -------------------------------------------------------------------


def _without(rc, *fields):  # type: ignore[no-untyped-def]
    """``rc``'s fields as a dict, ``fields`` left out (constructors reject None)."""
    d = dataclasses.asdict(rc)
    for f in fields:
        del d[f]
    return d


@pytest.mark.parametrize(
    ("override", "field"),
    [({"prompt_tokens": 64}, "prompt_tokens"), ({"output_tokens": 8}, "output_tokens")],
)
def test_token_override_changes_only_tokens_and_slas(override: dict, field: str) -> None:
    base = build(LLM_EDGE.replace(sla_stream=7919), 1, "small").scenario
    new = build(LLM_EDGE.replace(sla_stream=7919, **override), 1, "small").scenario
    assert (new.server, new.clients, new.models) == (base.server, base.clients, base.models)
    value = override[field]
    for a, b in zip(base.requests, new.requests, strict=True):
        ctx = new.models[b.model].architecture.max_context
        other = b.output_tokens if field == "prompt_tokens" else b.prompt_tokens
        assert getattr(b, field) == min(value, ctx - other)
        assert _without(a, field, "sla_s") == _without(b, field, "sla_s")
    assert {
        b.prompt_tokens if field == "prompt_tokens" else b.output_tokens for b in new.requests
    } == {value}


def test_client_override_changes_only_the_client() -> None:
    base = build(LLM_EDGE, 2, "small").scenario
    drawn = next(iter(base.clients))
    absent = next(c for c in LLM_EDGE.clients if c not in base.clients)
    for name in (drawn, absent):
        new = build(LLM_EDGE.replace(client=name), 2, "small").scenario
        assert list(new.clients) == [name]
        budget = new.clients[name].memory_budget_bytes
        if name == drawn:
            assert budget == base.clients[name].memory_budget_bytes
        else:
            assert budget == LLM_EDGE.clients[name].mid_budget_bytes
        assert {rc.client for rc in new.requests} == {name}
        assert (new.server, new.models) == (base.server, base.models)
        for a, b in zip(base.requests, new.requests, strict=True):
            assert _without(a, "client", "sla_s") == _without(b, "client", "sla_s")


def test_override_keeps_vision_and_encoder_tokens() -> None:
    base = build(PAPER_LIKE, 1, "small").scenario
    new = build(PAPER_LIKE.replace(prompt_tokens=20, output_tokens=5), 1, "small").scenario
    for a, b in zip(base.requests, new.requests, strict=True):
        arch = ARCHITECTURES[new.models[b.model].architecture.name]
        if arch.fixed_tokens is not None:
            assert b.prompt_tokens == a.prompt_tokens == arch.fixed_tokens
        else:
            assert b.prompt_tokens == 20
        assert b.output_tokens == (5 if arch.generates else 0)


def test_sla_stream_changes_only_slas_and_no_override_changes_nothing() -> None:
    base = build(LLM_EDGE, 3, "small")
    assert problem_to_dict(build(LLM_EDGE.replace(), 3, "small").problem) == problem_to_dict(
        base.problem
    )
    other = build(LLM_EDGE.replace(sla_stream=7919), 3, "small").scenario
    assert [_without(rc, "sla_s") for rc in other.requests] == [
        _without(rc, "sla_s") for rc in base.scenario.requests
    ]
    assert [rc.sla_s for rc in other.requests] != [rc.sla_s for rc in base.scenario.requests]


def test_count_and_classes_overrides() -> None:
    inst = build(LLM_EDGE.replace(classes=5, count=7), 0, "small")
    assert len(inst.scenario.requests) == 5
    assert all(rc.count == 7 and rc.rate is None for rc in inst.scenario.requests)
    assert len(inst.problem) == 35
    assert len({id(r.chain) for r in inst.problem}) == 5  # one chain per class


def test_assemble_needs_one_chain_per_class() -> None:
    inst = build(LLM_EDGE, 0, "tiny")
    with pytest.raises(ValueError, match="one chain per request class"):
        compile_mod.assemble_problem(inst.scenario, list(inst.problem.chains)[:1])
