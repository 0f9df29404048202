"""The one evaluator: latency, server work, client memory and feasibility (SPEC §1).

Every solver's reported numbers come from here; no solver's own objective is
trusted. Placements are strings over ``"C"`` (client) and ``"S"`` (server),
one character per layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from splitopt.errors import PlacementError
from splitopt.problem import Chain, Problem

#: Relative tolerance of the latency and memory comparisons (SPEC §1).
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
    return "".join("S" if s else "C" for s in np.asarray(on_server).astype(bool))


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
    compute = np.where(x, chain.server_time_s, chain.client_time_s).sum(axis=1)
    transfer = (
        np.where(~prev & cur, chain.uplink_s, 0.0) + np.where(prev & ~cur, chain.downlink_s, 0.0)
    ).sum(axis=1)
    latency = compute + transfer
    work = np.where(x, chain.server_work, 0.0).sum(axis=1)
    memory = np.where(x, 0.0, chain.client_memory_bytes).sum(axis=1)
    return latency, work, memory


def feasible_mask(chain: Chain, latency: np.ndarray, memory: np.ndarray) -> np.ndarray:
    """T <= D and Mem <= M, each with relative tolerance :data:`RTOL`."""
    ok = np.asarray(latency) <= chain.sla_s * (1.0 + RTOL)
    if chain.memory_budget_bytes is not None:
        ok &= np.asarray(memory) <= chain.memory_budget_bytes * (1.0 + RTOL)
    return ok


@dataclass(frozen=True)
class Score:
    """The evaluator's figures for one placement of one request."""

    latency_s: float
    server_work: float
    client_memory_bytes: float
    feasible: bool


def score(chain: Chain, placement: str | np.ndarray) -> Score:
    """Score one placement of one chain."""
    x = parse_placement(placement, chain.num_layers) if isinstance(placement, str) else placement
    lat, work, mem = score_batch(chain, np.asarray(x, dtype=bool)[None, :])
    return Score(
        float(lat[0]), float(work[0]), float(mem[0]), bool(feasible_mask(chain, lat, mem)[0])
    )


@dataclass(frozen=True)
class Evaluation:
    """Per-request figures of a set of placements, aligned with ``problem.requests``.

    Requests without a placement (``None``) have NaN figures and ``feasible = False``.
    """

    placements: tuple[str | None, ...]
    latency_s: np.ndarray
    server_work: np.ndarray
    client_memory_bytes: np.ndarray
    feasible: np.ndarray
    weights: np.ndarray

    @property
    def objective(self) -> float:
        """Σ ω W over the feasible requests."""
        f = self.feasible
        return float(np.dot(self.weights[f], self.server_work[f]))

    @property
    def num_feasible(self) -> int:
        return int(self.feasible.sum())


def evaluate(
    problem: Problem, placements: Sequence[str | None] | Mapping[str, str | None]
) -> Evaluation:
    """Score placements (one per request, or a mapping id -> placement) on ``problem``.

    Identical (chain, placement) pairs are scored once. Raises
    :class:`PlacementError` for a placement of the wrong length or alphabet, or
    a mapping that misses or adds request ids.
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
    cache: dict[tuple[int, str], tuple[float, float, float, bool]] = {}
    for i, (p, j) in enumerate(zip(seq, problem.chain_index, strict=True)):
        if p is None:
            continue
        key = (int(j), p)
        hit = cache.get(key)
        if hit is None:
            try:
                s = score(problem.chains[int(j)], p)
            except PlacementError as exc:
                raise PlacementError(f"request {problem.requests[i].id!r}: {exc}") from None
            hit = (s.latency_s, s.server_work, s.client_memory_bytes, s.feasible)
            cache[key] = hit
        lat[i], work[i], mem[i], feas[i] = hit
    for a in (lat, work, mem, feas):
        a.setflags(write=False)
    return Evaluation(tuple(seq), lat, work, mem, feas, problem.weights)


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
