"""The evaluator over many chains at once (the same arithmetic as :mod:`splitopt.evaluate`).

:func:`score_flat` scores one placement per chain of a
:class:`~splitopt.ragged.ChainBatch`. Chains are grouped by length and each
group is scored with the very numpy expressions of
:func:`splitopt.evaluate.score_batch` on a (chains, L) array, so the figures are
bit-for-bit those of :func:`splitopt.evaluate.score` (tested; callers pass its
:data:`~splitopt.evaluate.RTOL`), with one numpy
call per distinct length instead of one Python step per chain.
"""

from __future__ import annotations

import numpy as np

from splitopt.ragged import ChainBatch, segment_rows


def _score_group(batch: ChainBatch, idx: np.ndarray, L: int, x_flat: np.ndarray) -> tuple:
    return score_rows(batch, idx, L, segment_rows(x_flat, batch.offsets, idx, L))


def score_rows(batch: ChainBatch, idx: np.ndarray, L: int, x: np.ndarray) -> tuple:
    """Latency (s), server work and client memory (bytes) of placement ``x[r]``
    (bool, shape (len(idx), L)) of chain ``idx[r]`` (all of ``L`` layers): the
    expressions of :func:`splitopt.evaluate.score_batch`, row by row."""
    off, boff = batch.offsets, batch.boundary_offsets

    def layer(values: np.ndarray) -> np.ndarray:
        return segment_rows(values, off, idx, L)

    def boundary(values: np.ndarray) -> np.ndarray:
        return segment_rows(values, boff, idx, L + 1)

    k = idx.shape[0]
    start = batch.start_server[idx][:, None]
    end = batch.end_server[idx][:, None]
    prev = np.concatenate([start, x], axis=1)
    cur = np.concatenate([x, end], axis=1)
    compute = np.where(x, layer(batch.server_time_s), layer(batch.client_time_s)).sum(axis=1)
    transfer = (
        np.where(~prev & cur, boundary(batch.uplink_s), 0.0)
        + np.where(prev & ~cur, boundary(batch.downlink_s), 0.0)
    ).sum(axis=1)
    latency = compute + transfer
    work = np.where(x, layer(batch.server_work), 0.0).sum(axis=1)
    memory = np.where(x, 0.0, layer(batch.client_memory_bytes)).sum(axis=1)
    assert latency.shape == (k,)
    return latency, work, memory


def feasible_rows(
    batch: ChainBatch, idx: np.ndarray, latency: np.ndarray, memory: np.ndarray, rtol: float
) -> np.ndarray:
    """:func:`splitopt.evaluate.feasible_mask` of chains ``idx``; ``latency`` and
    ``memory`` of shape (len(idx),) or (len(idx), K)."""
    lat, mem = np.asarray(latency), np.asarray(memory)
    col = (slice(None),) + (None,) * (lat.ndim - 1)
    ok = lat <= (batch.sla_s[idx] * (1.0 + rtol))[col]
    budget = batch.memory_budget_bytes[idx]
    has = ~np.isnan(budget)
    with np.errstate(invalid="ignore"):
        ok &= ~has[col] | (mem <= (budget * (1.0 + rtol))[col])
    return ok


def score_flat(
    batch: ChainBatch,
    on_server: np.ndarray,
    has_placement: np.ndarray | None,
    rtol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Latency (s), server work, client memory (bytes) and feasibility of one
    placement per chain.

    ``on_server``: bool[offsets[-1]], the placements concatenated (``True`` =
    server). ``has_placement``: bool[n], chains without a placement get NaN
    figures and ``feasible = False`` (``None``: all have one). ``rtol``: the
    tolerance of the comparisons, always :data:`splitopt.evaluate.RTOL` (passed
    in because that module sits above this one).
    """
    n = len(batch)
    x_flat = np.asarray(on_server, dtype=bool)
    if x_flat.shape != (int(batch.offsets[-1]),):
        raise ValueError(f"expected {int(batch.offsets[-1])} placement entries, got {x_flat.shape}")
    lat = np.full(n, np.nan)
    work = np.full(n, np.nan)
    mem = np.full(n, np.nan)
    have = np.ones(n, bool) if has_placement is None else np.asarray(has_placement, bool)
    lengths = batch.num_layers
    for L in np.unique(lengths[have]):
        idx = np.flatnonzero(have & (lengths == L))
        lat[idx], work[idx], mem[idx] = _score_group(batch, idx, int(L), x_flat)
    ok = have & (lat <= batch.sla_s * (1.0 + rtol))
    budget = batch.memory_budget_bytes
    with np.errstate(invalid="ignore"):
        ok &= np.isnan(budget) | (mem <= budget * (1.0 + rtol))
    return lat, work, mem, ok
