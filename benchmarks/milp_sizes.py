"""Which BPRR MILP sizes solve to optimality within a time limit (issue 10, item 7).

For each size (servers x blocks x jobs) a few random clusters drawn as the
verification's (:func:`splitopt.families.clusters.sized_cluster`, seeds
``numpy.random.default_rng([seed, S, L, R, k])``) are solved by ``bprr-milp`` on the
given backend with the time limit; prints status and wall time per cluster.

    PYTHONPATH=. python benchmarks/milp_sizes.py --backend highs --time-limit 60
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from splitopt.families.clusters import sized_cluster
from splitopt.placement.milp import BPRRMilp, build_model

SIZES = ((4, 5, 3), (5, 8, 3), (6, 10, 4), (8, 12, 4), (10, 16, 5), (12, 20, 6))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--backend", default="highs")
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    print(f"backend {a.backend}, time limit {a.time_limit} s, load {os.getloadavg()[0]:.1f}")
    print("S  L  R  k  vars  rows  status       objective   wall_s")
    for S, L, R in SIZES:
        for k in range(a.reps):
            c = sized_cluster(np.random.default_rng([a.seed, S, L, R, k]), S, L, R)
            m = build_model(c)
            t = time.perf_counter()
            res = BPRRMilp(backend=a.backend, time_limit=a.time_limit).solve(c)
            wall = time.perf_counter() - t
            print(
                f"{S:<2} {L:<2} {R:<2} {k:<2} {m.num_vars:<5} {len(m.rows):<5} "
                f"{res.status:<12} {res.objective:<11.6g} {wall:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
