"""The one evaluator: latency, server work, client memory and feasibility.

Every solver's reported numbers come from here; no solver's own objective is
trusted.

A placement is a read-only boolean array of length L, ``True`` where the layer
runs on the server; that is what solvers, :class:`~splitopt.solution.Result`
and this module pass around. Strings over ``"C"`` (client) and ``"S"``
(server), one character per layer, exist only at the edges (files, screen,
and as a convenience in the public functions here): :func:`parse_placement`
and :func:`format_placement` convert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from splitopt.batch_evaluate import score_flat
from splitopt.errors import PlacementError
from splitopt.problem import Chain, Problem
from splitopt.ragged import batch_of

#: Relative tolerance of the latency and memory comparisons.
RTOL = 1e-9


def parse_placement(placement: str, num_layers: int) -> np.ndarray:
    """``"CCS"`` -> boolean array, ``True`` where the layer runs on the server."""
    if not isinstance(placement, str):
        raise PlacementError(f"placement must be a string, got {placement!r}")
    if len(placement) != num_layers:
        raise PlacementError(
            f"placement {placement!r} has {len(placement)} layers, the request has {num_layers}"
        )
    bad = set(placement) - {"C", "S"}
    if bad:
        raise PlacementError(
            f"placement {placement!r} may hold only 'C' and 'S', found {sorted(bad)}"
        )
    return np.frombuffer(placement.encode("ascii"), dtype=np.uint8) == ord("S")


def format_placement(on_server: np.ndarray) -> str:
    """Boolean (or 0/1) array -> ``"CCS"`` string."""
    x = np.asarray(on_server).astype(bool)
    return np.where(x, ord("S"), ord("C")).astype(np.uint8).tobytes().decode("ascii")


def as_placement(placement: str | np.ndarray, num_layers: int | None = None) -> np.ndarray:
    """A read-only boolean placement from a string or a boolean/0-1 array.

    Raises :class:`PlacementError` for a wrong length (when ``num_layers`` is
    given), alphabet, shape or values other than 0/1.
    """
    if isinstance(placement, str):
        x = parse_placement(placement, len(placement) if num_layers is None else num_layers)
    else:
        a = np.asarray(placement)
        if a.ndim != 1:
            raise PlacementError(f"placement must be one-dimensional, got shape {a.shape}")
        if num_layers is not None and a.shape[0] != num_layers:
            raise PlacementError(f"placement has {a.shape[0]} layers, the request has {num_layers}")
        if a.dtype != np.bool_:
            # (== on numbers: np.isin costs ten times as much on a short array)
            numeric = a.dtype.kind in "biuf"
            zero_one = ((a == 0) | (a == 1)).all() if numeric else np.isin(a, (0, 1)).all()
            if a.size and not zero_one:
                raise PlacementError("placement array may hold only 0/1 or booleans")
            a = a.astype(bool)
        x = a
    if x.flags.writeable or type(x.base) is not bytes:  # copy anything not provably ours
        x = np.frombuffer(np.ascontiguousarray(x, dtype=bool).tobytes(), dtype=bool)
    return x


def score_batch(chain: Chain, on_server: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latency (s), server work and client memory (bytes) of K placements.

    ``on_server`` is a (K, L) boolean array. Returns three float64 arrays of length K.
    """
    x = np.asarray(on_server, dtype=bool)
    if x.ndim != 2 or x.shape[1] != chain.num_layers:
        raise PlacementError(f"expected placements of shape (K, {chain.num_layers}), got {x.shape}")
    k = x.shape[0]
    start = np.full((k, 1), chain.start == "server")
    end = np.full((k, 1), chain.end == "server")
    prev = np.concatenate([start, x], axis=1)  # x_{b-1} for b = 0..L
    cur = np.concatenate([x, end], axis=1)  # x_b for b = 0..L
    return _sums(chain, x, prev, cur)


def _sums(chain: Chain, x: np.ndarray, prev: np.ndarray, cur: np.ndarray) -> tuple[Any, Any, Any]:
    """Latency, server work and client memory of placements ``x`` (the last axis:
    layers), ``prev``/``cur`` the location before/after each boundary: the
    evaluator's one formula, for one placement (numpy scalars) or a batch (arrays)."""
    compute = np.where(x, chain.server_time_s, chain.client_time_s).sum(axis=-1)
    transfer = (
        np.where(~prev & cur, chain.uplink_s, 0.0) + np.where(prev & ~cur, chain.downlink_s, 0.0)
    ).sum(axis=-1)
    work = np.where(x, chain.server_work, 0.0).sum(axis=-1)
    memory = np.where(x, 0.0, chain.client_memory_bytes).sum(axis=-1)
    return compute + transfer, work, memory


def feasible_mask(
    chain: Chain, latency: np.ndarray | float, memory: np.ndarray | float
) -> np.ndarray:
    """T <= D and Mem <= M, each with relative tolerance :data:`RTOL` (arrays, or
    one placement's figures: a 0-d result)."""
    ok = np.asarray(latency) <= chain.sla_s * (1.0 + RTOL)
    if chain.memory_budget_bytes is not None:
        ok &= np.asarray(memory) <= chain.memory_budget_bytes * (1.0 + RTOL)
    return ok


@dataclass(frozen=True)
class Score:
    """The evaluator's figures for one placement of one request.

    ``of`` identifies what was scored (the chain's content digest and the
    placement's bytes), so a score handed along with a placement (e.g. by a
    solver that already scored it) is used only for that very pair.
    """

    latency_s: float
    server_work: float
    client_memory_bytes: float
    feasible: bool
    of: bytes = field(default=b"", repr=False, compare=False)

    def is_for(self, chain: Chain, on_server: np.ndarray) -> bool:
        """Whether this is the score of ``on_server`` on ``chain``."""
        return bool(self.of) and self.of == _score_key(chain, on_server)


def _score_key(chain: Chain, on_server: np.ndarray) -> bytes:
    return (
        chain.key
        + np.packbits(np.asarray(on_server, dtype=bool)).tobytes()
        + bytes([chain.num_layers % 8])
    )


def score(chain: Chain, placement: str | np.ndarray) -> Score:
    """Score one placement (boolean array, or a ``"CS"`` string) of one chain: the
    figures of :func:`score_batch` (the same sums, in the same order, on one row)."""
    x = as_placement(placement, chain.num_layers)
    n = x.shape[0]
    prev = np.empty(n + 1, dtype=bool)  # x_{b-1} for b = 0..L
    prev[0] = chain.start == "server"
    prev[1:] = x
    cur = np.empty(n + 1, dtype=bool)  # x_b for b = 0..L
    cur[:n] = x
    cur[n] = chain.end == "server"
    lat_, work_, mem_ = _sums(chain, x, prev, cur)
    lat, work, mem = float(lat_), float(work_), float(mem_)
    ok = bool(feasible_mask(chain, lat, mem))
    return Score(lat, work, mem, ok, _score_key(chain, x))


@dataclass(frozen=True)
class Evaluation:
    """Per-request figures of a set of placements, aligned with ``problem.requests``.

    ``on_server`` holds the placements (read-only boolean arrays; requests that
    share a chain and a placement share one array). Requests without a placement
    (``None``) have NaN figures and ``feasible = False``.
    """

    on_server: tuple[np.ndarray | None, ...]
    latency_s: np.ndarray
    server_work: np.ndarray
    client_memory_bytes: np.ndarray
    feasible: np.ndarray
    weights: np.ndarray

    @cached_property
    def placements(self) -> tuple[str | None, ...]:
        """The placements as ``"CS"`` strings (for files and the screen)."""
        memo: dict[int, str] = {}
        out: list[str | None] = []
        for x in self.on_server:
            if x is None:
                out.append(None)
                continue
            text = memo.get(id(x))
            if text is None:
                text = memo[id(x)] = format_placement(x)
            out.append(text)
        return tuple(out)

    @property
    def objective(self) -> float:
        """Σ ω W over the feasible requests."""
        f = self.feasible
        return float(np.dot(self.weights[f], self.server_work[f]))

    @property
    def num_feasible(self) -> int:
        return int(self.feasible.sum())


def _frozen(a: np.ndarray) -> np.ndarray:
    return np.frombuffer(a.tobytes(), dtype=a.dtype)


def evaluate_chains(
    problem: Problem,
    placements: Sequence[np.ndarray | None],
    scores: Sequence[Score | None] | None = None,
) -> Evaluation:
    """Score one placement per *distinct chain* (``problem.chains``) and give every
    request its chain's figures: each distinct chain is scored once.

    ``scores`` may hold figures already computed by :func:`score` for some of
    the pairs (a solver that scored its answer); they are used only where they
    are the score of that very (chain, placement), else the pair is scored here.
    """
    k = len(problem.chains)
    if len(placements) != k:
        raise PlacementError(f"{len(placements)} placements for {k} distinct chains")
    xs: list[np.ndarray | None] = []
    lat = np.full(k, np.nan)
    work = np.full(k, np.nan)
    mem = np.full(k, np.nan)
    feas = np.zeros(k, dtype=bool)
    if k >= BATCH_MIN_CHAINS and (scores is None or all(s is None for s in scores)):
        xs, (lat, work, mem, feas) = _score_chains_batched(problem, placements)
    for j, (chain, p) in enumerate(zip(problem.chains, placements, strict=True)):
        if len(xs) == k:  # scored batched above
            break
        if p is None:
            xs.append(None)
            continue
        x = as_placement(p, chain.num_layers)
        s = None if scores is None else scores[j]
        if s is None or not s.is_for(chain, x):
            s = score(chain, x)
        xs.append(x)
        lat[j], work[j], mem[j], feas[j] = (
            s.latency_s,
            s.server_work,
            s.client_memory_bytes,
            s.feasible,
        )
    idx = problem.chain_index
    return Evaluation(
        tuple(xs[int(j)] for j in idx),
        _frozen(lat[idx]),
        _frozen(work[idx]),
        _frozen(mem[idx]),
        _frozen(feas[idx]),
        _frozen(problem.weights),
    )


#: :func:`evaluate_chains` scores this many distinct chains or more with the
#: grouped numpy evaluator of :mod:`splitopt.batch_evaluate` (bit-identical figures).
BATCH_MIN_CHAINS = 64


def evaluate_flat(problem: Problem, on_server: np.ndarray, have: np.ndarray) -> Evaluation:
    """:func:`evaluate_chains` of one placement per distinct chain given flat:
    ``on_server`` bool[offsets[-1]] over :func:`~splitopt.ragged.batch_of` the problem
    (the batched solvers' output), ``have`` bool[distinct chains] (False: no placement,
    NaN figures). The same figures and placements as :func:`evaluate_chains` (scored
    by :func:`~splitopt.batch_evaluate.score_flat`), without one Python object per
    chain but the placements' read-only views."""
    batch = batch_of(problem)
    k = len(batch)
    have = np.asarray(have, dtype=bool)
    if have.shape != (k,):
        raise PlacementError(f"{have.shape[0]} placements for {k} distinct chains")
    buf = np.ascontiguousarray(on_server, dtype=bool).tobytes()
    flat = np.frombuffer(buf, bool)  # read-only, and so are its slices
    lat, work, mem, feas = score_flat(batch, flat, have, RTOL)
    off = batch.offsets.tolist()
    hs = have.tolist()
    width = off[-1] // k if k else 0
    # every chain placed and of one length: the rows of one (k, L) view, at C speed
    rows = k > 0 and off[-1] == k * width and bool(have.all())
    if rows:
        xs: list[np.ndarray | None] = list(flat.reshape(k, width))
    else:
        xs = [flat[a:e] if h else None for a, e, h in zip(off[:-1], off[1:], hs, strict=True)]
    # every request its own chain (a big file of distinct requests): no gather
    same = problem.distinct_requests
    idx = slice(None) if same else problem.chain_index.tolist()

    def spread(values: list) -> tuple:
        return tuple(values) if same else tuple(map(values.__getitem__, idx))  # type: ignore[arg-type]

    ev = Evaluation(
        spread(xs),
        _frozen(lat[idx]),
        _frozen(work[idx]),
        _frozen(mem[idx]),
        _frozen(feas[idx]),
        _frozen(problem.weights),
    )
    # the "CS" strings of every chain at once (format_placement's text), so that the
    # cached property needs no step per chain
    text = format_placement(np.frombuffer(buf, bool))
    strings: list[str | None]
    if rows:  # the text cut into k strings of L characters by numpy ("C"/"S": no NUL)
        strings = np.frombuffer(text.encode("ascii"), f"S{width}").astype(f"U{width}").tolist()
    else:
        strings = [text[a:e] if h else None for a, e, h in zip(off[:-1], off[1:], hs, strict=True)]
    ev.__dict__["placements"] = spread(strings)
    return ev


def _score_chains_batched(
    problem: Problem, placements: Sequence[np.ndarray | None]
) -> tuple[list[np.ndarray | None], tuple[np.ndarray, ...]]:
    batch = batch_of(problem)
    lengths = batch.num_layers.tolist()
    xs = [
        None if p is None else as_placement(p, n) for n, p in zip(lengths, placements, strict=True)
    ]
    have = np.array([x is not None for x in xs], dtype=bool)
    parts = [np.zeros(n, bool) if x is None else x for n, x in zip(lengths, xs, strict=True)]
    flat = np.concatenate(parts) if parts else np.zeros(0, bool)
    return xs, score_flat(batch, flat, have, RTOL)


def evaluate(
    problem: Problem,
    placements: Sequence[str | np.ndarray | None] | Mapping[str, str | np.ndarray | None],
) -> Evaluation:
    """Score placements (one per request, or a mapping id -> placement) on ``problem``.

    Placements are boolean arrays or ``"CS"`` strings. Identical (chain,
    placement) pairs are scored once. Raises :class:`PlacementError` for a
    placement of the wrong length or alphabet, or a mapping that misses or adds
    request ids.
    """
    if isinstance(placements, Mapping):
        ids = set(problem.ids)
        extra = [k for k in placements if k not in ids]
        if extra:
            raise PlacementError(f"unknown request id {extra[0]!r}")
        missing = [r.id for r in problem.requests if r.id not in placements]
        if missing:
            raise PlacementError(f"no placement for request {missing[0]!r}")
        seq = [placements[r.id] for r in problem.requests]
    else:
        seq = list(placements)
        if len(seq) != len(problem):
            raise PlacementError(f"{len(seq)} placements for {len(problem)} requests")
    n = len(problem)
    lat = np.full(n, np.nan)
    work = np.full(n, np.nan)
    mem = np.full(n, np.nan)
    feas = np.zeros(n, dtype=bool)
    xs: list[np.ndarray | None] = [None] * n
    # two caches: by the object given (a string's text, an array's identity: requests
    # of one chain usually share it), then by the placement's content
    given: dict[tuple[int, object], tuple[np.ndarray, Score]] = {}
    cache: dict[tuple[int, bytes], tuple[np.ndarray, Score]] = {}
    for i, (p, j) in enumerate(zip(seq, problem.chain_index, strict=True)):
        if p is None:
            continue
        raw = (int(j), p if isinstance(p, str) else id(p))
        hit = given.get(raw)
        if hit is None:
            chain = problem.chains[int(j)]
            try:
                x = as_placement(p, chain.num_layers)
            except PlacementError as exc:
                raise PlacementError(f"request {problem.requests[i].id!r}: {exc}") from None
            key = (int(j), x.tobytes())
            hit = cache.get(key)
            if hit is None:
                hit = cache[key] = (x, score(chain, x))
            given[raw] = hit
        xs[i] = hit[0]
        s = hit[1]
        lat[i], work[i], mem[i], feas[i] = (
            s.latency_s,
            s.server_work,
            s.client_memory_bytes,
            s.feasible,
        )
    return Evaluation(
        tuple(xs),
        _frozen(lat),
        _frozen(work),
        _frozen(mem),
        _frozen(feas),
        _frozen(problem.weights),
    )


def server_only(chain: Chain) -> str:
    """The all-server placement of a chain."""
    return "S" * chain.num_layers


def min_latency(chain: Chain) -> float:
    """The least latency any placement of ``chain`` achieves, seconds.

    Memory and the SLA are ignored; a two-state (client/server) shortest path.
    """
    up, down = chain.uplink_s, chain.downlink_s
    inf = np.inf
    best = np.array([0.0, inf]) if chain.start == "client" else np.array([inf, 0.0])
    for b in range(chain.num_layers):
        a, c = chain.client_time_s[b], chain.server_time_s[b]
        to_c = min(best[0], best[1] + down[b]) + a
        to_s = min(best[0] + up[b], best[1]) + c
        best = np.array([to_c, to_s])
    L = chain.num_layers
    if chain.end == "client":
        return float(min(best[0], best[1] + down[L]))
    return float(min(best[0] + up[L], best[1]))
