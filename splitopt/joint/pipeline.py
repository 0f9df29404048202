"""PipeEdge's pipeline partitioning, as a baseline (Hu et al., "PipeEdge: Pipeline
Parallelism for Large-Scale Model Inference on Heterogeneous Edge Devices", DSD 2022;
public source ``usc-isi/PipeEdge``, ``src-native/schedule.cpp``). Written from the
paper's description and the facts of that source, not copied from it.

One model's layers are cut into consecutive *stages*, each on its own device
(devices of a type are interchangeable; each device runs at most one stage). The
pipeline's *bottleneck* is the largest of every stage's compute time and every
transfer time between consecutive stages; its throughput is ``batch / bottleneck``
(micro-batches per second times the micro-batch size). PipeEdge minimises the
bottleneck by a DP over (layers done, devices used per type, the next stage's type).

A stage of layers ``l..r`` fits on a device when the device's memory exceeds (strictly,
as in PipeEdge) the layers' weights plus the data buffers: the input
(``buffers_in`` copies, not for the first stage) and output (``buffers_out`` copies)
queues plus one input and one output being processed. A transfer after layer ``r``
from type ``u`` to type ``v`` takes ``out_bytes[r] * 8 / min(bw_u, bw_v)`` seconds.

Units: seconds, bytes, bits per second. Layers are 1-based in :class:`Stage`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from splitopt.errors import DataError, UsageError

#: PipeEdge's default number of queued data buffers on each side of a stage.
DATA_BUFFERS = 2


def _arr(name: str, values: object) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or (arr < 0).any():
        raise DataError(name, "must be a one-dimensional array of finite numbers >= 0")
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class PipelineModel:
    """Per layer (length L): ``weight_bytes`` and ``out_bytes`` (the activation a
    layer emits for one micro-batch); ``in_bytes``: the model's input per micro-batch."""

    weight_bytes: np.ndarray
    out_bytes: np.ndarray
    in_bytes: float = 0.0
    batch: int = 1
    buffers_in: int = DATA_BUFFERS
    buffers_out: int = DATA_BUFFERS

    def __post_init__(self) -> None:
        w = _arr("weight_bytes", self.weight_bytes)
        o = _arr("out_bytes", self.out_bytes)
        if w.size == 0 or w.size != o.size:
            raise DataError("out_bytes", f"needs {w.size} > 0 entries, one per layer")
        object.__setattr__(self, "weight_bytes", w)
        object.__setattr__(self, "out_bytes", o)

    @property
    def num_layers(self) -> int:
        return int(self.weight_bytes.size)


@dataclass(frozen=True, eq=False)
class DeviceType:
    """``count`` interchangeable devices: memory (bytes), link bandwidth (bit/s) and the
    seconds each layer takes for one micro-batch (``layer_time_s``, length L)."""

    name: str
    count: int
    memory_bytes: float
    bandwidth_bps: float
    layer_time_s: np.ndarray

    def __post_init__(self) -> None:
        if self.count < 0 or not math.isfinite(self.memory_bytes) or self.bandwidth_bps <= 0:
            raise DataError(self.name, "needs count >= 0, finite memory and bandwidth > 0")
        object.__setattr__(self, "layer_time_s", _arr("layer_time_s", self.layer_time_s))


@dataclass(frozen=True)
class Stage:
    """Layers ``first..last`` (1-based, inclusive) on a device of type ``type``."""

    type: int
    first: int
    last: int


def fits(model: PipelineModel, dev: DeviceType, first: int, last: int) -> bool:
    """Whether layers ``first..last`` fit on one device of ``dev`` (PipeEdge's rule)."""
    weights = float(model.weight_bytes[first - 1 : last].sum())
    d_in = model.in_bytes if first == 1 else float(model.out_bytes[first - 2])
    d_out = float(model.out_bytes[last - 1])
    buffers = (d_in * model.buffers_in if first > 1 else 0.0) + d_out * model.buffers_out
    buffers += d_in + d_out
    return dev.memory_bytes > weights + buffers


def transfer_s(
    model: PipelineModel, types: Sequence[DeviceType], u: int, v: int, last: int
) -> float:
    """Seconds to send layer ``last``'s output from a ``u`` device to a ``v`` device."""
    bw = min(types[u].bandwidth_bps, types[v].bandwidth_bps)
    return float(model.out_bytes[last - 1]) * 8.0 / bw


def bottleneck(model: PipelineModel, types: Sequence[DeviceType], stages: Sequence[Stage]) -> float:
    """The evaluator: the pipeline's bottleneck (s), ``inf`` if ``stages`` is invalid
    (not covering 1..L in order, a stage that does not fit, more devices than exist)."""
    L = model.num_layers
    used = [0] * len(types)
    nxt = 1
    worst = 0.0
    for i, st in enumerate(stages):
        if st.first != nxt or st.last < st.first or st.last > L or not 0 <= st.type < len(types):
            return math.inf
        used[st.type] += 1
        dev = types[st.type]
        if used[st.type] > dev.count or not fits(model, dev, st.first, st.last):
            return math.inf
        worst = max(worst, float(dev.layer_time_s[st.first - 1 : st.last].sum()))
        if i + 1 < len(stages):
            worst = max(worst, transfer_s(model, types, st.type, stages[i + 1].type, st.last))
        nxt = st.last + 1
    return worst if nxt == L + 1 and stages else math.inf


def pipeedge(model: PipelineModel, types: Sequence[DeviceType]) -> tuple[tuple[Stage, ...], float]:
    """PipeEdge's DP: the stages of least bottleneck (``((), inf)`` if none fits)."""
    L = model.num_layers
    T = len(types)
    counts = [t.count for t in types]
    radix = [1] * (T + 1)
    for u in range(T):
        radix[u + 1] = radix[u] * (counts[u] + 1)
    masks = radix[T]
    inf = math.inf
    h = np.full((L + 1, masks, T), inf)
    parent = np.full((L + 1, masks, T, 2), -1, dtype=np.int64)
    h[0, 0, :] = 0.0
    cum = [np.concatenate([[0.0], np.cumsum(t.layer_time_s)]) for t in types]
    best, best_at = inf, None
    for i in range(L):
        for S in range(masks):
            for u in range(T):
                cur = h[i, S, u]
                if cur == inf or (S // radix[u]) % (counts[u] + 1) == counts[u]:
                    continue
                for j in range(i + 1, L + 1):
                    if not fits(model, types[u], i + 1, j):
                        continue
                    comp = float(cum[u][j] - cum[u][i])
                    if j == L:
                        cost = max(cur, comp)
                        if cost < best:
                            best, best_at = cost, (i, S, u)
                        continue
                    S2 = S + radix[u]
                    for v in range(T):
                        if (S2 // radix[v]) % (counts[v] + 1) == counts[v]:
                            continue
                        cost = max(cur, comp, transfer_s(model, types, u, v, j))
                        if cost < h[j, S2, v]:
                            h[j, S2, v] = cost
                            parent[j, S2, v] = (i, u)
    if best_at is None:
        return (), inf
    i, S, u = best_at
    stages = [Stage(u, i + 1, L)]
    while i > 0:
        pi, pu = (int(x) for x in parent[i, S, u])
        stages.append(Stage(pu, pi + 1, i))
        S -= radix[pu]
        i, u = pi, pu
    stages.reverse()
    return tuple(stages), best


#: Largest instance :func:`brute_pipeline` takes (layers).
BRUTE_MAX_LAYERS = 9


def _compositions(L: int) -> Iterator[tuple[int, ...]]:
    for k in range(L):
        for cuts in itertools.combinations(range(1, L), k):
            yield (0, *cuts, L)


def brute_pipeline(
    model: PipelineModel, types: Sequence[DeviceType]
) -> tuple[tuple[Stage, ...], float]:
    """Every cut of the layers and every type per stage, scored by :func:`bottleneck`."""
    L = model.num_layers
    if L > BRUTE_MAX_LAYERS:
        raise UsageError(f"brute force takes at most {BRUTE_MAX_LAYERS} layers, got {L}")
    best: tuple[tuple[Stage, ...], float] = ((), math.inf)
    for cuts in _compositions(L):
        n = len(cuts) - 1
        for assign in itertools.product(range(len(types)), repeat=n):
            stages = tuple(Stage(assign[k], cuts[k] + 1, cuts[k + 1]) for k in range(n))
            b = bottleneck(model, types, stages)
            if b < best[1]:
                best = (stages, b)
    return best


__all__ = [
    "DATA_BUFFERS",
    "DeviceType",
    "PipelineModel",
    "Stage",
    "bottleneck",
    "brute_pipeline",
    "fits",
    "pipeedge",
    "transfer_s",
]
