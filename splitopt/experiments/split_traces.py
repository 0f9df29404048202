"""The SplitLLM comparison on real token lengths: setting P of the protocol
(``paper-like``, no memory budget, FLOP) with the family's own token ranges
beside the prompt/output token pairs of the Azure LLM inference trace 2023
(conversation and code services; ``splitopt/data/token_lengths.json``, CC BY
4.0, Patel et al., "Splitwise", ISCA 2024).

One task per (token lengths, seed, cost model) (:func:`run_split_traces`,
registered as the experiment ``split-traces``) stores the per-class charged
works of the DP and every baseline, exactly as the confirmatory study does
(:func:`splitopt.experiments.confirmatory.class_table`); the figures (reduction
versus server-only, the DP's gain over each baseline, all requests with unserved
ones charged their server-only work) and their two-level bootstrap intervals are
computed by the confirmatory study's own functions. Ours throughout (the
SplitLLM paper has no trace study); exploratory, not part of the registration.

With trace lengths a text class takes one request of the trace (drawn with the
instance's seed) capped by its model's context (BERT 512, GPT-2 and
Transformer 1,024 tokens); the random stream differs, so the instances of a seed
are not the same instance with other lengths (unpaired).

    python -m splitopt.experiments.split_traces          # run (resumable) + tables
    python -m splitopt.experiments.split_traces --no-run # tables from the results CSV
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from splitopt.experiments.harness import Scalar, Task, experiment, register_runner

#: Token-length settings: label -> ``token_lengths`` of the family (``paper``: its ranges).
LENGTHS: dict[str, str | None] = {
    "paper": None,
    "azure-conv": "azure-conv",
    "azure-code": "azure-code",
}
#: Instance size and default seeds (disjoint from the confirmatory 1000-1599 and its
#: pilot 0-19): ours.
SIZE = "medium"
FIRST_SEED = 3000
SEEDS = 20
#: Bootstrap replicates of the tables (the bootstrap's seed is the confirmatory one).
REPLICATES = 2000
#: Figures of the table, in order (names of :func:`splitopt.experiments.confirmatory.figures`).
FIGURES: dict[str, str] = {
    "reduction": "reduction vs server-only",
    "gain_greedy": "gain over greedy",
    "gain_best-cut": "gain over best-cut",
    "gain_all-client": "gain over all-client",
}
#: Solvers whose served requests the table shows.
SERVED: tuple[str, ...] = ("dp", "greedy", "best-cut", "server-only", "all-client")
COMMAND = "python -m splitopt.experiments.split_traces"


def run_split_traces(
    seed: int, size: str, cost_model: str, lengths: str, **_: Scalar
) -> dict[str, Scalar]:
    """One (token lengths, seed, cost model): the confirmatory row (totals per
    solver and the per-class table as JSON, :func:`class_table`) plus the mean
    prompt and output tokens over the instance's text requests."""
    from splitopt.experiments.confirmatory import SOLVERS, class_table
    from splitopt.experiments.instances import setting_instance
    from splitopt.experiments.outcomes import col
    from splitopt.scenario.cost_models import figures_id

    tl = LENGTHS[lengths]
    t = class_table(seed, size, cost_model, tl)
    p = setting_instance("paper-like", seed, size, cost_model=cost_model, token_lengths=tl)
    text = [r.meta for r in p.requests if r.meta and r.meta.get("model_family") != "ViT"]
    row: dict[str, Scalar] = {
        "cost_figures": figures_id(cost_model),
        "requests": int(sum(t["requests"])),
        "classes_n": len(t["weight"]),
        "prompt_mean": float(np.mean([m["prompt_tokens"] for m in text])),
        "output_mean": float(np.mean([m["output_tokens"] for m in text])),
    }
    for s in SOLVERS:
        row[f"charged_{col(s)}"] = math.fsum(t[f"c_{s}"])
        row[f"served_{col(s)}"] = int(sum(t[f"s_{s}"]))
    row["classes"] = json.dumps(t, separators=(",", ":"))
    return row


register_runner("split-traces", "splitopt.experiments.split_traces:run_split_traces")


@experiment(
    "split-traces",
    "SplitLLM comparison (setting P, paper-like) with the family's token lengths and the "
    "Azure LLM inference trace 2023's (conversation, code), both cost models",
)
def split_traces(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """Seeds ``seed`` .. ``seed + repetitions - 1`` for each token-length setting and
    cost model (size medium; ``quick``: small)."""
    from splitopt.scenario.cost_models import COST_MODELS

    size = "small" if quick else SIZE
    for lengths in LENGTHS:
        for rep in range(repetitions):
            for model in COST_MODELS:
                yield Task.make(
                    "split-traces",
                    "split-traces",
                    lengths=lengths,
                    family="paper-like",
                    seed=seed + rep,
                    size=size,
                    repetition=rep,
                    cost_model=model,
                )


# ---------------------------------------------------------------- tables


def _macro(*parts: str) -> str:
    out = ""
    for p in parts:
        for w in p.replace("-", " ").replace("_", " ").split():
            out += w[:1].upper() + w[1:]
    return "strace" + "".join(ch for ch in out if ch.isalpha())


def summarise(
    rows: Sequence[Mapping[str, str]], replicates: int = REPLICATES
) -> list[dict[str, Scalar]]:
    """One summary row per (lengths, cost model): seeds, requests, mean tokens,
    served counts and each figure of :data:`FIGURES` with its 95 % interval."""
    from splitopt.experiments.confirmatory import estimates
    from splitopt.scenario.cost_models import COST_MODELS

    ok = [r for r in rows if not r.get("error")]
    out: list[dict[str, Scalar]] = []
    for lengths in LENGTHS:
        for m in COST_MODELS:
            sel = [r for r in ok if r["lengths"] == lengths and r["cost_model"] == m]
            if not sel:
                continue
            d, est = estimates(sel, m, replicates=replicates)
            nreq = int(sum(int(x.sum()) for x in d.requests))
            row: dict[str, Scalar] = {
                "lengths": lengths,
                "cost_model": m,
                "seeds": len(d.seeds),
                "first_seed": min(d.seeds),
                "last_seed": max(d.seeds),
                "classes": int(sum(len(x) for x in d.families)),
                "requests": nreq,
                "prompt_mean": round(float(np.mean([float(r["prompt_mean"]) for r in sel])), 1),
                "output_mean": round(float(np.mean([float(r["output_mean"]) for r in sel])), 1),
            }
            for s in SERVED:
                row[f"served_{s}"] = int(sum(int(x.sum()) for x in d.served[s]))
            for k in FIGURES:
                e = est.get(k)
                row[k] = round(e.value, 2) if e else float("nan")
                row[f"{k}_lo"] = round(e.lo, 2) if e else float("nan")
                row[f"{k}_hi"] = round(e.hi, 2) if e else float("nan")
            out.append(row)
    return out


def write_tables(summary: Sequence[Mapping[str, Any]], outdir: Path) -> list[Path]:
    """``split_traces.csv`` (the summary), ``.md`` and ``.tex`` (table and macros)."""
    from splitopt.experiments.confirmatory import _write_csv

    if not summary:
        raise ValueError("no split-traces rows without error")
    outdir.mkdir(parents=True, exist_ok=True)
    s0 = summary[0]
    head = (
        f"Made by `{COMMAND}`: SplitLLM comparison, protocol setting P (paper-like, size "
        f"{SIZE}, no memory budget, server work in FLOP), seeds {s0['first_seed']}-"
        f"{s0['last_seed']} ({s0['seeds']} per setting), token lengths of the family (paper) or "
        "of the Azure LLM inference trace 2023 (conversation, code; CC BY 4.0, Patel et al., "
        '"Splitwise", ISCA 2024), capped by each model\'s context. DP = the grid DP of the '
        "protocol. Percent, all requests (unserved ones charged their server-only work), "
        f"95 % CI from a two-level bootstrap over seeds and classes ({REPLICATES} replicates). "
        "Every cell run is shown. Exploratory (not the registered confirmatory run)."
    )
    md = [
        "# SplitLLM comparison on real token lengths (Azure LLM inference trace 2023)",
        "",
        head,
        "",
        "| token lengths | cost model | mean prompt / output tokens (text) | served DP / greedy"
        " / best-cut / server-only / all-client | " + " | ".join(FIGURES.values()) + " |",
        "|---|---|---|---|" + "---|" * len(FIGURES),
    ]
    # the table is the macro \straceTable, so the file can be input in the preamble
    tex = [
        "\\newcommand{\\straceTable}{%",
        "\\begin{tabular}{llrrrrrr}",
        "\\toprule",
        "lengths & model & prompt/output & served DP/best-cut & reduction & "
        "gain: greedy & gain: best-cut & gain: all-client \\\\",
        "\\midrule",
    ]
    macros = [f"% generated by {COMMAND}; do not edit"]
    macros.append(f"\\newcommand{{\\straceSeeds}}{{{s0['seeds']}}}")
    macros.append(f"\\newcommand{{\\straceFirstSeed}}{{{s0['first_seed']}}}")
    macros.append(f"\\newcommand{{\\straceLastSeed}}{{{s0['last_seed']}}}")
    macros.append(f"\\newcommand{{\\straceReplicates}}{{{REPLICATES}}}")
    bc = [float(r["gain_best-cut"]) for r in summary]
    macros.append(f"\\newcommand{{\\straceGainBestCutMin}}{{{min(bc):.1f}}}")
    macros.append(f"\\newcommand{{\\straceGainBestCutMax}}{{{max(bc):.1f}}}")
    lo = min(float(r["gain_best-cut_lo"]) for r in summary)
    macros.append(f"\\newcommand{{\\straceGainBestCutLoMin}}{{{lo:.1f}}}")
    fewer = sum(int(r["served_dp"]) < int(r["served_best-cut"]) for r in summary)
    macros.append(f"\\newcommand{{\\straceDpServesFewer}}{{{fewer}}}")
    macros.append(f"\\newcommand{{\\straceRows}}{{{len(summary)}}}")
    for r in summary:
        served = " / ".join(str(r[f"served_{s}"]) for s in SERVED)
        cells = [f"{r[k]:.1f} [{r[f'{k}_lo']:.1f}, {r[f'{k}_hi']:.1f}]" for k in FIGURES]
        md.append(
            f"| {r['lengths']} | {r['cost_model']} | {r['prompt_mean']:.0f} / "
            f"{r['output_mean']:.0f} | {served} of {r['requests']} | " + " | ".join(cells) + " |"
        )
        tcells = [f"{r[k]:.1f} [{r[f'{k}_lo']:.1f}, {r[f'{k}_hi']:.1f}]" for k in FIGURES]
        short = "cal." if r["cost_model"] == "calibrated" else "uncal."
        tex.append(
            f"{r['lengths']} & {short} & {r['prompt_mean']:.0f}/{r['output_mean']:.0f} & "
            f"{r['served_dp']}/{r['served_best-cut']} of {r['requests']} & "
            + " & ".join(tcells)
            + " \\\\"
        )
        tag = ("cal" if r["cost_model"] == "calibrated" else "uncal", str(r["lengths"]))
        macros.append(f"\\newcommand{{\\{_macro(*tag, 'prompt')}}}{{{r['prompt_mean']:.0f}}}")
        macros.append(f"\\newcommand{{\\{_macro(*tag, 'output')}}}{{{r['output_mean']:.0f}}}")
        macros.append(f"\\newcommand{{\\{_macro(*tag, 'requests')}}}{{{r['requests']}}}")
        for s in SERVED:
            macros.append(f"\\newcommand{{\\{_macro(*tag, 'served', s)}}}{{{r[f'served_{s}']}}}")
        for k in FIGURES:
            for suf in ("", "_lo", "_hi"):
                name = _macro(*tag, k, {"": "", "_lo": "lo", "_hi": "hi"}[suf])
                macros.append(f"\\newcommand{{\\{name}}}{{{r[k + suf]:.1f}}}")
    md += [
        "",
        "Gains over greedy are over a baseline of ours (no source defines SplitLLM's greedy); "
        "best-cut is Neurosurgeon's single cut; all-client runs every layer on the client "
        "(charged its server-only work where it misses the SLA). The instances of a seed "
        "differ between token-length settings (another random stream): the settings are "
        "compared as populations, not request for request.",
    ]
    tex += ["\\bottomrule", "\\end{tabular}}"]
    made = []
    p = outdir / "split_traces.csv"
    _write_csv(p, summary)
    made.append(p)
    p = outdir / "split_traces.md"
    p.write_text("\n".join(md) + "\n", encoding="utf-8")
    made.append(p)
    p = outdir / "split_traces.tex"
    p.write_text("\n".join(macros + tex) + "\n", encoding="utf-8")
    made.append(p)
    return made


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=Path("results/split-traces.csv"))
    ap.add_argument("--out", type=Path, default=Path("paper/generated"))
    ap.add_argument("--no-run", action="store_true", help="only the tables, from --results")
    ap.add_argument("--seeds", type=int, default=SEEDS, help=f"seeds per setting ({SEEDS})")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    if args.seeds < 1:
        print(f"error: --seeds must be >= 1, got {args.seeds}", file=sys.stderr)
        return 2
    from splitopt.experiments.confirmatory import run_and_tabulate

    return run_and_tabulate(
        "split-traces", FIRST_SEED, args, lambda rows: write_tables(summarise(rows), args.out)
    )


if __name__ == "__main__":
    sys.exit(main())
