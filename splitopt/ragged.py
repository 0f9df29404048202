"""Many chains as flat arrays (ragged: offsets + data), for the batched kernels.

A :class:`ChainBatch` holds n chains of possibly different lengths without one
Python object per chain: the per-layer arrays of all chains are concatenated
(chain i owns ``[offsets[i], offsets[i + 1])``), the per-boundary arrays too
(chain i owns ``[boundary_offsets[i], boundary_offsets[i + 1])``, one more
entry per chain), and the scalars are arrays of length n. Units are those of
:class:`~splitopt.problem.Chain` (seconds, the work unit, bytes).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from splitopt.problem import Chain, Problem


@dataclass(frozen=True, eq=False)
class ChainBatch:
    """n chains in ragged arrays.

    Attributes:
        offsets: int64[n + 1], layer offsets (chain i has ``offsets[i+1] - offsets[i]`` layers).
        client_time_s, server_time_s, server_work, client_memory_bytes: float64[offsets[-1]].
        uplink_s, downlink_s: float64[offsets[-1] + n] (L + 1 boundaries per chain).
        sla_s: float64[n].
        memory_budget_bytes: float64[n], NaN where the chain has no budget.
        start_server, end_server: bool[n].
    """

    offsets: np.ndarray
    client_time_s: np.ndarray
    server_time_s: np.ndarray
    server_work: np.ndarray
    uplink_s: np.ndarray
    downlink_s: np.ndarray
    client_memory_bytes: np.ndarray
    sla_s: np.ndarray
    memory_budget_bytes: np.ndarray
    start_server: np.ndarray
    end_server: np.ndarray

    def __len__(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def num_layers(self) -> np.ndarray:
        """int64[n], L of each chain."""
        return np.diff(self.offsets)

    @property
    def boundary_offsets(self) -> np.ndarray:
        """int64[n + 1], offsets into ``uplink_s`` / ``downlink_s``."""
        return self.offsets + np.arange(self.offsets.shape[0], dtype=np.int64)

    @property
    def has_budget(self) -> np.ndarray:
        """bool[n], whether the chain has a memory budget."""
        return ~np.isnan(self.memory_budget_bytes)

    @classmethod
    def from_chains(cls, chains: Sequence[Chain]) -> ChainBatch:
        """Concatenate chains (one Python step per chain; for files use a columnar reader)."""
        n = len(chains)
        lengths = np.fromiter((c.num_layers for c in chains), np.int64, n)
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])

        def cat(name: str) -> np.ndarray:
            if n == 0:
                return np.zeros(0)
            return np.concatenate([getattr(c, name) for c in chains])

        budget = np.fromiter(
            (np.nan if c.memory_budget_bytes is None else c.memory_budget_bytes for c in chains),
            np.float64,
            n,
        )
        return cls(
            offsets=offsets,
            client_time_s=cat("client_time_s"),
            server_time_s=cat("server_time_s"),
            server_work=cat("server_work"),
            uplink_s=cat("uplink_s"),
            downlink_s=cat("downlink_s"),
            client_memory_bytes=cat("client_memory_bytes"),
            sla_s=np.fromiter((c.sla_s for c in chains), np.float64, n),
            memory_budget_bytes=budget,
            start_server=np.fromiter((c.start == "server" for c in chains), bool, n),
            end_server=np.fromiter((c.end == "server" for c in chains), bool, n),
        )

    def chain(self, i: int) -> Chain:
        """Chain i as a :class:`Chain` (validates it)."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        c, d = a + i, b + i + 1
        budget = self.memory_budget_bytes[i]
        return Chain(
            client_time_s=self.client_time_s[a:b],
            server_time_s=self.server_time_s[a:b],
            server_work=self.server_work[a:b],
            uplink_s=self.uplink_s[c:d],
            downlink_s=self.downlink_s[c:d],
            client_memory_bytes=self.client_memory_bytes[a:b],
            sla_s=float(self.sla_s[i]),
            memory_budget_bytes=None if np.isnan(budget) else float(budget),
            start="server" if self.start_server[i] else "client",
            end="server" if self.end_server[i] else "client",
        )

    def chains(self) -> list[Chain]:
        return [self.chain(i) for i in range(len(self))]


_BATCHES: dict[int, tuple[weakref.ref, ChainBatch]] = {}


def batch_of(problem: Problem) -> ChainBatch:
    """``ChainBatch.from_chains(problem.chains)``, built once per (immutable) problem
    object while it lives (the solver and the evaluator both need it)."""
    key = id(problem)
    hit = _BATCHES.get(key)
    if hit is not None and hit[0]() is problem:
        return hit[1]
    b = ChainBatch.from_chains(problem.chains)
    _BATCHES[key] = (weakref.ref(problem), b)
    weakref.finalize(problem, _BATCHES.pop, key, None)
    return b


def segment_all(mask: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """bool[n]: whether every element of each segment is True (empty segments: True)."""
    bad = np.zeros(mask.shape[0] + 1, np.int64)
    np.cumsum(~mask, out=bad[1:])
    return (bad[offsets[1:]] - bad[offsets[:-1]]) == 0


def segment_sum(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """float64[n]: the sum of each segment, added left to right as ``np.add.reduceat``."""
    n = offsets.shape[0] - 1
    out = np.zeros(n)
    nonempty = offsets[1:] > offsets[:-1]
    if values.shape[0]:
        sums = np.add.reduceat(values, np.minimum(offsets[:-1], values.shape[0] - 1))
        out[nonempty] = sums[nonempty]
    return out
