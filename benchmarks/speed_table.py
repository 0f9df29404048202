"""Speed comparison of the exact solvers (issue 4; a benchmark, not a test).

Usage::

    .venv/bin/python benchmarks/speed_table.py [--requests 10] [--layers 12,24,48,80]
        [--families random-chain,random-chain+mem,llm-edge] [--llm-size tiny]
        [--modes ticked[,real]] [--time-limit 10]

Median wall-clock milliseconds per request (each request solved alone, one
thread) of ``dp`` (grid 1000), ``dp-exact`` and every available ILP backend in
ticked mode (same grid as dp: the same integer problem) and real mode (the
problem dp-exact solves), and each as a ratio to dp. ``equal`` says whether
every ILP reached its reference objective (dp for ticked, dp-exact for real)
on every request.
"""

from __future__ import annotations

import argparse
import sys
import time

from splitopt.experiments.speed import SOLVERS, speed_rows, summarise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--families", default="random-chain,random-chain+mem,llm-edge")
    ap.add_argument("--layers", default="12,24,48,80")
    ap.add_argument("--requests", type=int, default=10)
    ap.add_argument("--llm-size", default="tiny")
    ap.add_argument("--modes", default="ticked")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per request")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = speed_rows(
        a.families.split(","),
        [int(x) for x in a.layers.split(",")],
        a.requests,
        a.seed,
        SOLVERS,
        llm_size=a.llm_size,
        modes=a.modes.split(","),
        time_limit=a.time_limit,
    )
    table = summarise(rows)
    cols = [c for c in table[0] if "/" in c and "÷" not in c]
    ilps = [c for c in cols if c.startswith("ilp")]
    print(
        f"<!-- benchmarks/speed_table.py --families {a.families} --layers {a.layers} "
        f"--requests {a.requests} --llm-size {a.llm_size} --modes {a.modes} --seed {a.seed} "
        f"--time-limit {a.time_limit:g}; "
        f"{time.perf_counter() - t0:.0f} s -->\n"
    )
    print("Median ms per request; in brackets, the ratio to `dp` (grid 1000).\n")
    print(
        "| family | L | requests | "
        + " | ".join(cols)
        + " | fastest ILP ÷ dp | equal | time-limited |"
    )
    print("|---|---:|---:|" + "---:|" * len(cols) + "---:|---|---:|")
    for r in table:
        cells = []
        for c in cols:
            v, ratio = r.get(c), r.get(f"{c} ÷ dp")
            cells.append("–" if v is None else f"{v:.3g} ({ratio:.3g}×)" if ratio else f"{v:.3g}")
        fastest = min((r[f"{c} ÷ dp"] for c in ilps if r.get(f"{c} ÷ dp")), default=None)
        fast = "–" if fastest is None else f"{fastest:,.3g}×"
        eq = "yes" if r["all_equal"] else "NO"
        print(
            f"| {r['family']} | {r['layers']} | {r['requests']} | "
            + " | ".join(cells)
            + f" | {fast} | {eq} | {r['time_limited']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
