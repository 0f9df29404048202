"""The BPRR comparison on real traffic: the Azure LLM inference trace 2023 (conversation
and code services; ``instances/traces/``, CC BY 4.0, Patel et al., "Splitwise", ISCA
2024) beside Poisson arrivals, on the paper's clustered scenario and AboveNet.

Workloads per (cluster, rate), each of ``--requests`` requests per run, ``--seeds`` runs:

* ``poisson-paper`` — Poisson arrivals, the cluster's own request class (l_in = 20,
  l_out = 128 / 64: the paper's);
* ``poisson-<service>-lengths`` — Poisson arrivals, prompt/output tokens drawn from the
  trace's rows (uniformly over the rows replayed: its empirical distribution);
* ``trace-<service>`` — the trace itself: its arrival times, time-scaled to the rate,
  and its token counts; run s replays rows s N .. (s + 1) N - 1.

Prompts are cut so that prompt + output <= 2048 tokens (BLOOM's context; ours). Per-token
time = (wait + T_r) / l_out as elsewhere. Ours throughout (the paper has no trace study).

    python -m splitopt.experiments.bprr_traces     # writes paper/generated/bprr_traces.{csv,md}
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import numpy as np

from splitopt.formats.cluster_file import read_cluster
from splitopt.formats.trace_file import read_trace
from splitopt.placement.online import run_policy
from splitopt.placement.simulate import TraceWorkload, Workload

TRACES = {
    "conv": "instances/traces/AzureLLMInferenceTrace_conv.csv",
    "code": "instances/traces/AzureLLMInferenceTrace_code.csv",
}
CLUSTERS = {
    "clustered": "instances/clusters/scenarios/paper-clustered-site0.json",
    "abvt": "instances/clusters/scenarios/scattered-abvt.json",
}
POLICIES = ("petals+petals", "petals+ws-rr", "cg-bp+ws-rr", "gbp-cr+jffc")
RATES = (0.1, 0.3)
MAX_TOKENS = 2048


def workloads(cluster, rate: float, n: int, seeds: int) -> dict[str, Workload]:
    out: dict[str, Workload] = {"poisson-paper": Workload.from_cluster(cluster, rate, n)}
    client = cluster.jobs[0].client
    for svc, path in TRACES.items():
        tr = read_trace(path)
        rows = slice(0, n * seeds)
        tw = TraceWorkload.from_trace(
            tr.times_s[rows],
            tr.context_tokens[rows],
            tr.generated_tokens[rows],
            n,
            rate_per_s=rate,
            max_tokens=MAX_TOKENS,
            client=client,
        )
        out[f"trace-{svc}"] = tw
        rows_jobs = tuple(tw.classes[k] for k in tw.row_class)  # one class per row
        out[f"poisson-{svc}-lengths"] = Workload(rate, n, rows_jobs)
    return out


FIELDS = (
    "cluster",
    "rate",
    "workload",
    "policy",
    "seed",
    "served",
    "per_token_mean",
    "ttft_mean",
    "wait_mean",
    "l_out_mean",
)


def run(n: int, seeds: int) -> list[dict]:
    rows: list[dict] = []
    for cname, cpath in CLUSTERS.items():
        cluster = read_cluster(cpath)
        for rate in RATES:
            for wname, wl in workloads(cluster, rate, n, seeds).items():
                for policy in POLICIES:
                    for s in range(seeds):
                        r = run_policy(cluster, wl, policy, s)
                        m = r.metrics()
                        rows.append(
                            {
                                "cluster": cname,
                                "rate": rate,
                                "workload": wname,
                                "policy": policy,
                                "seed": s,
                                "served": m["served"],
                                "per_token_mean": m["per_token_mean"],
                                "ttft_mean": m["ttft_mean"],
                                "wait_mean": m["wait_mean"],
                                "l_out_mean": float(np.mean(r.l_out)),
                            }
                        )
    return rows


def table(rows: list[dict], n: int, seeds: int, command: str) -> str:
    """Markdown: mean per-token time (s) over seeds per cell, every cell."""
    keys = sorted({(r["cluster"], r["rate"], r["workload"]) for r in rows})
    out = [
        "# BPRR policies on real traffic (Azure LLM inference trace 2023) beside Poisson",
        "",
        f"Made by `{command}`: {n} requests per run, {seeds} runs (trace windows / Poisson "
        "seeds) per cell; mean per-token time in s (mean over runs; served share where "
        "below 100 %). Trace: Azure LLM inference trace 2023 (CC BY 4.0; Patel et al., "
        '"Splitwise", ISCA 2024), time-scaled to the rate; prompts cut to fit 2,048 '
        "tokens. Every cell run is shown.",
        "",
        "| cluster | rate | workload | mean l_out | " + " | ".join(POLICIES) + " | best |",
        "|---|---|---|---|" + "---|" * (len(POLICIES) + 1),
    ]
    for k in keys:
        cells = []
        means = {}
        lout = 0.0
        for p in POLICIES:
            sel = [
                r
                for r in rows
                if (r["cluster"], r["rate"], r["workload"]) == k and r["policy"] == p
            ]
            v = float(np.mean([r["per_token_mean"] for r in sel]))
            srv = float(np.mean([r["served"] for r in sel]))
            lout = float(np.mean([r["l_out_mean"] for r in sel]))
            means[p] = v if math.isfinite(v) else math.inf
            cells.append(f"{v:.3f}" + (f" ({100 * srv:.0f} % served)" if srv < 1 else ""))
        best = min(means, key=means.get)  # type: ignore[arg-type]
        out.append(
            f"| {k[0]} | {k[1]:g} | {k[2]} | {lout:.0f} | " + " | ".join(cells) + f" | {best} |"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m splitopt.experiments.bprr_traces")
    from splitopt.experiments.online import TABLE_RUNS

    ap.add_argument("--requests", type=int, default=300)
    # the BPRR tables' one size: 10 runs (trace windows / Poisson seeds) per cell
    ap.add_argument("--seeds", type=int, default=TABLE_RUNS[0])
    ap.add_argument("--out", type=Path, default=Path("paper/generated"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = run(args.requests, args.seeds)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "bprr_traces.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, FIELDS)
        w.writeheader()
        w.writerows(rows)
    cmd = "python -m splitopt.experiments.bprr_traces"
    if (args.requests, args.seeds) != (300, TABLE_RUNS[0]):
        cmd += f" --requests {args.requests} --seeds {args.seeds}"
    (args.out / "bprr_traces.md").write_text(table(rows, args.requests, args.seeds, cmd))
    print(f"{len(rows)} runs in {time.perf_counter() - t0:.0f} s -> {args.out}/bprr_traces.*")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
