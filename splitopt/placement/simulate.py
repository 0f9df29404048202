"""The online simulator: Poisson arrivals, routing at arrival,
cache held from admission to completion, waiting when a request does not fit.

* :class:`Workload` — rate (req/s), number of requests, the request classes
  (client, l_in, l_out) drawn uniformly per arrival (ours: the paper's scripts have
  one client and one class), a seed.
* :func:`run_policy` — one seeded run of one policy (:mod:`splitopt.placement.online`)
  -> :class:`SimRun` with per-request arrays (seconds).
* :func:`summarise` — per-policy means, p50/p95/p99 and 95 % confidence intervals over
  seeds (Student t over the per-seed means).

A request's service time is the evaluator's T_r on its route (a single request's
time does not depend on concurrency; memory is the contended resource). Per-token
time = (wait + T_r) / l_out, as the paper averages it; time to first token = wait +
the prefill part of T_r.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from splitopt.errors import DataError
from splitopt.placement.model import MAX_REQUESTS, Cluster, Job


@dataclass(frozen=True)
class Workload:
    """Poisson arrivals at ``rate_per_s`` of ``num_requests`` requests, each of a class
    drawn uniformly from ``classes``; the first request arrives at time 0 (as the
    authors' scripts)."""

    rate_per_s: float
    num_requests: int
    classes: tuple[Job, ...]

    def __post_init__(self) -> None:
        if not (isinstance(self.rate_per_s, (int, float)) and self.rate_per_s > 0):
            raise DataError("arrival_rate_per_s", f"must be > 0, got {self.rate_per_s!r}")
        if int(self.num_requests) != self.num_requests or self.num_requests < 1:
            raise DataError(
                "num_requests", f"must be a whole number >= 1, got {self.num_requests!r}"
            )
        if self.num_requests > MAX_REQUESTS:
            raise DataError(
                "num_requests",
                f"at most {MAX_REQUESTS:,} per run (our limit: every request's records are "
                f"kept in memory), got {self.num_requests:,}",
            )
        if not self.classes:
            raise DataError("jobs", "the workload needs at least one request class")
        object.__setattr__(self, "classes", tuple(self.classes))

    @classmethod
    def from_cluster(
        cls,
        cluster: Cluster,
        rate_per_s: float | None = None,
        num_requests: int | None = None,
        l_out: int | None = None,
    ) -> Workload:
        """The cluster file's workload (``arrival_rate_per_s``, ``num_requests``, jobs as
        classes), each overridable; defaults 0.1 req/s and 100 requests (the paper's)."""
        arr = cluster.arrivals
        jobs = cluster.jobs or tuple(Job(c, 20, 128) for c in range(cluster.num_clients))
        classes = {(j.client, j.l_in, l_out or j.l_out): None for j in jobs}
        return cls(
            float(rate_per_s if rate_per_s is not None else arr.rate_per_s or 0.1),
            int(num_requests if num_requests is not None else arr.num_requests or 100),
            tuple(Job(c, i, o) for c, i, o in classes),
        )

    def replace(self, **changes: object) -> Workload:
        """A copy with ``changes`` (checked anew)."""
        from dataclasses import replace

        return replace(self, **changes)  # type: ignore[arg-type]

    def sample(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(arrival times in s, class index per request)."""
        rng = np.random.default_rng(seed)
        gaps = rng.exponential(1.0 / self.rate_per_s, self.num_requests)
        gaps[0] = 0.0
        cls = rng.integers(0, len(self.classes), self.num_requests)
        return np.cumsum(gaps), cls.astype(np.int64)

    def design_time(self) -> float:
        """Mean offered work helper: the longest l_in + l_out over classes (tokens)."""
        return max(j.l_in + j.l_out for j in self.classes)


@dataclass(frozen=True, eq=False)
class SimRun:
    """One seeded run: per-request arrays (seconds)."""

    policy: str
    seed: int
    arrive: np.ndarray
    admit: np.ndarray  # inf = never served (no route)
    service: np.ndarray  # T_r on the route
    prefill: np.ndarray  # prefill part of T_r
    l_out: np.ndarray
    in_system_seen: np.ndarray  # requests in the system seen by each arrival
    alloc_delay_s: float = 0.0
    info: dict = field(default_factory=dict)
    #: blocks each request ran on its own client / on the swarm (0 where unserved);
    #: ``None`` in runs whose clients run nothing (:mod:`splitopt.joint.online` sets them)
    client_blocks: np.ndarray | None = None
    swarm_blocks: np.ndarray | None = None

    @property
    def served(self) -> np.ndarray:
        return np.isfinite(self.admit)

    @property
    def wait(self) -> np.ndarray:
        return self.admit - self.arrive + self.alloc_delay_s

    @property
    def response(self) -> np.ndarray:
        return self.wait + self.service

    @property
    def ttft(self) -> np.ndarray:
        return self.wait + self.prefill

    @property
    def per_token(self) -> np.ndarray:
        return self.response / self.l_out

    def metrics(self) -> dict[str, float]:
        ok = self.served
        out: dict[str, float] = {"served": float(ok.mean())}
        for name in ("per_token", "ttft", "wait", "response"):
            v = getattr(self, name)[ok]
            out[f"{name}_mean"] = float(v.mean()) if v.size else math.inf
            for p in (50, 95, 99):
                out[f"{name}_p{p}"] = float(np.percentile(v, p)) if v.size else math.inf
        out["remaining_per_token_mean"] = (
            float(((self.service - self.prefill)[ok] / np.maximum(self.l_out[ok] - 1, 1)).mean())
            if ok.any()
            else math.inf
        )
        out["max_in_system"] = float(self.in_system_seen.max() + 1) if self.arrive.size else 0.0
        if self.client_blocks is not None and self.swarm_blocks is not None:
            for name, v in (("client", self.client_blocks), ("swarm", self.swarm_blocks)):
                out[f"{name}_blocks_mean"] = float(v[ok].mean()) if ok.any() else math.inf
        return out


def t_quantile(n: int) -> float:
    """Two-sided 95 % Student t quantile with n - 1 degrees of freedom."""
    if n < 2:
        return math.inf
    from scipy.stats import t

    return float(t.ppf(0.975, n - 1))


def summarise(runs: Sequence[SimRun]) -> dict[str, dict[str, float]]:
    """Per policy: each metric's mean over seeds and its 95 % CI half-width
    (``<metric>_ci``); ``seeds`` = number of runs."""
    by: dict[str, list[dict[str, float]]] = {}
    for r in runs:
        by.setdefault(r.policy, []).append(r.metrics())
    out: dict[str, dict[str, float]] = {}
    for pol, rows in by.items():
        row: dict[str, float] = {"seeds": float(len(rows))}
        for key in rows[0]:
            v = np.array([x[key] for x in rows], dtype=float)
            row[key] = float(v.mean())
            if len(v) > 1 and np.all(np.isfinite(v)):
                row[f"{key}_ci"] = float(t_quantile(len(v)) * v.std(ddof=1) / math.sqrt(len(v)))
            else:
                row[f"{key}_ci"] = math.nan
        out[pol] = row
    return out


@dataclass(frozen=True, eq=False)
class TraceWorkload(Workload):
    """Replay of a request trace: run ``seed`` replays rows ``start + w N .. start +
    (w + 1) N - 1`` with w = seed mod (the number of whole windows of N =
    ``num_requests`` rows after ``start``), arrivals re-based to 0 and multiplied by
    ``time_scale``; each request's class is its (client 0, prompt, output) tokens.
    ``rate_per_s`` is the replayed mean rate (used by the design-R rule)."""

    times_s: np.ndarray = field(default_factory=lambda: np.zeros(1))
    row_class: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    start: int = 0
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.times_s.shape != self.row_class.shape:
            raise DataError("trace", "times and classes differ in length")
        if self.start < 0 or self.start + self.num_requests > self.times_s.shape[0]:
            raise DataError(
                "num_requests",
                f"the trace has {self.times_s.shape[0]:,} rows; rows {self.start:,} + "
                f"{self.num_requests:,} requests do not fit",
            )

    @classmethod
    def from_trace(
        cls,
        times_s: np.ndarray,
        context_tokens: np.ndarray,
        generated_tokens: np.ndarray,
        num_requests: int,
        *,
        rate_per_s: float | None = None,
        start: int = 0,
        max_tokens: int | None = 2048,
        client: int = 0,
    ) -> TraceWorkload:
        """A replay of ``num_requests`` trace rows per run, time-scaled to ``rate_per_s``
        (default: the trace's own mean rate). Ours: a prompt is cut to its last
        ``max_tokens - l_out`` tokens (output to ``max_tokens - 1``) so that it fits the
        model's context (2048 tokens: BLOOM's, as the authors' scripts); None keeps all."""
        t = np.asarray(times_s, dtype=np.float64)
        l_out = np.asarray(generated_tokens, dtype=np.int64)
        l_in = np.asarray(context_tokens, dtype=np.int64)
        if max_tokens is not None:
            l_out = np.minimum(l_out, max_tokens - 1)
            l_in = np.minimum(l_in, max_tokens - l_out)
        l_in = np.maximum(l_in, 1)
        l_out = np.maximum(l_out, 1)
        pairs, row_class = np.unique(np.c_[l_in, l_out], axis=0, return_inverse=True)
        span = float(t[-1] - t[0]) if t.size > 1 else 0.0
        own = (t.size - 1) / span if span > 0 else 1.0
        target = own if rate_per_s is None else float(rate_per_s)
        classes = tuple(Job(client, int(a), int(b)) for a, b in pairs)
        return cls(
            target,
            int(num_requests),
            classes,
            times_s=t - t[0],
            row_class=row_class.reshape(-1).astype(np.int64),
            start=int(start),
            time_scale=own / target,
        )

    __hash__ = object.__hash__  # by identity: two replays differ by their arrays

    def __eq__(self, other: object) -> bool:
        return self is other

    def sample(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(arrival times in s, class index per request) of run ``seed``'s window."""
        N = self.num_requests
        windows = (self.times_s.shape[0] - self.start) // N
        lo = self.start + (int(seed) % windows) * N
        rows = np.arange(lo, lo + N)
        arrive = (self.times_s[rows] - self.times_s[lo]) * self.time_scale
        return arrive, self.row_class[rows].copy()


__all__ = ["SimRun", "TraceWorkload", "Workload", "summarise", "t_quantile"]
