"""Tables III/VI under each simulation semantics, beside the paper's numbers.

Every cell of the BPRR tables (clustered with the CPU-only client, AboveNet, BellCanada,
TataNld for GTS-CE; 0.1 and 0.5 req/s; l_out 64 and 128; 100 requests, the scattered
draws of runs 0..R-1 as the tables) for PETALS and CG-BP + WS-RR under:

* ``splitopt`` — the default model;
* ``authors-delays`` — the deprecated ``--authors-delays`` (250 s / 60 s and WS-RR's retry
  rounding on top of the default), as the committed BPRR tables' "authors" rows;
* ``authors`` — the authors' MATLAB semantics (``--semantics authors``), the paper
  presets' inputs;
* ``authors+scripts`` — the same with the sweep scripts' memories (86.13 / 9.1 GB,
  ``--inputs paper-scripts``).

    python -m splitopt.experiments.bprr_semantics   # -> paper/generated/bprr_semantics.{csv,md}
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

VARIANTS = ("splitopt", "authors-delays", "authors", "authors+scripts")
POLICIES = ("petals+petals", "cg-bp+ws-rr")


def run(runs: int, requests: int) -> list[dict]:
    from splitopt.experiments.online import L_OUTS, NUM_SERVERS, RATES, SCENARIOS, _cluster
    from splitopt.experiments.sim_inputs import with_script_memories
    from splitopt.placement.online import run_policy
    from splitopt.placement.simulate import Workload

    rows = []
    for scenario in SCENARIOS:
        for rate in RATES:
            for l_out in L_OUTS:
                for variant in VARIANTS:
                    for policy in POLICIES:
                        for r in range(runs):
                            cluster = _cluster(scenario, r, l_out, NUM_SERVERS)
                            if variant == "authors+scripts":
                                cluster = with_script_memories(cluster)
                            wl = Workload.from_cluster(cluster, rate, requests)
                            sem = "authors" if variant.startswith("authors+") else variant
                            if sem == "authors-delays":
                                sim = run_policy(cluster, wl, policy, r, authors_delays=True)
                            else:
                                sim = run_policy(cluster, wl, policy, r, semantics=sem)
                            m = sim.metrics()
                            rows.append(
                                {
                                    "scenario": scenario,
                                    "rate": rate,
                                    "l_out": l_out,
                                    "variant": variant,
                                    "policy": policy,
                                    "run": r,
                                    "per_token_mean": m["per_token_mean"],
                                    "served": m["served"],
                                }
                            )
    return rows


def table(rows: list[dict], runs: int, requests: int, command: str) -> str:
    from splitopt.experiments.online import PAPER

    out = [
        "# BPRR Tables III/VI under each simulation semantics",
        "",
        f"Made by `{command}`: {runs} runs of {requests} requests per cell; mean per-token "
        "time (s) PETALS / CG-BP + WS-RR and CG-BP's reduction. Every cell run is shown; the "
        "paper reports three of them.",
        "",
        "| scenario | λ | l_out | paper | " + " | ".join(VARIANTS) + " |",
        "|---|---|---|---|" + "---|" * len(VARIANTS),
    ]
    keys = sorted({(r["scenario"], r["rate"], r["l_out"]) for r in rows})
    for k in keys:
        cells = []
        for v in VARIANTS:
            means = []
            for p in POLICIES:
                sel = [r["per_token_mean"] for r in rows if (*k, v, p) == _key(r)]
                means.append(float(np.mean(sel)))
            red = 100 * (means[1] / means[0] - 1)
            cells.append(f"{means[0]:.2f} / {means[1]:.2f} ({red:+.0f} %)")
        paper = PAPER.get(k)
        ptxt = (
            f"{paper[0]} / {paper[1]} ({100 * (paper[1] / paper[0] - 1):+.0f} %)" if paper else ""
        )
        out.append(f"| {k[0]} | {k[1]:g} | {k[2]} | {ptxt} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def _key(r: dict) -> tuple:
    return (r["scenario"], r["rate"], r["l_out"], r["variant"], r["policy"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m splitopt.experiments.bprr_semantics")
    from splitopt.experiments.online import TABLE_RUNS

    ap.add_argument(
        "--runs", type=int, default=TABLE_RUNS[0], help="runs per cell (Tables III/VI's)"
    )
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--out", type=Path, default=Path("paper/generated"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = run(args.runs, args.requests)
    with open(args.out / "bprr_semantics.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    cmd = "python -m splitopt.experiments.bprr_semantics"
    if (args.runs, args.requests) != (TABLE_RUNS[0], 100):
        cmd += f" --runs {args.runs} --requests {args.requests}"
    (args.out / "bprr_semantics.md").write_text(table(rows, args.runs, args.requests, cmd))
    print(f"{len(rows)} runs in {time.perf_counter() - t0:.0f} s -> {args.out}/bprr_semantics.*")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
