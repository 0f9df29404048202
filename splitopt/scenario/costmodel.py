"""The cost model (SPEC §5): per-layer FLOPs, bytes, KV cache, activations,
roofline device time and network time, vectorised over request classes.

Conventions (documented choices):

* 2 FLOPs per multiply-accumulate (MAC). Norms, softmax, activations and
  residual adds are not counted (a few per mille of the total).
* Prefill of n tokens: matmul FLOPs 2 x (matmul weights) x tokens, plus the
  attention term 2 x 2 x pairs x (heads x head_dim) for QK^T and AV. Causal
  attention counts only the needed pairs, n(n+1)/2 (diagonal included);
  bidirectional attention counts n^2. The LM head (or classifier) runs on the
  last token only (as serving engines do).
* Decode step t = 1 .. g-1 (the prefill yields the first of g output tokens)
  processes one token with context n + t: 2 x (matmul weights) + 2 x 2 x
  (n + t) x (heads x head_dim) per layer. Sums over steps are closed forms.
* Encoder-decoder models (the original Transformer): the encoder runs once
  over the n source tokens; the decoder's prefill is the start token (context
  1) with cross-attention to the n source states; decode steps have context
  1 + t. Encoder layers are idle during decode.
* Bytes: weights x dtype bytes (fp32 4, bf16/fp16 2, int8 1, int4 0.5, and
  the real storage of block-quantised formats, scales included: GGUF q4_0
  4.5 and q8_0 8.5 bits per weight, q4_k_m about 4.85, MLC q4f16 4.5; see
  :data:`DTYPE_SOURCES`); int8/int4 and the block formats are weight-only
  quantisation by default (weights dequantised, compute and activations in
  fp16) unless ``compute_dtype`` says otherwise; activations and KV cache
  are 4 bytes in fp32 and 2 otherwise. KV cache per token per layer
  = 2 x kv_heads x head_dim x bytes.
* Client memory m_l = weights of layer l + its KV cache for the full context
  (n + g tokens; cross-attention K/V for n source tokens). Tied embedding
  tables count at each layer that uses them (conservative).
* Bytes moved by a layer per pass (roofline): its weights (an embedding only
  the rows it gathers), KV cache written (prefill) or read (decode), and its
  input and output activations.
* Roofline time = max(FLOPs / (peak x compute_efficiency),
  bytes / (bandwidth x bandwidth_efficiency)), per layer and phase: once for
  prefill, per decode step (summed in closed form); plus the device's fixed
  cost per forward pass and transformer block (``prefill_overhead_s`` once,
  ``step_overhead_s`` per decode step: kernel launches grow with the blocks
  run): B x that for a pass that runs B blocks (prefill: all of them; a decode
  step: those with decode work, so an encoder-decoder model's encoder blocks
  add none of the step cost), shared equally by the layers that pass runs
  (prefill: all L; a decode step: those with decode work), so a device running
  k of them pays its share k times (our assumption).
* The engine's compute path (device fields set by engine profiles): the peak
  of fp16 matrix products is ``peak_flops[matmul_peak]`` where the engine
  names one (llama.cpp's CUDA backend multiplies with cuBLAS in FP16 with FP16
  accumulation, ``CUBLAS_COMPUTE_16F``: on GeForce GPUs twice the
  FP32-accumulate rate, on A100/H100/Jetson the same); and with
  ``dequant_pass`` a prefill of more than :data:`DEQUANT_MIN_TOKENS` - 1
  tokens with quantised weights first expands each weight matrix to fp16 in a
  separate kernel (reads the quantised matrix, writes 2 bytes per weight),
  adding those bytes / (bandwidth x bandwidth_efficiency) to the layer's
  prefill time (llama.cpp ``ggml_cuda_op_mul_mat_cublas``: ``to_fp16_cuda``
  then ``cublasGemmEx`` for batches above ``MMQ_MAX_BATCH_SIZE`` = 32 on
  tensor-core GPUs; smaller batches use its fused kernels).
* Network: a crossing at boundary b costs bytes x 8 / bandwidth + one one-way
  delay per message: one for prefill, one per decode step. Boundary 0 carries
  token ids (4 bytes each; a vision model: the uint8 image); boundary L the
  output token ids (4 bytes per token; a classifier: one 4-byte label).
* Server work: total FLOPs of the layer for the request (``"FLOP"``) or its
  seconds on the server (``"s"``).

Shapes: K request classes x L layers (arrays (K, L)); boundaries (K, L + 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from splitopt.scenario.architectures import TOKEN_ID_BYTES, LayerTable
from splitopt.scenario.devices import Device
from splitopt.scenario.networks import Network
from splitopt.scenario.profiles import Profile

#: bytes per weight for each weight dtype (block formats: scales included)
DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "int8": 1.0,
    "int4": 0.5,
    "q8_0": 8.5 / 8,
    "q4_0": 4.5 / 8,
    "q4_k_m": 4.85 / 8,
    "q4f16": 4.5 / 8,
}
#: where the real sizes of the block-quantised formats come from
DTYPE_SOURCES: dict[str, str] = {
    "q8_0": "GGUF Q8_0: blocks of 32 int8 weights + one fp16 scale = 34 bytes / 32 "
    "= 8.5 bits per weight (ggml block_q8_0, https://github.com/ggml-org/ggml/blob/master/"
    "src/ggml-common.h)",
    "q4_0": "GGUF Q4_0: blocks of 32 4-bit weights + one fp16 scale = 18 bytes / 32 "
    "= 4.5 bits per weight (ggml block_q4_0, same file)",
    "q4_k_m": "GGUF Q4_K_M: Q4_K super-blocks (144 bytes / 256 weights = 4.5 bpw) with "
    "Q6_K (210 / 256 = 6.5625 bpw) for half of the attn_v and ffn_down tensors and the "
    "output matrix (llama.cpp llama_model_quantize); for Llama-2-7B that averages "
    "4.85 bpw (our computation; llama-bench lists Llama-3-8B Q4_K_M as 4.58 GiB for "
    "8.03 B parameters = 4.90 bpw)",
    "q4f16": "MLC-LLM q4f16_1: 4-bit weights with one fp16 scale per group of 32 "
    "= 4 + 16/32 = 4.5 bits per weight (mlc_llm GroupQuantize, group_size 32)",
}
WEIGHT_DTYPES: tuple[str, ...] = tuple(DTYPE_BYTES)
#: default compute dtype per weight dtype (quantised: weight-only, compute in fp16)
DEFAULT_COMPUTE: dict[str, str] = {
    "fp32": "fp32",
    "bf16": "bf16",
    "fp16": "fp16",
    **{k: "fp16" for k in ("int8", "int4", "q8_0", "q4_0", "q4_k_m", "q4f16")},
}
COMPUTE_DTYPES: tuple[str, ...] = ("fp32", "bf16", "fp16", "int8", "int4")
#: weight dtypes stored quantised (expanded to the compute dtype to multiply)
QUANTISED: frozenset[str] = frozenset({"int8", "int4", "q8_0", "q4_0", "q4_k_m", "q4f16"})
#: prompts of at least this many tokens take a ``dequant_pass`` engine's
#: dequantise-then-GEMM path (llama.cpp CUDA: MMQ_MAX_BATCH_SIZE = 32)
DEQUANT_MIN_TOKENS = 33


@dataclass(frozen=True)
class Precision:
    """Dtypes of a deployed model: weights and compute (activations, KV cache)."""

    weights: str
    compute: str

    def __post_init__(self) -> None:
        if self.weights not in DTYPE_BYTES:
            raise ValueError(
                f"unknown dtype {self.weights!r}; valid dtypes: {', '.join(WEIGHT_DTYPES)}"
            )
        if self.compute not in COMPUTE_DTYPES:
            raise ValueError(
                f"unknown compute dtype {self.compute!r}; valid: {', '.join(COMPUTE_DTYPES)}"
            )

    @property
    def weight_bytes(self) -> float:
        """Bytes per parameter."""
        return DTYPE_BYTES[self.weights]

    @property
    def act_bytes(self) -> float:
        """Bytes per activation element (4 in fp32, else 2)."""
        return 4.0 if self.compute == "fp32" else 2.0

    @property
    def kv_bytes(self) -> float:
        """Bytes per KV-cache element (as activations)."""
        return self.act_bytes


def precision(dtype: str, compute_dtype: str | None = None) -> Precision:
    """The :class:`Precision` of weights ``dtype`` (compute dtype defaulted)."""
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {dtype!r}; valid dtypes: {', '.join(WEIGHT_DTYPES)}")
    return Precision(dtype, compute_dtype or DEFAULT_COMPUTE[dtype])


@dataclass(frozen=True)
class Workload:
    """FLOPs and bytes of K request classes on the L layers of one model.

    Decode step t (t = 1 .. ``steps``) costs ``step_flops0 + step_flops1 * t``
    FLOPs and ``step_bytes0 + step_bytes1 * t`` bytes moved.

    Attributes (FLOPs, bytes; shapes broadcast to (K, L) or (K, L + 1)):
        prefill_flops, prefill_bytes: the prefill (or the single encoder pass).
        step_flops0, step_flops1, step_bytes0, step_bytes1: decode-step coefficients.
        steps: decode steps per class, max(g - 1, 0) (shape (K, 1)).
        memory_bytes: client memory m_l when layer l runs on the client.
        boundary_prefill_bytes: bytes crossing each boundary in prefill (K, L + 1).
        boundary_step_bytes: bytes crossing each boundary per decode step (1, L + 1).
        dequant_bytes: bytes a dequantise-then-multiply engine moves to expand
            the quantised weights to fp16 in prefill (0 for unquantised
            weights and for prompts under :data:`DEQUANT_MIN_TOKENS`) (K, L).
        blocks: transformer blocks of the model (the fixed costs scale with them).
        step_blocks: transformer blocks a decode step runs (an encoder-decoder
            model: its decoder blocks).
    """

    prefill_flops: np.ndarray
    prefill_bytes: np.ndarray
    step_flops0: np.ndarray
    step_flops1: np.ndarray
    step_bytes0: np.ndarray
    step_bytes1: np.ndarray
    steps: np.ndarray
    memory_bytes: np.ndarray
    boundary_prefill_bytes: np.ndarray
    boundary_step_bytes: np.ndarray
    dequant_bytes: np.ndarray
    blocks: float
    step_blocks: float

    @property
    def decode_flops(self) -> np.ndarray:
        """FLOPs of all decode steps together (K, L)."""
        t = self.steps
        return self.step_flops0 * t + self.step_flops1 * (t * (t + 1) / 2)

    @property
    def total_flops(self) -> np.ndarray:
        """FLOPs of the whole request per layer (K, L)."""
        return self.prefill_flops + self.decode_flops

    def step_flops(self, t: int | np.ndarray) -> np.ndarray:
        """FLOPs of decode step ``t`` (K, L)."""
        return self.step_flops0 + self.step_flops1 * t

    def step_bytes(self, t: int | np.ndarray) -> np.ndarray:
        """Bytes moved in decode step ``t`` (K, L)."""
        return self.step_bytes0 + self.step_bytes1 * t


def _col(x: np.ndarray | float | int) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).reshape(-1, 1)


def workload(
    table: LayerTable,
    prec: Precision,
    prompt_tokens: np.ndarray | float,
    output_tokens: np.ndarray | float,
) -> Workload:
    """FLOPs, bytes, KV cache and boundary bytes of K classes (vectorised).

    ``prompt_tokens`` (n) and ``output_tokens`` (g) are arrays of length K (or
    scalars). For encoder models g must be 0.
    """
    n = _col(prompt_tokens)
    g = _col(output_tokens)
    d = float(table.hidden_size)
    wb, ab, kb = prec.weight_bytes, prec.act_bytes, prec.kv_bytes
    side1 = table.side[None, :]
    enc_dec = table.kind == "encoder-decoder"
    # Tokens on the generating side in prefill: the prompt, or the start token.
    p = np.ones_like(n) if enc_dec else n
    tok_side = np.where(side1 > 0, p, n)
    tok = np.where(table.last_only[None, :] > 0, 1.0, tok_side)
    pairs_gen = p * (p + 1) / 2 if table.causal else p * p
    pairs = np.where(side1 > 0, pairs_gen, n * n)
    mm, attn, cross = table.mm[None, :], table.attn_width[None, :], table.cross_width[None, :]
    ckv_mm = table.cross_kv_mm[None, :]
    kv, ckv = table.kv_elems[None, :], table.cross_kv_elems[None, :]
    fixed, gather = table.fixed_reads[None, :], table.gather[None, :]

    pre_flops = 2.0 * mm * tok + 4.0 * attn * pairs + 4.0 * cross * tok * n + 2.0 * ckv_mm * n
    pre_bytes = fixed * wb + gather * tok * wb + kv * p * kb + ckv * n * kb + 2.0 * tok * d * ab
    steps = np.maximum(g - 1.0, 0.0)
    f0 = side1 * (2.0 * mm + 4.0 * attn * p + 4.0 * cross * n)
    f1 = side1 * (4.0 * attn) + 0.0 * n
    b0 = side1 * ((fixed + gather) * wb + kv * p * kb + ckv * n * kb + 2.0 * d * ab)
    b1 = side1 * (kv * kb) + 0.0 * n
    memory = table.params[None, :] * wb + side1 * kv * (p + g) * kb + ckv * n * kb

    bp = (
        table.bnd_const_bytes[None, :]
        + table.bnd_ids_per_n[None, :] * TOKEN_ID_BYTES * n
        + (table.bnd_hidden_per_n[None, :] * n + table.bnd_hidden_const[None, :]) * d * ab
    )
    bs = (table.bnd_step_bytes + table.bnd_step_hidden * d * ab)[None, :]
    if prec.weights in QUANTISED:
        # per layer: the tokens it multiplies (the LM head: the last one only)
        deq = np.where(tok >= DEQUANT_MIN_TOKENS, (wb + 2.0) * mm, 0.0)
    else:
        deq = np.zeros_like(mm * n)
    attn = table.attn_width > 0
    blocks = float(np.count_nonzero(attn)) or float(table.num_layers)
    step_blocks = float(np.count_nonzero(attn & (table.side > 0))) or float(
        np.count_nonzero(table.side > 0)
    )
    return Workload(
        prefill_flops=pre_flops,
        prefill_bytes=pre_bytes,
        step_flops0=f0,
        step_flops1=f1,
        step_bytes0=b0,
        step_bytes1=b1,
        steps=steps,
        memory_bytes=memory,
        boundary_prefill_bytes=bp,
        boundary_step_bytes=bs,
        dequant_bytes=deq,
        blocks=blocks,
        step_blocks=step_blocks,
    )


def sum_max_linear(
    a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray, steps: np.ndarray
) -> np.ndarray:
    """Σ_{t=1..T} max(a0 + a1 t, b0 + b1 t), elementwise, in closed form.

    The difference of two linear functions changes sign at most once, so the
    sum splits into two arithmetic series. Arrays broadcast; ``steps`` holds T >= 0.
    """
    a0, a1, b0, b1, T = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (a0, a1, b0, b1, steps))
    )

    def series(x0: np.ndarray, x1: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        cnt = np.maximum(hi - lo + 1.0, 0.0)
        return x0 * cnt + x1 * (lo + hi) * cnt / 2.0

    dd0, dd1 = a0 - b0, a1 - b1
    with np.errstate(divide="ignore", invalid="ignore"):
        tstar = np.where(dd1 != 0, -dd0 / np.where(dd1 != 0, dd1, 1.0), 0.0)
    # The steps where a >= b form one interval [lo, hi] of 1..T.
    lo = np.where(dd1 > 0, np.clip(np.ceil(tstar), 1.0, T + 1.0), 1.0)
    hi = np.where(dd1 < 0, np.clip(np.floor(tstar), 0.0, T), T)
    flat = dd1 == 0
    lo = np.where(flat, np.where(dd0 >= 0, 1.0, T + 1.0), lo)
    hi = np.where(flat, T, hi)
    ones = np.ones_like(T)
    return series(a0, a1, lo, hi) + series(b0, b1, ones, T) - series(b0, b1, lo, hi)


def roofline(flops: np.ndarray, nbytes: np.ndarray, peak: float, bandwidth: float) -> np.ndarray:
    """max(FLOPs / peak, bytes / bandwidth), seconds (rates already scaled by efficiency)."""
    return np.maximum(np.asarray(flops) / peak, np.asarray(nbytes) / bandwidth)


def phase_times(
    w: Workload, device: Device, compute_dtype: str, efficiency: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(prefill_s, decode_s): seconds each layer needs on ``device`` for the
    prefill and for all decode steps together (K, L), overheads included.

    ``efficiency``, when given, replaces both of the device's efficiencies.
    """
    ce = device.compute_efficiency if efficiency is None else float(efficiency)
    be = device.bandwidth_efficiency if efficiency is None else float(efficiency)
    assert ce is not None and be is not None  # resolved by Device.__post_init__
    pc = device.matmul_rate(compute_dtype) * ce
    pm = device.memory_bandwidth * be
    L = w.prefill_flops.shape[-1]
    pre = roofline(w.prefill_flops, w.prefill_bytes, pc, pm)
    pre = pre + device.prefill_overhead_s * w.blocks / L
    if device.dequant_pass:
        pre = pre + w.dequant_bytes / pm
    dec = sum_max_linear(
        w.step_flops0 / pc, w.step_flops1 / pc, w.step_bytes0 / pm, w.step_bytes1 / pm, w.steps
    )
    # The per-step overhead (per block the step runs) is shared by the layers a
    # decode step runs (ours): an encoder layer of an encoder-decoder model is
    # idle during decode and gets none.
    active = np.broadcast_to(
        (w.step_flops0 != 0) | (w.step_flops1 != 0) | (w.step_bytes0 != 0) | (w.step_bytes1 != 0),
        dec.shape,
    )
    step_share = device.step_overhead_s * w.step_blocks
    step_share = step_share / np.maximum(active.sum(axis=-1, keepdims=True), 1)
    dec = dec + np.where(active, w.steps * step_share, 0.0)
    return pre, dec


def device_time(
    w: Workload, device: Device, compute_dtype: str, efficiency: float | None = None
) -> np.ndarray:
    """Seconds each layer needs on ``device`` for the whole request (K, L)."""
    pre, dec = phase_times(w, device, compute_dtype, efficiency)
    return pre + dec


def transfer_times(w: Workload, network: Network) -> tuple[np.ndarray, np.ndarray]:
    """(uplink_s, downlink_s) per boundary (K, L + 1): bytes / bandwidth + one
    one-way delay per message (the prefill, then each decode step)."""
    delay = network.one_way_delay_s
    out = []
    for bps in (network.uplink_bps, network.downlink_bps):
        pre = w.boundary_prefill_bytes * 8.0 / bps + delay
        step = w.boundary_step_bytes * 8.0 / bps + delay
        out.append(pre + w.steps * step)
    return out[0], out[1]


@dataclass(frozen=True)
class ChainArrays:
    """The §1 arrays of K request classes of one (model, client, server, network).

    Attributes (K, L) unless stated: client_time_s, server_time_s, server_work,
    client_memory_bytes; uplink_s, downlink_s (K, L + 1).
    """

    client_time_s: np.ndarray
    server_time_s: np.ndarray
    server_work: np.ndarray
    uplink_s: np.ndarray
    downlink_s: np.ndarray
    client_memory_bytes: np.ndarray


def chain_arrays(
    table: LayerTable,
    prec: Precision,
    client: Device,
    server: Device,
    network: Network,
    prompt_tokens: np.ndarray,
    output_tokens: np.ndarray,
    work_unit: str = "FLOP",
    client_efficiency: float | None = None,
    server_efficiency: float | None = None,
    client_profile: Profile | None = None,
    server_profile: Profile | None = None,
) -> ChainArrays:
    """Everything a chain needs, for K classes at once (float64 arrays); a
    measured profile, when given, replaces that device's roofline times."""
    w = workload(table, prec, prompt_tokens, output_tokens)
    K = np.asarray(prompt_tokens).size
    L = table.num_layers

    def full(x: np.ndarray, cols: int) -> np.ndarray:
        return np.ascontiguousarray(np.broadcast_to(x, (K, cols)), dtype=np.float64)

    if client_profile is not None:
        ct = client_profile.device_time(prompt_tokens, output_tokens)
    else:
        ct = device_time(w, client, prec.compute, client_efficiency)
    if server_profile is not None:
        st = server_profile.device_time(prompt_tokens, output_tokens)
    else:
        st = device_time(w, server, prec.compute, server_efficiency)
    if work_unit == "FLOP":
        work = w.total_flops
    elif work_unit == "s":
        work = st
    else:
        raise ValueError(f"unknown work unit {work_unit!r}; valid: FLOP, s")
    up, down = transfer_times(w, network)
    return ChainArrays(
        client_time_s=full(ct, L),
        server_time_s=full(st, L),
        server_work=full(work, L),
        uplink_s=full(up, L + 1),
        downlink_s=full(down, L + 1),
        client_memory_bytes=full(w.memory_bytes, L),
    )


def roofline_profile(
    table: LayerTable,
    prec: Precision,
    device: Device,
    prompt_tokens: tuple[int, ...],
    contexts: tuple[int, ...],
    model: str,
    granularity: str = "block",
) -> Profile:
    """The :class:`~splitopt.scenario.profiles.Profile` the roofline predicts for
    ``device`` at the grid points (for examples and tests; not a measurement).

    The decode step at context c is step 1 of a request with prompt c - 1 (c >= 2).
    """
    if min(contexts) < 2:
        raise ValueError("contexts must be >= 2 (a decode step follows a prompt)")
    n = np.array(prompt_tokens, dtype=np.float64)
    pre, _ = phase_times(workload(table, prec, n, np.zeros_like(n)), device, prec.compute)
    c = np.array(contexts, dtype=np.float64)
    _, dec = phase_times(workload(table, prec, c - 1, np.full_like(c, 2.0)), device, prec.compute)
    return Profile(
        name=f"{model} on {device.name} (roofline)",
        model=model,
        dtype=prec.weights,
        granularity=granularity,
        prompt_tokens=tuple(int(v) for v in prompt_tokens),
        contexts=tuple(int(v) for v in contexts),
        prefill_s=pre.T,
        decode_step_s=dec.T,
        weight_bytes=table.params * prec.weight_bytes,
        device=device.description or device.name,
        engine="splitopt roofline",
        source="splitopt.scenario.costmodel.roofline_profile (derived, not measured)",
    )
