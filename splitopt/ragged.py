"""Many chains as flat arrays (ragged: offsets + data), for the batched kernels.

A :class:`ChainBatch` holds n chains of possibly different lengths without one
Python object per chain: the per-layer arrays of all chains are concatenated
(chain i owns ``[offsets[i], offsets[i + 1])``), the per-boundary arrays too
(chain i owns ``[boundary_offsets[i], boundary_offsets[i + 1])``, one more
entry per chain), and the scalars are arrays of length n. Units are those of
:class:`~splitopt.problem.Chain` (seconds, the work unit, bytes).
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from splitopt.problem import (
    BOUNDARY_FIELDS,
    LAYER_FIELDS,
    MIN_SLA_S,
    WORK_UNITS,
    Chain,
    DataError,
    Problem,
    Request,
)


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
    if isinstance(problem, BatchProblem):
        return problem.batch
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


def take(batch: ChainBatch, index: np.ndarray) -> ChainBatch:
    """The chains ``batch[index]`` (in that order) as a new batch, gathered without
    one Python step per chain."""
    index = np.asarray(index, np.int64)
    lengths = batch.num_layers[index]
    offsets = np.zeros(index.shape[0] + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    rows = np.repeat(batch.offsets[index] - offsets[:-1], lengths) + np.arange(total)
    blen = lengths + 1
    boff = np.zeros(index.shape[0] + 1, np.int64)
    np.cumsum(blen, out=boff[1:])
    brows = np.repeat(batch.boundary_offsets[index] - boff[:-1], blen) + np.arange(int(boff[-1]))
    return ChainBatch(
        offsets=offsets,
        client_time_s=batch.client_time_s[rows],
        server_time_s=batch.server_time_s[rows],
        server_work=batch.server_work[rows],
        uplink_s=batch.uplink_s[brows],
        downlink_s=batch.downlink_s[brows],
        client_memory_bytes=batch.client_memory_bytes[rows],
        sla_s=batch.sla_s[index],
        memory_budget_bytes=batch.memory_budget_bytes[index],
        start_server=batch.start_server[index],
        end_server=batch.end_server[index],
    )


def _first_of_equal(batch: ChainBatch) -> np.ndarray:
    """int64[n]: for each chain, the first chain of ``batch`` with the same content
    (arrays, SLA, budget, ends): what :class:`~splitopt.problem.Problem` deduplicates
    by. Arrays must be canonical (``-0.0`` stored as ``0.0``, no NaN but the budget's)."""
    n = len(batch)
    first = np.arange(n, dtype=np.int64)
    lengths = batch.num_layers
    has = ~np.isnan(batch.memory_budget_bytes)
    scal = np.stack(
        [
            batch.sla_s,
            np.where(has, batch.memory_budget_bytes, 0.0),
            has.astype(np.float64),
            batch.start_server.astype(np.float64),
            batch.end_server.astype(np.float64),
        ],
        axis=1,
    )
    for L in np.unique(lengths).tolist():
        idx = np.flatnonzero(lengths == L)
        if idx.shape[0] < 2:
            continue
        parts = [
            segment_rows(getattr(batch, f), batch.offsets, idx, L)
            for f in ("client_time_s", "server_time_s", "server_work", "client_memory_bytes")
        ]
        parts += [
            segment_rows(getattr(batch, f), batch.boundary_offsets, idx, L + 1)
            for f in BOUNDARY_FIELDS
        ]
        parts.append(scal[idx])
        # rows with equal bytes have equal hashes: only rows whose hash another row
        # shares can be repeats; those are looked at byte for byte (a dict: the first
        # row of each content), in their order
        suspects = _shared_hash_rows(parts)
        if suspects.size == 0:
            continue
        m = np.ascontiguousarray(np.concatenate([p[suspects] for p in parts], axis=1))
        data, width = m.tobytes(), m.shape[1] * 8
        seen: dict[bytes, int] = {}
        put = seen.setdefault
        firsts = [put(data[r * width : (r + 1) * width], r) for r in range(suspects.shape[0])]
        first[idx[suspects]] = idx[suspects[np.asarray(firsts, np.int64)]]
    return first


def segment_rows(
    values: np.ndarray, offsets: np.ndarray, idx: np.ndarray, width: int
) -> np.ndarray:
    """Shape (len(idx), width): the segments ``idx`` (each ``width`` long) of a ragged
    array (``values[offsets[idx][:, None] + arange(width)]``); a view where they are
    all the segments, back to back (the same values, C-contiguous either way)."""
    n = offsets.shape[0] - 1
    if values.shape[0] == n * width and np.array_equal(idx, np.arange(n)):
        return values.reshape(n, width)
    return values[offsets[idx][:, None] + np.arange(width)]


def _shared_hash_rows(parts: list[np.ndarray]) -> np.ndarray:
    """Increasing indices of the rows (of the float64 matrices ``parts`` side by side)
    whose 64-bit hash of the row's words (FNV-style) another row shares: a superset
    of the rows that repeat another row's bytes."""
    h = np.full(parts[0].shape[0], 0xCBF29CE484222325, np.uint64)
    prime = np.uint64(0x100000001B3)
    for part in parts:
        u = np.ascontiguousarray(part, np.float64).view(np.uint64)
        for j in range(u.shape[1]):
            h ^= u[:, j]
            h *= prime  # modulo 2**64
            h ^= h >> np.uint64(29)
    order = np.argsort(h, kind="stable")
    hs = h[order]
    tie = hs[1:] == hs[:-1]
    shared = np.zeros(h.shape[0], bool)
    shared[1:] |= tie
    shared[:-1] |= tie
    return np.sort(order[shared])


class _Lazy(Sequence):
    """A read-only sequence whose items are built on first access (and kept)."""

    def __init__(self, n: int, build: Callable[[int], object]) -> None:
        self._items: list[object] = [None] * n
        self._done = np.zeros(n, bool)
        self._build = build

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self))))
        i = range(len(self))[i]  # negative indices, IndexError
        if not self._done[i]:
            self._items[i] = self._build(i)
            self._done[i] = True
        return self._items[i]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (tuple, _Lazy)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __add__(self, other: object) -> tuple:
        return tuple(self) + tuple(other)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return repr(tuple(self))


class BatchProblem(Problem):
    """A :class:`~splitopt.problem.Problem` held as ragged arrays: what a big problem
    file reads into without one Python object per request.

    Equal (``==``, hash, pickling) to the :class:`Problem` of the same requests, with
    the same distinct chains in the same order (``chains``, ``chain_index``), and
    validated once, at construction, by the rules of :class:`Chain` and
    :class:`Request` over all requests at once. ``requests`` and ``chains`` are
    sequences whose :class:`Request`/:class:`Chain` objects are built on first
    access; the batched paths (solvers, evaluator, summaries, solution files) read
    :attr:`batch`, :attr:`ids` and :attr:`weights` instead.
    """

    batch: ChainBatch
    _ids: list[str]
    _weights: np.ndarray
    _metas: list[Mapping | None] | None
    _chains: _Lazy
    _requests: _Lazy

    def __init__(
        self,
        name: str,
        per_request: ChainBatch,
        ids: Sequence[str],
        weights: np.ndarray,
        metas: Sequence[Mapping | None] | None = None,
        work_unit: str = "FLOP",
    ) -> None:
        s = object.__setattr__
        if not isinstance(name, str):
            raise DataError("name", f"must be a string, got {name!r}")
        if work_unit not in WORK_UNITS:
            raise DataError(
                "work_unit", f"must be one of {', '.join(WORK_UNITS)}, got {work_unit!r}"
            )
        n = len(per_request)
        b = _checked(per_request)
        ids = list(ids)
        if len(ids) != n or "" in ids or not all(map(isinstance, ids, itertools.repeat(str))):
            raise DataError("id", "one non-empty string per request")
        if len(set(ids)) != n:
            seen: dict[str, int] = {}
            for i, r in enumerate(ids):
                if r in seen:
                    raise DataError("id", f"duplicate request id {r!r} (also request {seen[r]})", i)
                seen[r] = i
        w = np.asarray(weights, np.float64)
        if w.shape != (n,) or not (np.isfinite(w).all() and (w >= 0).all()):
            raise DataError("weight", "one finite, non-negative weight per request")
        if metas is not None and len(metas) != n:
            raise DataError("meta", "one meta (or None) per request")
        first = _first_of_equal(b)
        distinct = np.flatnonzero(first == np.arange(n))
        index = np.searchsorted(distinct, first)
        s(self, "name", name)
        s(self, "work_unit", work_unit)
        s(self, "batch", b if distinct.shape[0] == n else take(b, distinct))
        s(self, "chain_index", np.frombuffer(index.astype(np.int64).tobytes(), dtype=np.int64))
        s(self, "_ids", ids)
        s(self, "_weights", np.frombuffer((w + 0.0).tobytes(), dtype=np.float64))
        s(self, "_metas", None if metas is None else list(metas))
        s(self, "_chains", _Lazy(distinct.shape[0], self._chain))
        s(self, "_requests", _Lazy(n, self._request))

    def _chain(self, j: int) -> Chain:
        """Distinct chain j (its values were checked at construction: not again)."""
        b = self.batch
        a, e = int(b.offsets[j]), int(b.offsets[j + 1])
        c, d = a + j, e + j + 1
        budget = float(b.memory_budget_bytes[j])
        return Chain._from_checked(
            client_time_s=b.client_time_s[a:e],
            server_time_s=b.server_time_s[a:e],
            server_work=b.server_work[a:e],
            uplink_s=b.uplink_s[c:d],
            downlink_s=b.downlink_s[c:d],
            client_memory_bytes=b.client_memory_bytes[a:e],
            sla_s=float(b.sla_s[j]),
            memory_budget_bytes=None if math.isnan(budget) else budget,
            start="server" if b.start_server[j] else "client",
            end="server" if b.end_server[j] else "client",
        )

    def _request(self, i: int) -> Request:
        meta = None if self._metas is None else self._metas[i]
        chain = self._chains[int(self.chain_index[i])]
        # Request freezes a mapping into a Meta (as for the per-request reader)
        return Request(
            id=self._ids[i],
            chain=chain,  # type: ignore[arg-type]
            weight=float(self._weights[i]),
            meta=meta,  # type: ignore[arg-type]
        )

    @property  # type: ignore[override]
    def requests(self) -> tuple[Request, ...]:
        """The requests (a sequence; each built on first access)."""
        return self._requests  # type: ignore[return-value]

    @property  # type: ignore[override]
    def chains(self) -> tuple[Chain, ...]:
        """The distinct chains (a sequence; each built on first access)."""
        return self._chains  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._ids)

    def __reduce__(self) -> tuple:
        # pickles as the plain Problem it equals (rebuilt through its constructor)
        return (Problem, (self.name, tuple(self.requests), self.work_unit))

    @property
    def weights(self) -> np.ndarray:
        return self._weights

    @property
    def ids(self) -> list[str]:
        return list(self._ids)


def _checked(b: ChainBatch) -> ChainBatch:
    """``b`` validated by :class:`Chain`'s rules (finite non-negative arrays of the right
    lengths, at least one layer, SLA >= MIN_SLA_S, finite non-negative budget or NaN)
    and made canonical (``-0.0`` -> ``0.0``), in arrays of its own. They stay writable
    numpy arrays, as :func:`batch_of`'s are: the numba kernels take them as compiled
    (a read-only array is another signature, compiled again); nothing writes them."""
    n = len(b)
    off = np.asarray(b.offsets, np.int64)
    if off.shape != (n + 1,) or off[0] != 0 or (np.diff(off) < 1).any():
        raise DataError("client_time_s", "a request needs at least one layer")
    total = int(off[-1])
    out: dict[str, np.ndarray] = {}
    for name in LAYER_FIELDS + BOUNDARY_FIELDS:
        a = np.asarray(getattr(b, name), np.float64)
        want = total + (n if name in BOUNDARY_FIELDS else 0)
        if a.shape != (want,):
            raise DataError(name, f"has {a.shape[0]} values, expected {want}")
        if not (np.isfinite(a).all() and (a >= 0).all()):
            raise DataError(name, "must be finite and non-negative")
        out[name] = a + 0.0
    sla = np.asarray(b.sla_s, np.float64)
    if sla.shape != (n,) or not (np.isfinite(sla).all() and (sla >= MIN_SLA_S).all()):
        raise DataError("sla_s", f"must be finite and >= {MIN_SLA_S:g} s")
    budget = np.asarray(b.memory_budget_bytes, np.float64)
    has = ~np.isnan(budget)
    if budget.shape != (n,) or not (np.isfinite(budget[has]).all() and (budget[has] >= 0).all()):
        raise DataError("memory_budget_bytes", "must be finite and non-negative (or none)")
    return ChainBatch(
        offsets=off.copy(),
        sla_s=sla + 0.0,
        memory_budget_bytes=budget + 0.0,
        start_server=np.array(b.start_server, bool),
        end_server=np.array(b.end_server, bool),
        **out,
    )
