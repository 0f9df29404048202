"""``paper-like``: SplitLLM-style instances (Mudvari et al., arXiv:2410.10759).

The model families of the SplitLLM evaluation - the original Transformer,
BERT, GPT-2 and ViT - served to edge clients (Jetson, Raspberry Pi, phones,
laptops) with a few hundred MB to 2 GB of memory for the model, over Wi-Fi,
LTE, 5G or Ethernet, served by one datacenter GPU, with mixed sequence
lengths and SLAs. Each request class's SLA is set from its own latency range
so that it binds (:class:`~splitopt.families.scenario_family.SlaRule`): most
requests are feasible, a few (about 5 %) are not.

Assumptions of ours (the SplitLLM sources state none of them): the client
memory budgets (0.3–2 GB; the sources mention no memory constraint), the SLA
rule, autoregressive decode for Transformer and GPT-2 (output-token ranges),
and server work in FLOP (the paper speaks of measured server resource use). The
pre-registered protocol (``paper/PROTOCOL.md``) removes the budgets for its
setting P and sweeps the others.

Per-family results can be compared with the paper's figures through
``Request.meta["model_family"]`` (``Transformer``, ``BERT``, ``GPT-2``, ``ViT``).
The family is the table :data:`FAMILY`, built by
:func:`splitopt.families.scenario_family.build`; class i belongs to model group
i mod 4.
"""

from __future__ import annotations

from splitopt.families.scenario_family import ClientEntry, ModelGroup, ScenarioFamily, SizeSpec
from splitopt.problem import Problem

FAMILY = ScenarioFamily(
    name="paper-like",
    description="SplitLLM-style mix (Transformer, BERT, GPT-2, ViT) on {clients} "
    "edge clients, {server} server, seed {seed}",
    sizes={
        "tiny": SizeSpec(classes=6, clients=2, max_count=2),
        "small": SizeSpec(classes=16, clients=4, max_count=3),
        "medium": SizeSpec(classes=48, clients=6, max_count=4),
        "large": SizeSpec(classes=160, clients=6, max_count=4),
    },
    servers=("a100-80gb", "h100-sxm"),
    # the memory an inference app may use beside everything else the device runs
    clients={
        "orin-nano-wifi5": ClientEntry("jetson-orin-nano", "wifi-5", (0.3e9, 1.5e9)),
        "pi5-wifi5": ClientEntry("raspberry-pi-5", "wifi-5", (0.3e9, 1.5e9)),
        "phone-5g": ClientEntry("snapdragon-8-gen-3", "5g", (0.3e9, 1.0e9)),
        "phone-lte": ClientEntry("snapdragon-8-gen-3", "lte", (0.3e9, 1.0e9)),
        "laptop-m2-wifi6": ClientEntry("apple-m2", "wifi-6", (0.5e9, 2.0e9)),
        "pi5-1gbe": ClientEntry("raspberry-pi-5", "1gbe", (0.3e9, 1.5e9)),
    },
    groups=(
        ModelGroup("Transformer", ("transformer-base",), (16, 256), (8, 128)),
        ModelGroup("BERT", ("bert-base", "bert-large"), (16, 512)),
        ModelGroup("GPT-2", ("gpt2", "gpt2-medium", "gpt2-large"), (16, 768), (1, 256)),
        ModelGroup("ViT", ("vit-b-16", "vit-l-16"), None),
    ),
    dtypes=(("fp32", 0.5), ("fp16", 0.5)),
    class_names="group",
    rate_fraction=0.0,
)


def generate(
    seed: int,
    size: str = "small",
    granularity: str = "block",
    work_unit: str = "FLOP",
    cost_model: str = "calibrated",
    token_lengths: str | None = None,
) -> Problem:
    """A seeded ``paper-like`` instance (deterministic per seed and size); ``cost_model``
    ``uncalibrated-roofline`` is the pre-calibration model, kept only for comparison;
    ``token_lengths`` ``azure-conv`` / ``azure-code``: tokens from the Azure trace."""
    return FAMILY.replace(
        granularity=granularity,
        work_unit=work_unit,
        cost_model=cost_model,
        token_lengths=token_lengths,
    ).generate(seed, size)
