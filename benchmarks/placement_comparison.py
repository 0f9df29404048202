"""Offline comparison of the placement heuristics (issue 10, item 6).

Two tables, every number from the one evaluator:

1. Gap to the MILP optimum on tiny random clusters (``paper_tiny_cluster(seed)``, 3 servers,
   4 blocks, 2 clients, 1-2 jobs each): per heuristic, how often it finds a feasible
   answer and the distribution of objective / optimum - 1 (sum of T_r). Needs
   ``bprr-milp`` (skipped if it is not available).
2. CG-BPRR vs PETALS on the paper's sizes (``random_cluster``: up to 150 servers, 70
   blocks, 10 clients x 2 jobs, 20 % A100) and the paper's clustered scenario: mean
   per-token time (s) and CG-BPRR's reduction against PETALS.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/placement_comparison.py [--n 200] [--seeds 10]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from splitopt.families.clusters import paper_tiny_cluster
from splitopt.placement import available, get_algorithm
from splitopt.scenario.cluster import paper_clustered, random_cluster

HEURISTICS = ("cg-bprr", "petals")


def _q(xs: list[float], q: float) -> float:
    return float(np.quantile(xs, q)) if xs else math.nan


def gap_table(n: int, seed0: int = 0) -> str:
    if not available("bprr-milp"):
        return "(bprr-milp not available: no gap table)"
    gaps: dict[str, list[float]] = {h: [] for h in HEURISTICS}
    infeasible = dict.fromkeys(HEURISTICS, 0)
    solved = 0
    statuses: dict[str, int] = {}
    t0 = time.perf_counter()
    for seed in range(seed0, seed0 + n):
        c = paper_tiny_cluster(seed)
        opt = get_algorithm("bprr-milp", time_limit=60).solve(c)
        statuses[opt.status] = statuses.get(opt.status, 0) + 1
        if opt.status != "optimal":
            continue
        solved += 1
        for h in HEURISTICS:
            res = get_algorithm(h).solve(c)
            if not res.feasible:
                infeasible[h] += 1
            else:
                gaps[h].append(res.objective / opt.objective - 1)
    rows = [
        f"paper_tiny_cluster seeds {seed0}..{seed0 + n - 1}: bprr-milp statuses {statuses} "
        f"({time.perf_counter() - t0:.0f} s); gaps over the {solved} optimal ones",
        "",
        "| algorithm | feasible | optimal (gap < 1e-9) | mean gap | median | p90 | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for h in HEURISTICS:
        g = gaps[h]
        opt_share = sum(x < 1e-9 for x in g)
        rows.append(
            f"| {h} | {len(g)}/{solved} | {opt_share} | "
            + " | ".join(
                f"{100 * v:.1f} %"
                for v in (
                    float(np.mean(g)) if g else math.nan,
                    _q(g, 0.5),
                    _q(g, 0.9),
                    max(g, default=math.nan),
                )
            )
            + " |"
        )
    return "\n".join(rows)


def paper_size_table(seeds: int) -> str:
    rows = [
        "| cluster | servers x blocks | CG-BPRR s/token | PETALS s/token | reduction "
        "(median over seeds, [min, max]) |",
        "|---|---|---|---|---|",
    ]
    c = paper_clustered(clients_per_site=(2, 2, 2), jobs_per_client=1)
    cg = get_algorithm("cg-bprr").solve(c)
    pts = [get_algorithm("petals", seed=s).solve(c) for s in range(seeds)]
    red = [1 - cg.score.mean_per_token_s / p.score.mean_per_token_s for p in pts if p.feasible]
    rows.append(
        f"| paper clustered (PETALS join orders 0..{seeds - 1}) | 9 x 70 | "
        f"{cg.score.mean_per_token_s:.3f} | "
        f"{np.median([p.score.mean_per_token_s for p in pts if p.feasible]):.3f} | "
        f"{100 * np.median(red):.0f} % [{100 * min(red):.0f}, {100 * max(red):.0f}] |"
    )
    for S in (30, 75, 150):
        cgs, pets, reds = [], [], []
        for s in range(seeds):
            c = random_cluster(s, num_servers=S, num_blocks=70)
            a = get_algorithm("cg-bprr").solve(c)
            b = get_algorithm("petals", seed=s).solve(c)
            if a.feasible and b.feasible:
                cgs.append(a.score.mean_per_token_s)
                pets.append(b.score.mean_per_token_s)
                reds.append(1 - cgs[-1] / pets[-1])
        rows.append(
            f"| random_cluster seeds 0..{seeds - 1} ({len(reds)} both feasible) | {S} x 70 | "
            f"{np.median(cgs):.3f} | {np.median(pets):.3f} | "
            f"{100 * np.median(reds):.0f} % [{100 * min(reds):.0f}, {100 * max(reds):.0f}] |"
        )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="tiny instances for the gap table")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per paper-size row")
    args = ap.parse_args()
    print(gap_table(args.n))
    print()
    print(paper_size_table(args.seeds))


if __name__ == "__main__":
    main()
