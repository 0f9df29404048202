"""``llm-edge``: modern LLMs on phones, laptops and edge boards.

Llama-3.x, Qwen2.5, Phi-3, Mistral and Llama-2 models in bf16, int8 or int4
on clients with memory budgets (phones over 5G or LTE, Apple laptops over
Wi-Fi 6, Jetson boards, desktop GPUs, a Raspberry Pi), prompts of 16 to 4096
tokens and 1 to 512 output tokens (prefill and decode), served by one
datacenter GPU. Classes carry counts or arrival rates (weights). SLAs are set
per class so that they bind (:func:`splitopt.scenario.compile.calibrate_slas`).
"""

from __future__ import annotations

import numpy as np

from splitopt.formats.read import compile_scenario_doc
from splitopt.formats.scenario_file import calibrate_doc_slas
from splitopt.problem import Problem
from splitopt.scenario.architectures import ARCHITECTURES

#: size -> (request classes, clients)
SIZES: dict[str, tuple[int, int]] = {
    "tiny": (6, 2),
    "small": (20, 4),
    "medium": (60, 6),
    "large": (160, 9),
}

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
DTYPES: tuple[str, ...] = ("int4", "int8", "bf16")
DTYPE_P: tuple[float, ...] = (0.6, 0.25, 0.15)

#: client name -> (device, network, (least, largest) memory budget in bytes)
CLIENTS: dict[str, tuple[str, str, tuple[float, float]]] = {
    "phone-5g": ("snapdragon-8-gen-3", "5g", (3e9, 6e9)),
    "phone-lte": ("snapdragon-8-gen-3", "lte", (3e9, 6e9)),
    "laptop-m2-wifi6": ("apple-m2", "wifi-6", (6e9, 10e9)),
    "laptop-m3-wifi6": ("apple-m3", "wifi-6", (6e9, 10e9)),
    "orin-nano-wifi5": ("jetson-orin-nano", "wifi-5", (4e9, 6e9)),
    "agx-orin-1gbe": ("jetson-agx-orin", "1gbe", (16e9, 48e9)),
    "rtx3060-1gbe": ("rtx-3060", "1gbe", (8e9, 11e9)),
    "rtx4090-1gbe": ("rtx-4090", "1gbe", (16e9, 22e9)),
    "pi5-wifi5": ("raspberry-pi-5", "wifi-5", (4e9, 6e9)),
}
SERVERS: tuple[str, ...] = ("h100-sxm", "a100-80gb", "l4")


def _log_uniform_int(rng: np.random.Generator, lo: int, hi: int) -> int:
    return round(float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))


def scenario_doc(
    seed: int,
    size: str = "small",
    *,
    granularity: str = "block",
    work_unit: str = "FLOP",
    num_classes: int | None = None,
    models: tuple[str, ...] | None = None,
    count: int | None = None,
) -> dict:
    """The seeded ``splitopt-scenario`` document of an llm-edge instance.

    ``num_classes``, ``models`` and ``count`` (requests per class; default: a
    mix of counts 1-3 and arrival rates) override the size's defaults.
    """
    n_classes, n_clients = SIZES[size]
    if num_classes is not None:
        n_classes = num_classes
    pool = models or MODELS
    rng = np.random.default_rng(seed)
    server = SERVERS[int(rng.integers(len(SERVERS)))]
    names = list(CLIENTS)
    chosen = [names[i] for i in sorted(rng.choice(len(names), n_clients, replace=False))]
    clients = {}
    for c in chosen:
        dev, net, (lo, hi) = CLIENTS[c]
        budget = float(f"{rng.uniform(lo, hi):.3g}")
        clients[c] = {"device": dev, "network": net, "memory_budget_bytes": budget}
    model_docs: dict[str, dict] = {}
    requests = []
    for i in range(n_classes):
        arch = pool[int(rng.integers(len(pool)))]
        dtype = DTYPES[int(rng.choice(len(DTYPES), p=DTYPE_P))]
        mname = f"{arch}-{dtype}"
        model_docs.setdefault(
            mname, {"architecture": arch, "dtype": dtype, "granularity": granularity}
        )
        ctx = ARCHITECTURES[arch].max_context
        n = min(_log_uniform_int(rng, 16, 4096), ctx - 1)
        g = min(_log_uniform_int(rng, 1, 512), ctx - n)
        req: dict = {
            "class": f"{arch}-{i}",
            "client": chosen[int(rng.integers(len(chosen)))],
            "model": mname,
            "prompt_tokens": n,
            "output_tokens": g,
            "sla_s": 1.0,
        }
        if count is not None:
            req["count"] = int(count)
        elif rng.random() < 0.5:
            req["count"] = int(rng.integers(1, 4))
        else:
            req["rate"] = float(f"{rng.uniform(0.05, 2.0):.3g}")
        requests.append(req)
    doc = {
        "format": "splitopt-scenario",
        "version": 1,
        "name": f"llm-edge-{size}-s{seed}",
        "description": f"modern LLMs on {len(chosen)} edge clients with memory budgets, "
        f"{server} server, prefill + decode, seed {seed}",
        "work_unit": work_unit,
        "server": {"device": server},
        "clients": clients,
        "models": model_docs,
        "requests": requests,
    }
    return calibrate_doc_slas(doc, rng)


def generate(
    seed: int, size: str = "small", granularity: str = "block", work_unit: str = "FLOP"
) -> Problem:
    """A seeded ``llm-edge`` instance (deterministic per seed and size)."""
    return compile_scenario_doc(
        scenario_doc(seed, size, granularity=granularity, work_unit=work_unit)
    )
