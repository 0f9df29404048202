"""Scale benchmark: a 100,000-request ``llm-edge`` scenario compiled and solved with ``dp``.

The scenario has ``--classes`` request classes (default 500) of ``100000 / classes``
identical requests each, on 32-block models (Llama-3-8B, Mistral-7B, Llama-2-7B
in int4/int8/bf16) and the llm-edge clients with memory budgets. Identical
requests share one chain, so the grid DP (grid 1000) runs once per class.

Usage::

    .venv/bin/python benchmarks/scale_100k.py [--requests 100000] [--classes 500] [--grid 1000]

Prints the wall time of building the instance (drawing the scenario, costing
each class once, calibrating the SLAs and assembling the problem:
:func:`splitopt.families.scenario_family.build`) and of solving it (``dp``,
evaluation of every request included).
"""

from __future__ import annotations

import argparse
import time

from splitopt.families.llm_edge import FAMILY
from splitopt.solvers import get_solver

MODELS_32_BLOCKS = ("llama-3-8b", "mistral-7b", "llama-2-7b")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--classes", type=int, default=500)
    ap.add_argument("--grid", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    per_class = args.requests // args.classes
    t0 = time.perf_counter()
    family = FAMILY.only_architectures(MODELS_32_BLOCKS).replace(
        classes=args.classes, count=per_class
    )
    problem = family.generate(args.seed, "large")
    t1 = time.perf_counter()
    result = get_solver("dp", grid=args.grid).solve(problem)
    t2 = time.perf_counter()
    L = {c.num_layers for c in problem.chains}
    print(
        f"scenario: {len(problem):,} requests, {args.classes} classes, "
        f"{len(problem.chains)} distinct chains, L = {sorted(L)} layers, grid {args.grid}"
    )
    print(f"build (draw, cost, calibrate SLAs): {t1 - t0:7.2f} s")
    loop = f"(solver loop {result.runtime_s:.2f} s)"
    print(f"solve dp (incl. evaluation):        {t2 - t1:7.2f} s  {loop}")
    print(f"build + solve:                      {t2 - t0:7.2f} s")
    print(
        f"status {result.status}; infeasible {result.num_infeasible:,}; "
        f"objective {result.objective:.4g} {problem.work_unit}"
    )


if __name__ == "__main__":
    main()
