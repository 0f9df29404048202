"""``random-chain``: synthetic chains for verification (integer-valued option).

Each request draws L layers, times, transfers, work and memory from a seeded
generator; its SLA is a random multiple (0.8 to 2.0) of the least achievable
latency, so some requests are infeasible; half carry a memory budget; start and
end are drawn per request; zero costs and ties are common in integer mode.
"""

from __future__ import annotations

import numpy as np

from splitopt.evaluate import min_latency
from splitopt.problem import Chain, Problem, Request

__all__ = ["SIZES", "generate", "min_latency", "random_chain"]

#: size -> (number of requests, least L, largest L)
SIZES: dict[str, tuple[int, int, int]] = {
    "tiny": (5, 1, 8),
    "small": (20, 4, 16),
    "medium": (50, 12, 40),
    "large": (200, 32, 80),
}


def random_chain(
    rng: np.random.Generator,
    num_layers: int,
    *,
    integer: bool = False,
    memory: bool | None = None,
    zero_prob: float = 0.1,
) -> Chain:
    """One random chain. ``memory=None`` draws whether it has a budget."""
    L = num_layers

    def draw(n: int, hi: float) -> np.ndarray:
        x = rng.integers(0, int(hi) + 1, n).astype(float) if integer else rng.random(n) * hi
        x[rng.random(n) < zero_prob] = 0.0
        return x

    client = draw(L, 9)
    server = draw(L, 3)
    work = draw(L, 20)
    up = draw(L + 1, 6)
    down = draw(L + 1, 4)
    mem = draw(L, 5)
    has_budget = bool(rng.random() < 0.5) if memory is None else memory
    start = "client" if rng.random() < 0.75 else "server"
    end = "client" if rng.random() < 0.75 else "server"
    probe = Chain(client, server, work, up, down, mem, 1.0, None, start, end)
    sla = max(min_latency(probe), 0.5) * rng.uniform(0.8, 2.0)
    budget = None
    if has_budget:
        budget = float(rng.uniform(0, 1) * mem.sum())
    if integer:
        sla = float(max(1, round(sla)))
        budget = None if budget is None else float(np.floor(budget))
    return probe.replace(sla_s=sla, memory_budget_bytes=budget)


def generate(seed: int, size: str = "small", integer: bool = False) -> Problem:
    """A seeded ``random-chain`` instance."""
    n, lo, hi = SIZES[size]
    rng = np.random.default_rng(seed)
    reqs = []
    for i in range(n):
        L = int(rng.integers(lo, hi + 1))
        reqs.append(Request(id=f"r{i}", chain=random_chain(rng, L, integer=integer)))
    kind = "int" if integer else "real"
    return Problem(
        name=f"random-chain-{size}-{kind}-s{seed}", requests=tuple(reqs), work_unit="FLOP"
    )
