"""How far past ``--time-limit`` each solver goes on adversarial chains (issue 9; a
benchmark, not a test).

Usage::

    python benchmarks/time_limits.py [--limit 2] [--solvers dp,dp-exact,...]
        [--cases near-identical-80,long-2000,long-5000] [--csv FILE]

Each (case, solver) runs in its own subprocess (fresh memory, killed after
``10 × limit + 60`` s) and reports ``wall_s`` (the whole ``Solver.solve`` call,
JIT warm-up excluded as in ``runtime_s``), ``overshoot`` = wall_s / limit, the
child's peak resident memory (``max_rss_mb``, interpreter and libraries included),
the request's status and its message (``refused``: the documented refusal, exit 2
in the CLI). Cases:

* ``near-identical-L``: L layers whose times, work and memory differ by < 1e-6,
  with a binding memory budget (the label DP's fronts explode; issue 9: ``dp-exact``
  ran past 150 s with a 10 s limit at L = 80);
* ``long-L``: a ``random-chain`` chain of L layers without a budget, SLA 3x the least
  latency (issue 9: ``greedy-ratio`` took 24 s with a 2 s limit at L = 2,000;
  ``dp-exact`` used 24 GB at L = 5,000; try ``--cases long-100000``).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
import numpy as np
from splitopt.problem import Chain, Problem, Request
from splitopt.families.random_chain import random_chain
from splitopt.solvers import get_solver

case, solver, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
kind, L = case.rsplit("-", 1)
L = int(L)
if kind == "near-identical":
    rng = np.random.default_rng(0)
    eps = 1e-6 * rng.random(L)
    chain = Chain(1.0 + eps, np.full(L, 0.1), 1.0 + eps[::-1], np.full(L + 1, 0.01),
                  np.full(L + 1, 0.01), 1.0 + eps, 0.5 * L, 0.4 * L)
else:
    chain = random_chain(np.random.default_rng(1), L, memory=False)
    chain = chain.replace(sla_s=chain.sla_s * 3)
p = Problem(name=case, requests=(Request(id="r", chain=chain),), work_unit="FLOP")
from splitopt.errors import UserError
try:
    s = get_solver(solver, time_limit=limit)
    s.check(p)
except UserError as exc:  # a documented refusal (exit 2 in the CLI)
    print(json.dumps({"wall_s": 0.0, "status": "refused", "message": str(exc)}))
    raise SystemExit(0)
s.prepare()
t0 = time.perf_counter()
r = s.solve(p)
wall = time.perf_counter() - t0
import resource
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall_s": wall, "runtime_s": r.runtime_s, "status": r.statuses[0],
                  "message": (r.messages or [None])[0], "max_rss_mb": rss}))
"""

SOLVERS = "dp,dp-exact,ilp-cbc,ilp-highs,ilp-cpsat,ilp-scip,greedy,greedy-ratio,best-cut"
CASES = "near-identical-80,long-2000,long-5000"


def run_one(case: str, solver: str, limit: float) -> dict:
    hard = 10 * limit + 60
    t0 = time.perf_counter()
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, case, solver, str(limit)],
            capture_output=True,
            text=True,
            timeout=hard,
        )
    except subprocess.TimeoutExpired:
        return {"wall_s": time.perf_counter() - t0, "status": f"killed after {hard:.0f} s"}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1]
        return {"wall_s": time.perf_counter() - t0, "status": f"exit {out.returncode}: {last}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=float, default=2.0, help="--time-limit in seconds")
    ap.add_argument("--solvers", default=SOLVERS)
    ap.add_argument("--cases", default=CASES)
    ap.add_argument("--csv", default=None, help="also write the rows here")
    a = ap.parse_args(argv)
    rows = []
    print(f"{'case':20} {'solver':13} {'wall_s':>8} {'overshoot':>9} {'rss_MB':>7}  status")
    for case in a.cases.split(","):
        for solver in a.solvers.split(","):
            r = run_one(case, solver, a.limit)
            row = {"case": case, "solver": solver, "limit_s": a.limit, **r}
            row["overshoot"] = r["wall_s"] / a.limit
            rows.append(row)
            msg = r.get("message") or ""
            print(
                f"{case:20} {solver:13} {r['wall_s']:8.2f} {row['overshoot']:9.2f} "
                f"{r.get('max_rss_mb', 0):7.0f}  "
                f"{r['status']} {msg}"[:160],
                flush=True,
            )
    if a.csv:
        keys = ["case", "solver", "limit_s", "wall_s", "runtime_s", "overshoot", "max_rss_mb"]
        keys.append("status")
        keys.append("message")
        with open(a.csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
