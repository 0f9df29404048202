"""``llm-edge``: modern LLMs on phones, laptops and edge boards.

Llama-3.x, Qwen2.5, Phi-3, Mistral and Llama-2 models in bf16, int8 or int4
on clients with memory budgets (phones over 5G or LTE, Apple laptops over
Wi-Fi 6, Jetson boards, desktop GPUs, a Raspberry Pi), prompts of 16 to 4096
tokens and 1 to 512 output tokens (prefill and decode), served by one
datacenter GPU. Classes carry counts (1-3) or arrival rates (weights). SLAs are
set per class so that they bind (:class:`~splitopt.families.scenario_family.SlaRule`).

The family is the table :data:`FAMILY`, built by
:func:`splitopt.families.scenario_family.build`.
"""

from __future__ import annotations

from splitopt.families.scenario_family import ClientEntry, ModelGroup, ScenarioFamily, SizeSpec
from splitopt.problem import Problem

MODELS: tuple[str, ...] = (
    "llama-3.2-1b",
    "llama-3.2-3b",
    "qwen2.5-0.5b",
    "qwen2.5-1.5b",
    "qwen2.5-3b",
    "qwen2.5-7b",
    "phi-3-mini",
    "llama-3-8b",
    "mistral-7b",
    "llama-2-7b",
)

FAMILY = ScenarioFamily(
    name="llm-edge",
    description="modern LLMs on {clients} edge clients with memory budgets, "
    "{server} server, prefill + decode, seed {seed}",
    sizes={
        "tiny": SizeSpec(classes=6, clients=2, max_count=3),
        "small": SizeSpec(classes=20, clients=4, max_count=3),
        "medium": SizeSpec(classes=60, clients=6, max_count=3),
        "large": SizeSpec(classes=160, clients=9, max_count=3),
    },
    servers=("h100-sxm", "a100-80gb", "l4"),
    clients={
        "phone-5g": ClientEntry("snapdragon-8-gen-3", "5g", (3e9, 6e9)),
        "phone-lte": ClientEntry("snapdragon-8-gen-3", "lte", (3e9, 6e9)),
        "laptop-m2-wifi6": ClientEntry("apple-m2", "wifi-6", (6e9, 10e9)),
        "laptop-m3-wifi6": ClientEntry("apple-m3", "wifi-6", (6e9, 10e9)),
        "orin-nano-wifi5": ClientEntry("jetson-orin-nano", "wifi-5", (4e9, 6e9)),
        "agx-orin-1gbe": ClientEntry("jetson-agx-orin", "1gbe", (16e9, 48e9)),
        "rtx3060-1gbe": ClientEntry("rtx-3060", "1gbe", (8e9, 11e9)),
        "rtx4090-1gbe": ClientEntry("rtx-4090", "1gbe", (16e9, 22e9)),
        "pi5-wifi5": ClientEntry("raspberry-pi-5", "wifi-5", (4e9, 6e9)),
    },
    groups=(ModelGroup("LLM", MODELS, prompt_tokens=(16, 4096), output_tokens=(1, 512)),),
    dtypes=(("int4", 0.6), ("int8", 0.25), ("bf16", 0.15)),
    class_names="architecture",
    client_after_tokens=True,
    rate_fraction=0.5,
    rates=(0.05, 2.0),
)


def generate(
    seed: int,
    size: str = "small",
    granularity: str = "block",
    work_unit: str = "FLOP",
    cost_model: str = "calibrated",
    token_lengths: str | None = None,
) -> Problem:
    """A seeded ``llm-edge`` instance (deterministic per seed and size); ``cost_model``
    ``uncalibrated-roofline`` is the pre-calibration model, kept only for comparison;
    ``token_lengths`` ``azure-conv`` / ``azure-code`` draws each class's prompt and
    output tokens from the Azure LLM inference trace 2023 instead of the log-uniform
    ranges (:class:`~splitopt.families.scenario_family.ScenarioFamily`)."""
    return FAMILY.replace(
        granularity=granularity,
        work_unit=work_unit,
        cost_model=cost_model,
        token_lengths=token_lengths,
    ).generate(seed, size)
