"""Discrete-event simulation of one server fed by split requests (an M/G/1 queue).

Model:
- Requests arrive as a Poisson process of rate λ (requests per second).
- Each arrival belongs to a request class k with probability p_k (the classes
  are the requests of an instance, p_k ∝ their weight ω).
- A class-k request needs S_k = W_k / C seconds of server time, where W_k is
  the server work of its placement (in the instance's work unit) and C the
  server capacity (work units per second). Deterministic per class, so the
  service-time distribution is the class mixture (the "G" of M/G/1).
- One server, first come first served, no batching, infinite queue.

The waiting time (arrival to start of service) of customer n obeys Lindley's
recursion W_{n+1} = max(0, W_n + S_n − A_{n+1}) with A the inter-arrival time:
this *is* the event-by-event evolution of a FIFO single-server queue.
:func:`simulate` evaluates it in closed form (W_n = R_n − min_{k≤n} R_k for the
random walk R of S − A); :func:`simulate_events` steps through the events one by
one and is kept as the reference the tests compare against.

Seeding and common random numbers: for a seed, the unit-rate exponentials and
class draws are fixed, and inter-arrival times are those exponentials divided
by λ. So every rate and every splitter sees the same arrival pattern, and
waiting times grow monotonically with λ, which makes the sustainable rate
below well defined (bisection).

Sustainable arrival rate (stated definition): the highest λ such that the
utilisation ρ = λ E[S] is below 1 **and** the 95th percentile of the waiting
time is at most a threshold θ seconds. The experiments use θ = 10 × the mean
server-only service time, the same θ for every splitter, so the figure does
not depend on the arbitrary capacity C. The utilisation bound alone gives
λ_max = 1 / E[S] = C / E[W] (the "throughput" of :func:`splitopt.metrics.throughput`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

#: Fraction of customers discarded as warm-up before the statistics are taken.
WARMUP: float = 0.1
#: Default waiting-time threshold, in mean server-only service times.
WAIT_FACTOR: float = 10.0
#: Default server capacity for work in FLOP: 1e14 FLOP/s (an A100's 312 TFLOP/s
#: dense BF16 peak at about 32 % utilisation). For work in server seconds: 1.
DEFAULT_CAPACITY: dict[str, float] = {"FLOP": 1.0e14, "s": 1.0}


@dataclass(frozen=True)
class SimResult:
    """Statistics of one simulated run (times in seconds, rate in requests/s).

    Attributes:
        rate: arrival rate λ (requests per second).
        customers: customers counted (after warm-up).
        mean_service_s: mean service time E[S] of the class mixture (exact, not sampled).
        utilisation: ρ = λ E[S]; the queue is stable only for ρ < 1.
        mean_wait_s: sample mean waiting time in queue.
        p95_wait_s: sample 95th percentile of the waiting time.
        mean_sojourn_s: sample mean of waiting + service time.
    """

    rate: float
    customers: int
    mean_service_s: float
    utilisation: float
    mean_wait_s: float
    p95_wait_s: float
    mean_sojourn_s: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _draws(probs: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit-rate exponential inter-arrival draws and class indices (seeded)."""
    rng = np.random.default_rng(seed)
    unit = rng.standard_exponential(n)
    cls = rng.choice(len(probs), size=n, p=probs)
    return unit, cls


def _check(service_s: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(service_s, dtype=float)
    p = np.asarray(probs, dtype=float)
    if s.ndim != 1 or s.shape != p.shape or s.size == 0:
        raise ValueError("service times and probabilities must be equal-length, non-empty 1-D")
    if (s < 0).any() or not np.isfinite(s).all():
        raise ValueError("service times must be finite and >= 0")
    if (p < 0).any() or p.sum() <= 0:
        raise ValueError("class probabilities must be >= 0 with a positive sum")
    return s, p / p.sum()


def waits(
    service_s: np.ndarray, probs: np.ndarray, rate: float, customers: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Waiting times and service times of ``customers`` arrivals (warm-up included)."""
    s, p = _check(service_s, probs)
    if not rate > 0:
        raise ValueError(f"arrival rate must be > 0, got {rate}")
    unit, cls = _draws(p, customers, seed)
    serv = s[cls]
    inter = unit / rate
    # Lindley: W_0 = 0, W_n = max(0, W_{n-1} + S_{n-1} - A_n)  =  R_n - min_{k<=n} R_k.
    steps = serv[:-1] - inter[1:]
    r = np.concatenate(([0.0], np.cumsum(steps)))
    w = r - np.minimum.accumulate(r)
    return w, serv


def _stats(w: np.ndarray, serv: np.ndarray, s: np.ndarray, p: np.ndarray, rate: float) -> SimResult:
    k = int(len(w) * WARMUP)
    w, serv = w[k:], serv[k:]
    es = float(np.dot(p, s))
    return SimResult(
        rate=float(rate),
        customers=len(w),
        mean_service_s=es,
        utilisation=float(rate * es),
        mean_wait_s=float(w.mean()),
        p95_wait_s=float(np.quantile(w, 0.95)),
        mean_sojourn_s=float((w + serv).mean()),
    )


def simulate(
    service_s: np.ndarray, probs: np.ndarray, rate: float, customers: int = 200_000, seed: int = 0
) -> SimResult:
    """Simulate the FIFO server at arrival rate ``rate`` (requests/s).

    Args:
        service_s: service time of each class, seconds.
        probs: class probabilities (normalised here).
        rate: Poisson arrival rate λ, requests per second.
        customers: arrivals simulated (the first :data:`WARMUP` fraction is discarded).
        seed: seed of the arrival and class draws.
    """
    s, p = _check(service_s, probs)
    w, serv = waits(s, p, rate, customers, seed)
    return _stats(w, serv, s, p, rate)


def simulate_events(
    service_s: np.ndarray, probs: np.ndarray, rate: float, customers: int = 10_000, seed: int = 0
) -> SimResult:
    """The same simulation as :func:`simulate`, stepping through arrival and
    departure events one at a time (slow; the reference implementation)."""
    s, p = _check(service_s, probs)
    unit, cls = _draws(p, customers, seed)
    t = 0.0
    server_free_at = 0.0
    w = np.empty(customers)
    serv = s[cls]
    for n in range(customers):
        if n > 0:
            t += unit[n] / rate  # next arrival event
        start = max(t, server_free_at)  # the server takes it when free (FIFO)
        w[n] = start - t
        server_free_at = start + serv[n]  # its departure event
    return _stats(w, serv, s, p, rate)


def sustainable_rate(
    service_s: np.ndarray,
    probs: np.ndarray,
    threshold_s: float,
    customers: int = 200_000,
    seed: int = 0,
    rtol: float = 1e-3,
) -> tuple[float, float]:
    """The highest sustainable arrival rate (requests/s), see the module docstring.

    Returns:
        ``(rate, utilisation_bound)``: the highest λ < 1/E[S] whose p95 wait is at
        most ``threshold_s`` (bisection to relative tolerance ``rtol`` with common
        random numbers), and 1/E[S] itself.
    """
    s, p = _check(service_s, probs)
    es = float(np.dot(p, s))
    if es <= 0:
        return math.inf, math.inf
    hi = 1.0 / es
    lo = 0.0

    def ok(rate: float) -> bool:
        w, _ = waits(s, p, rate, customers, seed)
        return float(np.quantile(w[int(len(w) * WARMUP) :], 0.95)) <= threshold_s

    if ok(hi * (1 - rtol)):
        return hi * (1 - rtol), hi
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo, 1.0 / es


def mm1_mean_wait(rate: float, service_rate: float) -> float:
    """Closed-form mean waiting time in queue of an M/M/1 queue: ρ / (μ − λ), seconds."""
    rho = rate / service_rate
    if rho >= 1:
        return math.inf
    return rho / (service_rate - rate)


def mg1_mean_wait(rate: float, service_s: np.ndarray, probs: np.ndarray) -> float:
    """Pollaczek–Khinchine mean wait λ E[S²] / (2 (1 − ρ)) for the class mixture, seconds."""
    s, p = _check(service_s, probs)
    es, es2 = float(np.dot(p, s)), float(np.dot(p, s * s))
    rho = rate * es
    return math.inf if rho >= 1 else rate * es2 / (2 * (1 - rho))
