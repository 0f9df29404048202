"""The scenario types check their own rules; errors carry the field path."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.errors import SpecError, UserError
from splitopt.evaluate import min_latency, score
from splitopt.families.random_chain import random_chain
from splitopt.scenario import get_architecture, get_device, get_network
from splitopt.scenario.compile import assemble_problem, class_chains
from splitopt.scenario.spec import ClientSpec, ModelSpec, RequestClass, Scenario, ServerSpec


def _scenario(**changes: object) -> Scenario:
    phone = ClientSpec("phone", get_device("snapdragon-8-gen-3"), get_network("5g"))
    model = ModelSpec("gpt", get_architecture("gpt2"), "fp16")
    kw: dict = {
        "name": "t",
        "description": None,
        "work_unit": "FLOP",
        "server": ServerSpec(get_device("a100-80gb")),
        "clients": {"phone": phone},
        "models": {"gpt": model},
        "requests": (RequestClass("a", "phone", "gpt", 64, 16, 1.0, count=3),),
    }
    kw.update(changes)
    return Scenario(**kw)  # type: ignore[arg-type]


def test_defaults_are_applied_in_constructors() -> None:
    dev = get_device("snapdragon-8-gen-3")
    c = ClientSpec("phone", dev, get_network("5g"))
    assert c.memory_budget_bytes == float(dev.memory_bytes)
    assert ClientSpec("phone", dev, get_network("5g"), None).memory_budget_bytes is None
    m = ModelSpec("m", get_architecture("gpt2"), "int4")
    assert m.compute_dtype == "fp16" and m.granularity == "block"
    assert _scenario().num_requests == 3


@pytest.mark.parametrize(
    ("make", "path", "reason"),
    [
        (lambda: ModelSpec("m", get_architecture("gpt2"), "fp8"), ["dtype"], "unknown value"),
        (
            lambda: ClientSpec("c", get_device("rtx-4090"), get_network("5g"), -1.0),
            ["memory_budget_bytes"],
            "must be non-negative, got -1",
        ),
        (lambda: RequestClass("a", "c", "m", 0), ["prompt_tokens"], "must be >= 1"),
        (lambda: RequestClass("a", "c", "m", 4, sla_s=0.0), ["sla_s"], "must be > 0"),
        (lambda: RequestClass("a/b", "c", "m", 4), ["name"], "without '/'"),
        (lambda: RequestClass("a", "c", "m", 4, count=2, rate=1.0), ["rate"], "not both"),
        (lambda: get_device("rtx-4090").with_efficiency(1.5), ["efficiency"], "(0, 1]"),
        (
            lambda: get_architecture("llama-3-8b").replace(num_kv_heads=5),
            ["num_kv_heads"],
            "must be a multiple",
        ),
        (lambda: _scenario(requests=()), ["requests"], "at least one"),
        (lambda: _scenario(description="a\nb"), ["description"], "one line"),
        (
            lambda: _scenario(requests=(RequestClass("a", "tablet", "gpt", 4),)),
            ["requests", 0, "client"],
            "unknown client 'tablet'",
        ),
        (
            lambda: _scenario(requests=(RequestClass("a", "phone", "gpt", 1000, 100),)),
            ["requests", 0, "output_tokens"],
            "exceeds",
        ),
        (
            lambda: _scenario(
                requests=(
                    RequestClass("a", "phone", "gpt", 4),
                    RequestClass("a", "phone", "gpt", 5),
                )
            ),
            ["requests", 1, "class"],
            "duplicate class name",
        ),
    ],
)
def test_rules_raise_spec_errors_with_paths(make, path, reason) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError) as info:
        make()
    assert info.value.path == path
    assert reason in info.value.reason
    assert isinstance(info.value, UserError)


def test_vision_prompt_tokens_are_filled_in() -> None:
    vit = ModelSpec("vit", get_architecture("vit-b-16"))
    scn = _scenario(models={"vit": vit}, requests=(RequestClass("i", "phone", "vit", None),))
    assert scn.requests[0].prompt_tokens == 197
    with pytest.raises(SpecError, match="missing field"):
        _scenario(requests=(RequestClass("a", "phone", "gpt", None),))


def test_scenario_value_equality() -> None:
    assert _scenario() == _scenario()
    assert _scenario() != _scenario(name="u")


def test_class_chains_cost_each_class_once_and_assemble_expands_counts() -> None:
    scn = _scenario()
    chains = class_chains(scn)
    assert len(chains) == 1 and chains[0].sla_s == 1.0
    problem = assemble_problem(scn, chains)
    assert len(problem) == 3 and all(r.chain is chains[0] for r in problem)
    assert "sla_s" not in problem.requests[0].meta
    assert min_latency(chains[0]) <= score(chains[0], "S" * chains[0].num_layers).latency_s


def test_min_latency_is_the_best_placement() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        chain = random_chain(rng, int(rng.integers(1, 6)))
        L = chain.num_layers
        best = min(
            score(chain, "".join("CS"[(k >> b) & 1] for b in range(L))).latency_s
            for k in range(2**L)
        )
        assert min_latency(chain) == pytest.approx(best, rel=1e-12, abs=1e-12)
