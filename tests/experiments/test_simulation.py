"""Server queueing simulation: M/M/1 and Pollaczek–Khinchine sanity, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.experiments import simulation as sim


def _exponential_classes(mu: float, k: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """k equiprobable classes at the exponential's quantiles: service ≈ Exp(mu)."""
    q = (np.arange(k) + 0.5) / k
    return -np.log1p(-q) / mu, np.full(k, 1.0 / k)


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_mm1_mean_wait_matches_closed_form(rho: float) -> None:
    mu = 2.0  # services per second
    s, p = _exponential_classes(mu)
    lam = rho * mu
    r = sim.simulate(s, p, lam, customers=400_000, seed=1)
    expected = sim.mm1_mean_wait(lam, mu)  # rho / (mu - lambda)
    assert r.utilisation == pytest.approx(rho, rel=1e-3)
    assert r.mean_wait_s == pytest.approx(expected, rel=0.08)
    # M/M/1 waiting-time quantile: P(W > t) = rho exp(-(mu - lam) t).
    assert r.p95_wait_s == pytest.approx(np.log(rho / 0.05) / (mu - lam), rel=0.08)


def test_mg1_deterministic_mixture_matches_pollaczek_khinchine() -> None:
    s, p = np.array([0.1, 1.0]), np.array([0.7, 0.3])
    lam = 0.7 / float(p @ s)
    r = sim.simulate(s, p, lam, customers=400_000, seed=3)
    assert r.mean_wait_s == pytest.approx(sim.mg1_mean_wait(lam, s, p), rel=0.08)


def test_vectorised_lindley_equals_event_by_event() -> None:
    s, p = np.array([0.3, 0.05, 1.2]), np.array([0.5, 0.3, 0.2])
    a = sim.simulate(s, p, 1.1, customers=5_000, seed=7)
    b = sim.simulate_events(s, p, 1.1, customers=5_000, seed=7)
    assert a.mean_wait_s == pytest.approx(b.mean_wait_s, rel=1e-9)
    assert a.p95_wait_s == pytest.approx(b.p95_wait_s, rel=1e-9)


def test_same_seed_same_numbers_other_seed_differs() -> None:
    s, p = np.array([0.2, 0.6]), np.array([0.5, 0.5])
    a = sim.simulate(s, p, 2.0, customers=20_000, seed=5)
    b = sim.simulate(s, p, 2.0, customers=20_000, seed=5)
    c = sim.simulate(s, p, 2.0, customers=20_000, seed=6)
    assert a == b
    assert a != c


def test_sustainable_rate_is_below_saturation_and_meets_threshold() -> None:
    s, p = np.array([0.2, 0.6]), np.array([0.5, 0.5])
    theta = 2.0
    rate, bound = sim.sustainable_rate(s, p, theta, customers=50_000, seed=0)
    assert bound == pytest.approx(1 / 0.4)
    assert 0 < rate < bound
    assert sim.simulate(s, p, rate, 50_000, 0).p95_wait_s <= theta
    assert sim.simulate(s, p, rate * 1.01, 50_000, 0).p95_wait_s > theta
    # Half the work per request: the sustainable rate doubles (common random numbers).
    rate2, _ = sim.sustainable_rate(s / 2, p, theta / 2, customers=50_000, seed=0)
    assert rate2 == pytest.approx(2 * rate, rel=2e-3)
