"""The cost model: closed forms against loops, roofline regimes, bytes on the wire."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splitopt.scenario.architectures import ARCHITECTURES
from splitopt.scenario.costmodel import (
    DTYPE_BYTES,
    chain_arrays,
    device_time,
    phase_times,
    precision,
    sum_max_linear,
    transfer_times,
    workload,
)
from splitopt.scenario.devices import DEVICES
from splitopt.scenario.networks import NETWORKS

finite = st.floats(-1e3, 1e3, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(finite, finite, finite, finite, st.integers(0, 60))
def test_sum_max_linear_matches_loop(a0: float, a1: float, b0: float, b1: float, T: int) -> None:
    t = np.arange(1, T + 1, dtype=float)
    loop = float(np.maximum(a0 + a1 * t, b0 + b1 * t).sum())
    got = float(sum_max_linear(np.array(a0), np.array(a1), np.array(b0), np.array(b1), np.array(T)))
    assert got == pytest.approx(loop, rel=1e-9, abs=1e-6)


def test_sum_max_linear_vectorised() -> None:
    rng = np.random.default_rng(7)
    a0, a1, b0, b1 = (rng.normal(size=(5, 4)) for _ in range(4))
    T = rng.integers(0, 30, size=(5, 1)).astype(float)
    got = sum_max_linear(a0, a1, b0, b1, T)
    for i in range(5):
        t = np.arange(1, int(T[i, 0]) + 1)[:, None]
        loop = np.maximum(a0[i] + a1[i] * t, b0[i] + b1[i] * t).sum(axis=0)
        np.testing.assert_allclose(got[i], loop, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["llama-3-8b", "gpt2", "transformer-base"])
def test_decode_closed_form_equals_step_loop(name: str) -> None:
    a = ARCHITECTURES[name]
    t = a.layers()
    prec = precision("bf16")
    n, g = np.array([37.0, 200.0]), np.array([9.0, 1.0])
    w = workload(t, prec, n, g)
    dev = DEVICES["jetson-orin-nano"]
    pc = dev.peak("bf16") * dev.compute_efficiency
    pm = dev.memory_bandwidth * dev.bandwidth_efficiency
    L = t.num_layers
    time = device_time(w, dev, "bf16")
    for k in range(2):
        steps = int(w.steps[k, 0])
        assert steps == max(int(g[k]) - 1, 0)
        flops = w.prefill_flops[k].copy()
        secs = np.maximum(w.prefill_flops[k] / pc, w.prefill_bytes[k] / pm)
        secs += dev.prefill_overhead_s * w.blocks / L  # per block, shared by the L layers
        for s in range(1, steps + 1):
            f, b = w.step_flops(s)[k], w.step_bytes(s)[k]
            flops += f
            # the step's fixed cost (per block the step runs) is shared by the
            # layers the step runs
            runs = (f != 0) | (b != 0)
            share = dev.step_overhead_s * w.step_blocks / runs.sum()
            secs += np.maximum(f / pc, b / pm) + np.where(runs, share, 0)
        np.testing.assert_allclose(w.total_flops[k], flops, rtol=1e-12)
        np.testing.assert_allclose(time[k], secs, rtol=1e-9)


def test_fixed_costs_scale_with_the_transformer_blocks() -> None:
    # the per-block overhead: 32 blocks for Llama-2-7B at either granularity,
    # 6 + 6 for the Transformer; a 80-block model pays 80 / 32 of a 32-block one
    for name, gran, blocks in (
        ("llama-2-7b", "block", 32),
        ("llama-2-7b", "sublayer", 32),
        ("transformer-base", "block", 12),
        ("llama-2-70b", "block", 80),
    ):
        w = workload(ARCHITECTURES[name].layers(gran), precision("fp16"), 10.0, 0.0)
        assert w.blocks == blocks, (name, gran)
    dev = dataclasses.replace(DEVICES["rtx-4090"], prefill_overhead_s=1e-3, step_overhead_s=0.0)
    zero = dataclasses.replace(dev, prefill_overhead_s=0.0)
    for name, blocks in (("llama-2-7b", 32), ("llama-2-70b", 80)):
        w = workload(ARCHITECTURES[name].layers(), precision("fp16"), 10.0, 0.0)
        extra = phase_times(w, dev, "fp16")[0].sum() - phase_times(w, zero, "fp16")[0].sum()
        assert extra == pytest.approx(blocks * 1e-3)


def test_llama_cpp_cuda_path_fp16_accumulate_and_dequant_pass() -> None:
    """matmul_peak picks the FP16-accumulate rate for fp16 compute only; the
    dequant pass adds (stored + 2) bytes per matmul weight at prompts >= 33."""
    t = ARCHITECTURES["llama-2-7b"].layers()
    base = dataclasses.replace(
        DEVICES["rtx-4090"], matmul_peak="", dequant_pass=False, prefill_overhead_s=0.0
    )
    acc16 = dataclasses.replace(base, matmul_peak="fp16_acc16")
    # Ada whitepaper: 330.3 TFLOP/s with FP16 accumulate, 165.2 with FP32 accumulate
    assert acc16.matmul_rate("fp16") == pytest.approx(2 * base.matmul_rate("fp16"), rel=1e-3)
    assert acc16.matmul_rate("fp32") == base.matmul_rate("fp32")
    w = workload(t, precision("fp16"), 512.0, 0.0)
    slow, fast = phase_times(w, base, "fp16")[0].sum(), phase_times(w, acc16, "fp16")[0].sum()
    assert fast < slow
    deq = dataclasses.replace(base, dequant_pass=True)
    for n, passes in ((32.0, False), (33.0, True)):
        wq = workload(t, precision("q4_0"), n, 0.0)
        extra = phase_times(wq, deq, "fp16")[0].sum() - phase_times(wq, base, "fp16")[0].sum()
        mm = t.mm[t.last_only == 0].sum()  # the LM head runs on one token: no pass
        want = mm * (4.5 / 8 + 2.0) / (base.memory_bandwidth * base.bandwidth_efficiency)
        assert extra == (pytest.approx(want) if passes else 0.0)
    # unquantised weights take no pass
    wf = workload(t, precision("fp16"), 512.0, 0.0)
    assert phase_times(wf, deq, "fp16")[0].sum() == phase_times(wf, base, "fp16")[0].sum()


def test_step_overhead_goes_to_the_layers_a_decode_step_runs() -> None:
    # an encoder-decoder model: the encoder is idle in decode and pays none of the
    # per-step cost; the decode layers share all of it
    t = ARCHITECTURES["transformer-base"].layers()
    w = workload(t, precision("bf16"), np.array([50.0]), np.array([21.0]))
    dev = DEVICES["jetson-orin-nano"]
    assert dev.step_overhead_s > 0
    _, dec = phase_times(w, dev, "bf16")
    base = phase_times(w, dataclasses.replace(dev, step_overhead_s=0.0), "bf16")[1]
    extra = dec[0] - base[0]
    idle = (w.step_flops(1)[0] == 0) & (w.step_bytes(1)[0] == 0)
    assert idle.any() and (~idle).any()
    np.testing.assert_array_equal(extra[idle], 0.0)
    # per block the step runs: the Transformer's 6 decoder blocks
    assert w.step_blocks == 6 and w.blocks == 12
    np.testing.assert_allclose(extra.sum(), 20 * 6 * dev.step_overhead_s, rtol=1e-12)
    # a decoder-only model: every layer runs each step, so each pays 1/L of it
    g = ARCHITECTURES["gpt2"].layers()
    wg = workload(g, precision("bf16"), np.array([50.0]), np.array([21.0]))
    eg = (
        phase_times(wg, dev, "bf16")[1]
        - phase_times(wg, dataclasses.replace(dev, step_overhead_s=0.0), "bf16")[1]
    )
    assert wg.step_blocks == wg.blocks == 12
    np.testing.assert_allclose(eg[0], 20 * 12 * dev.step_overhead_s / g.num_layers, rtol=1e-9)


def test_prefill_attention_term_is_causal_for_decoders() -> None:
    a = ARCHITECTURES["gpt2"]
    t = a.layers()
    n = 300.0
    w = workload(t, precision("fp32"), np.array([n]), np.array([1.0]))
    blk = 1  # block0
    attn = w.prefill_flops[0, blk] - 2 * t.mm[blk] * n
    assert attn == pytest.approx(4 * a.attn_width * n * (n + 1) / 2)
    b = ARCHITECTURES["bert-base"]
    tb = b.layers()
    wb = workload(tb, precision("fp32"), np.array([n]), np.array([0.0]))
    attn_b = wb.prefill_flops[0, 1] - 2 * tb.mm[1] * n
    assert attn_b == pytest.approx(4 * b.attn_width * n * n)


def test_gpu_decode_memory_bound_prefill_compute_bound() -> None:
    a = ARCHITECTURES["llama-3-8b"]
    t = a.layers()
    prec = precision("bf16")
    h100 = DEVICES["h100-sxm"]
    peak, bw = h100.peak(prec.compute), h100.memory_bandwidth
    blocks = slice(1, t.num_layers - 1)
    w = workload(t, prec, np.array([4096.0]), np.array([64.0]))
    # Decode (any step): bytes / bandwidth dominates FLOPs / peak in every layer.
    for s in (1, 63):
        assert np.all(w.step_bytes(s)[0] / bw > w.step_flops(s)[0] / peak)
    # Prefill of a long prompt: compute-bound in every block.
    assert np.all(w.prefill_flops[0, blocks] / peak > w.prefill_bytes[0, blocks] / bw)
    # A very short prompt is memory-bound even in prefill.
    w1 = workload(t, prec, np.array([4.0]), np.array([1.0]))
    assert np.all(w1.prefill_bytes[0, blocks] / bw > w1.prefill_flops[0, blocks] / peak)


def test_boundary_bytes_and_network_time() -> None:
    a = ARCHITECTURES["llama-3.2-1b"]
    t = a.layers()
    prec = precision("bf16")
    n, g = 100.0, 11.0
    w = workload(t, prec, np.array([n]), np.array([g]))
    L = t.num_layers
    bp, bs = w.boundary_prefill_bytes[0], w.boundary_step_bytes[0]
    assert bp[0] == 4 * n  # token ids in
    assert bp[L] == 4  # the first generated token out
    np.testing.assert_allclose(bp[1:L], n * a.hidden_size * 2)
    assert bs[0] == 4 and bs[L] == 4
    np.testing.assert_allclose(bs[1:L], a.hidden_size * 2)
    net = NETWORKS["5g"]
    up, down = transfer_times(w, net)
    steps = g - 1
    d = net.one_way_delay_s
    assert up[0, 0] == pytest.approx(
        4 * n * 8 / net.uplink_bps + d + steps * (32 / net.uplink_bps + d)
    )
    assert down[0, L] == pytest.approx(
        32 / net.downlink_bps + d + steps * (32 / net.downlink_bps + d)
    )
    mid = (
        n * a.hidden_size * 2 * 8 / net.uplink_bps
        + d
        + steps * (a.hidden_size * 16 / net.uplink_bps + d)
    )
    assert up[0, 5] == pytest.approx(mid)


def test_vision_input_is_the_image() -> None:
    a = ARCHITECTURES["vit-b-16"]
    w = workload(a.layers(), precision("fp16"), np.array([197.0]), np.array([0.0]))
    assert w.boundary_prefill_bytes[0, 0] == 224 * 224 * 3
    assert w.boundary_prefill_bytes[0, -1] == 4
    assert float(w.steps[0, 0]) == 0


@pytest.mark.parametrize("dtype", sorted(DTYPE_BYTES))
def test_weight_memory_scales_with_dtype(dtype: str) -> None:
    a = ARCHITECTURES["qwen2.5-1.5b"]
    t = a.layers()
    w = workload(t, precision(dtype), np.array([1.0]), np.array([0.0]))
    kv = t.kv_elems * 1.0 * precision(dtype).kv_bytes  # n + g = 1 token of cache
    np.testing.assert_allclose(w.memory_bytes[0] - kv, t.params * DTYPE_BYTES[dtype])


def test_quantised_weights_compute_in_fp16_by_default() -> None:
    assert precision("int4").compute == "fp16"
    assert precision("int4", "int8").compute == "int8"
    assert precision("int4").act_bytes == 2 and precision("fp32").act_bytes == 4


def test_work_unit_seconds_is_server_time() -> None:
    a = ARCHITECTURES["gpt2"]
    args = (
        a.layers(),
        precision("fp16"),
        DEVICES["apple-m2"],
        DEVICES["l4"],
        NETWORKS["wifi-6"],
        np.array([64.0, 300.0]),
        np.array([10.0, 50.0]),
    )
    s = chain_arrays(*args, work_unit="s")
    f = chain_arrays(*args, work_unit="FLOP")
    np.testing.assert_array_equal(s.server_work, s.server_time_s)
    np.testing.assert_array_equal(f.server_time_s, s.server_time_s)
    assert np.all(f.server_work[:, 0] == 0)  # an embedding lookup does no matmul
    assert np.all(f.server_work[:, 1:] > 1e6)
    # A slower client takes longer for every layer that does work.
    assert np.all(f.client_time_s >= f.server_time_s)


def test_efficiency_override_scales_time() -> None:
    a = ARCHITECTURES["llama-3.2-1b"]
    w = workload(a.layers(), precision("int4"), np.array([512.0]), np.array([64.0]))
    # without fixed overheads, halving the efficiency doubles the time
    dev = dataclasses.replace(
        DEVICES["snapdragon-8-gen-3"], prefill_overhead_s=0.0, step_overhead_s=0.0
    ).with_efficiency(0.3)
    t1 = device_time(w, dev, "fp16")
    t2 = device_time(w, dev, "fp16", efficiency=dev.efficiency / 2)
    np.testing.assert_allclose(t2, 2 * t1)
    np.testing.assert_allclose(device_time(w, dev.with_efficiency(dev.efficiency / 2), "fp16"), t2)


def test_device_catalogue_sources_and_figures() -> None:
    for d in DEVICES.values():
        assert d.source.startswith("http"), d.name
        assert 0 < d.efficiency <= 1
        assert 0 < d.compute_efficiency <= 1 and 0 < d.bandwidth_efficiency <= 1
        assert d.prefill_overhead_s >= 0 and d.step_overhead_s >= 0
        assert d.peak("fp16") >= d.peak("fp32")
    for n in NETWORKS.values():
        assert n.source, n.name
    required = {
        "h100-sxm",
        "a100-80gb",
        "l4",
        "rtx-4090",
        "rtx-3060",
        "apple-m2",
        "apple-m3",
        "jetson-orin-nano",
        "jetson-agx-orin",
        "snapdragon-8-gen-3",
        "raspberry-pi-5",
    }
    assert required <= set(DEVICES)
    assert {"lte", "5g", "wifi-5", "wifi-6", "1gbe", "datacenter"} <= set(NETWORKS)
