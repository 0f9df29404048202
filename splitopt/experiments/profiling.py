"""``splitopt profile``: measure a ``splitopt-profile`` with PyTorch.

The model is built from its catalogue configuration
(:mod:`splitopt.scenario.architectures`) with random weights, layer by layer as
the cost model chains it at ``block`` granularity (embedding, each transformer
block, final norm + LM head on the last token), and each layer is timed on the
chosen device (``cpu`` or ``cuda``):

* prefill of n tokens (causal attention over the n tokens) at each grid length;
* one decode step at context c (one token attending to a KV cache of c
  tokens) at each grid context.

Each time is the median of ``repeats`` runs after one warm-up (CUDA runs
synchronise before reading the clock). Only decoder architectures with fp32,
fp16 or bf16 weights are supported (quantised kernels depend on the engine).

PyTorch is an optional dependency (``pip install 'splitopt[profile]'``);
without it the command stops with that instruction (exit 2) and the rest of
splitopt is unaffected.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from splitopt.errors import UsageError
from splitopt.scenario.architectures import ARCHITECTURES, Architecture
from splitopt.scenario.costmodel import precision
from splitopt.scenario.profiles import Profile

INSTALL = "splitopt profile needs PyTorch: install it with pip install 'splitopt[profile]'"
TORCH_DTYPES = ("fp32", "fp16", "bf16")


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise UsageError(INSTALL) from None
    return torch


def _timed(torch: Any, fn: Callable[[], Any], device: str, repeats: int) -> float:
    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    with torch.inference_mode():
        fn()
        sync()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            sync()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _head(head: Any, norm: Any, y: Any) -> Any:
    """The LM head on the normalised hidden state ``y``."""
    return head(norm(y))


def _block(torch: Any, a: Architecture, dtype: Any, device: str) -> dict[str, Any]:
    d, hd = a.hidden_size, a.head_dim
    h, kv = a.num_heads, a.num_kv_heads
    assert hd is not None and kv is not None  # resolved by Architecture.__post_init__

    def lin(i: int, o: int, bias: bool) -> Any:
        return torch.nn.Linear(i, o, bias=bias, device=device, dtype=dtype)

    m = {
        "q": lin(d, h * hd, a.qkv_bias),
        "k": lin(d, kv * hd, a.qkv_bias),
        "v": lin(d, kv * hd, a.qkv_bias),
        "o": lin(h * hd, d, a.out_bias),
        "up": lin(d, a.intermediate_size, a.mlp_bias),
        "down": lin(a.intermediate_size, d, a.mlp_bias),
        "n1": torch.nn.LayerNorm(d, device=device, dtype=dtype),
        "n2": torch.nn.LayerNorm(d, device=device, dtype=dtype),
    }
    if a.mlp == "gated":
        m["gate"] = lin(d, a.intermediate_size, a.mlp_bias)
    return m


def _run_block(torch: Any, a: Architecture, m: dict[str, Any], x: Any, cache: Any = None) -> Any:
    """One transformer block on x (1, t, d); ``cache`` = (K, V) of earlier tokens."""
    f = torch.nn.functional
    b, t, _ = x.shape
    h, kv, hd = a.num_heads, a.num_kv_heads, a.head_dim
    assert hd is not None and kv is not None  # resolved by Architecture.__post_init__
    y = m["n1"](x)
    q = m["q"](y).view(b, t, h, hd).transpose(1, 2)
    k = m["k"](y).view(b, t, kv, hd).transpose(1, 2)
    v = m["v"](y).view(b, t, kv, hd).transpose(1, 2)
    if cache is not None:
        k = torch.cat([cache[0], k], dim=2)
        v = torch.cat([cache[1], v], dim=2)
    if kv != h:
        k = k.repeat_interleave(h // kv, dim=1)
        v = v.repeat_interleave(h // kv, dim=1)
    att = f.scaled_dot_product_attention(q, k, v, is_causal=cache is None)
    x = x + m["o"](att.transpose(1, 2).reshape(b, t, h * hd))
    y = m["n2"](x)
    hidden = f.silu(m["gate"](y)) * m["up"](y) if "gate" in m else f.gelu(m["up"](y))
    return x + m["down"](hidden)


def measure(
    model: str,
    dtype: str = "fp16",
    device: str = "cpu",
    prompt_tokens: Sequence[int] = (16, 128, 512),
    contexts: Sequence[int] = (64, 512, 2048),
    repeats: int = 5,
) -> tuple[Profile, list[str]]:
    """Measure ``model`` on ``device``; returns the profile and its layer names."""
    torch = _torch()
    if model not in ARCHITECTURES:
        raise UsageError(f"unknown model {model!r}; valid models: {', '.join(ARCHITECTURES)}")
    a = ARCHITECTURES[model]
    if a.kind != "decoder":
        raise UsageError(f"splitopt profile measures decoder models; {model!r} is {a.kind}")
    if dtype not in TORCH_DTYPES:
        raise UsageError(
            f"splitopt profile measures {', '.join(TORCH_DTYPES)} weights, not {dtype}"
        )
    tdt = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
    table = a.layers("block")
    torch.manual_seed(0)
    d = a.hidden_size
    embed = torch.nn.Embedding(a.vocab_size, d, device=device, dtype=tdt)
    head = torch.nn.Linear(d, a.vocab_size, bias=False, device=device, dtype=tdt)
    norm = torch.nn.LayerNorm(d, device=device, dtype=tdt)
    block = _block(torch, a, tdt, device)  # one block's weights, timed as every block
    kvshape = (1, a.num_kv_heads)

    def nbytes(mods: Any) -> float:
        return float(sum(p.numel() * p.element_size() for m in mods for p in m.parameters()))

    pre: dict[str, list[float]] = {"embed": [], "block": [], "head": []}
    dec: dict[str, list[float]] = {"embed": [], "block": [], "head": []}
    for n in prompt_tokens:
        ids = torch.randint(0, a.vocab_size, (1, n), device=device)
        x = torch.randn(1, n, d, device=device, dtype=tdt)
        pre["embed"].append(_timed(torch, partial(embed, ids), device, repeats))
        pre["block"].append(
            _timed(torch, partial(_run_block, torch, a, block, x), device, repeats)
        )
        last = x[:, -1:, :]
        pre["head"].append(_timed(torch, partial(_head, head, norm, last), device, repeats))
    for c in contexts:
        ids = torch.randint(0, a.vocab_size, (1, 1), device=device)
        x = torch.randn(1, 1, d, device=device, dtype=tdt)
        cache = tuple(
            torch.randn(*kvshape, c, a.head_dim, device=device, dtype=tdt) for _ in range(2)
        )
        dec["embed"].append(_timed(torch, partial(embed, ids), device, repeats))
        dec["block"].append(
            _timed(torch, partial(_run_block, torch, a, block, x, cache), device, repeats)
        )
        dec["head"].append(_timed(torch, partial(_head, head, norm, x), device, repeats))
    names = list(table.names)
    role = ["embed" if nm == "embed" else "head" if nm == "head" else "block" for nm in names]
    sizes = {
        "embed": nbytes([embed]),
        "block": nbytes(block.values()),
        "head": nbytes([head, norm]),
    }
    prof = Profile(
        name=f"{model} {dtype} on {device}",
        model=model,
        dtype=dtype,
        granularity="block",
        prompt_tokens=tuple(int(v) for v in prompt_tokens),
        contexts=tuple(int(v) for v in contexts),
        prefill_s=np.array([pre[r] for r in role]),
        decode_step_s=np.array([dec[r] for r in role]),
        weight_bytes=np.array([sizes[r] for r in role]),
        device=_device_name(torch, device),
        engine=f"pytorch {torch.__version__} eager (splitopt profile)",
        source="measured by splitopt profile (random weights, catalogue configuration)",
        notes=f"measured {_now()}; median of {repeats} runs after a warm-up; one block timed, "
        f"used for every block; norms as LayerNorm; precision {precision(dtype).weights}; "
        f"{_threads(torch, device)}",
    )
    return prof, names


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _threads(torch: Any, device: str) -> str:
    if device.startswith("cuda"):
        return f"CUDA {torch.version.cuda}"
    return f"{torch.get_num_threads()} CPU thread(s)"


def _cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform``)."""
    import os
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    return f"{name}, {os.cpu_count()} logical CPUs ({platform.machine()})"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs"


def _device_name(torch: Any, device: str) -> str:
    if device.startswith("cuda"):
        return str(torch.cuda.get_device_name(device))
    return f"cpu: {_cpu_model()}"
