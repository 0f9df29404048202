"""``paper-like``: SplitLLM-style instances (Mudvari et al., arXiv:2410.10759).

The model families of the SplitLLM evaluation - the original Transformer,
BERT, GPT-2 and ViT - served to edge clients (Jetson, Raspberry Pi, phones,
laptops) with a few hundred MB to 2 GB of memory for the model, over Wi-Fi,
LTE, 5G or Ethernet, served by one datacenter GPU, with mixed sequence
lengths and SLAs. Each request class's SLA is set from its
own latency range so that it binds (:func:`splitopt.scenario.compile.calibrate_slas`):
most requests are feasible, a few (about 5 %) are not.

Per-family results can be compared with the paper's figures through
``Request.meta["model_family"]`` (``Transformer``, ``BERT``, ``GPT-2``, ``ViT``).
"""

from __future__ import annotations

import numpy as np

from splitopt.formats.read import compile_scenario_doc
from splitopt.formats.scenario_file import calibrate_doc_slas
from splitopt.problem import Problem
from splitopt.scenario.architectures import ARCHITECTURES

#: size -> (request classes, largest count per class, clients)
SIZES: dict[str, tuple[int, int, int]] = {
    "tiny": (6, 2, 2),
    "small": (16, 3, 4),
    "medium": (48, 4, 6),
    "large": (160, 4, 6),
}

FAMILIES: dict[str, tuple[str, ...]] = {
    "Transformer": ("transformer-base",),
    "BERT": ("bert-base", "bert-large"),
    "GPT-2": ("gpt2", "gpt2-medium", "gpt2-large"),
    "ViT": ("vit-b-16", "vit-l-16"),
}

#: client name -> (device, network, (least, largest) memory budget in bytes): the
#: memory an inference app may use beside everything else the device runs
CLIENTS: dict[str, tuple[str, str, tuple[float, float]]] = {
    "orin-nano-wifi5": ("jetson-orin-nano", "wifi-5", (0.3e9, 1.5e9)),
    "pi5-wifi5": ("raspberry-pi-5", "wifi-5", (0.3e9, 1.5e9)),
    "phone-5g": ("snapdragon-8-gen-3", "5g", (0.3e9, 1.0e9)),
    "phone-lte": ("snapdragon-8-gen-3", "lte", (0.3e9, 1.0e9)),
    "laptop-m2-wifi6": ("apple-m2", "wifi-6", (0.5e9, 2.0e9)),
    "pi5-1gbe": ("raspberry-pi-5", "1gbe", (0.3e9, 1.5e9)),
}
SERVERS: tuple[str, ...] = ("a100-80gb", "h100-sxm")


def _log_uniform_int(rng: np.random.Generator, lo: int, hi: int) -> int:
    return round(float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))


def scenario_doc(
    seed: int,
    size: str = "small",
    *,
    granularity: str = "block",
    work_unit: str = "FLOP",
) -> dict:
    """The seeded ``splitopt-scenario`` document of a paper-like instance."""
    n_classes, max_count, n_clients = SIZES[size]
    rng = np.random.default_rng(seed)
    server = SERVERS[int(rng.integers(len(SERVERS)))]
    names = list(CLIENTS)
    chosen = [names[i] for i in sorted(rng.choice(len(names), n_clients, replace=False))]
    clients = {}
    for c in chosen:
        dev, net, (lo, hi) = CLIENTS[c]
        budget = float(f"{rng.uniform(lo, hi):.3g}")
        clients[c] = {"device": dev, "network": net, "memory_budget_bytes": budget}
    models: dict[str, dict] = {}
    requests = []
    fams = list(FAMILIES)
    for i in range(n_classes):
        fam = fams[i % len(fams)]
        arch = FAMILIES[fam][int(rng.integers(len(FAMILIES[fam])))]
        dtype = "fp32" if rng.random() < 0.5 else "fp16"
        mname = f"{arch}-{dtype}"
        models.setdefault(mname, {"architecture": arch, "dtype": dtype, "granularity": granularity})
        client = chosen[int(rng.integers(len(chosen)))]
        req: dict = {"class": f"{fam.lower()}-{i}", "client": client, "model": mname}
        a = ARCHITECTURES[arch]
        if fam == "Transformer":
            req["prompt_tokens"] = _log_uniform_int(rng, 16, 256)
            req["output_tokens"] = _log_uniform_int(rng, 8, 128)
        elif fam == "BERT":
            req["prompt_tokens"] = _log_uniform_int(rng, 16, 512)
        elif fam == "GPT-2":
            n = _log_uniform_int(rng, 16, 768)
            req["prompt_tokens"] = n
            req["output_tokens"] = min(_log_uniform_int(rng, 1, 256), a.max_context - n)
        req["sla_s"] = 1.0
        req["count"] = int(rng.integers(1, max_count + 1))
        requests.append(req)
    doc = {
        "format": "splitopt-scenario",
        "version": 1,
        "name": f"paper-like-{size}-s{seed}",
        "description": f"SplitLLM-style mix (Transformer, BERT, GPT-2, ViT) on {len(chosen)} "
        f"edge clients, {server} server, seed {seed}",
        "work_unit": work_unit,
        "server": {"device": server},
        "clients": clients,
        "models": models,
        "requests": requests,
    }
    return calibrate_doc_slas(doc, rng)


def generate(
    seed: int, size: str = "small", granularity: str = "block", work_unit: str = "FLOP"
) -> Problem:
    """A seeded ``paper-like`` instance (deterministic per seed and size)."""
    return compile_scenario_doc(
        scenario_doc(seed, size, granularity=granularity, work_unit=work_unit)
    )
