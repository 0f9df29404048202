"""The default ``dp`` against the ILPs and the grid DP, memory budgets included
(a benchmark, not a test). Writes a Markdown table (default
``benchmarks/generated/dp_speed.md``), one row per family/instance and layer count,
row by row (an interrupted run keeps its finished rows).

Usage::

    nice -n 10 .venv/bin/python benchmarks/dp_speed.py [--requests 3] [--ilps ilp-highs,ilp-cpsat]
        [--time-limit 10] [--repeats 5] [--rounds 3] [--min-time 0.05]
        [--repeat-below 0.5] [--layers 12,24,48,80,160]
        [--out benchmarks/generated/dp_speed.md]

Protocol (:func:`splitopt.experiments.speed.time_chains`, the paper's runtime
protocol): every solver is built once and warmed up, then solves each request
alone (``solve_chain``, one thread), best of ``--repeats`` (default 5; a
request is solved again only while its solves take less than ``--repeat-below``
seconds, so slow and time-limited solves run once; every solver alike: single
sub-millisecond solves vary by a factor of two with the machine's load), in
``--rounds`` rounds (default 3), each round every solver of the row in turn
(:func:`_timed_rounds`), the fastest over all kept, so that a slow spell of the
machine, which lasts seconds, does not fall on all of one solver's solves; a
request whose solves took less than ``--min-time`` seconds (default 0.05) is
solved again until they take that long (a processor coming out of idle runs
the first milliseconds 1.5-2 times slower). Rounds and the minimum time since
commit 5a86adf (before: one round of five solves);
milliseconds per request, median over the row's requests. Where the fastest
ILP of a row reaches the time limit, its time is at most what it would need,
and the row's ratio is marked ``≥`` (a lower bound). ``dp`` (the default: exact
labels on the real data) and the ILPs solve the real data; ``dp-grid`` its default grid (the
old default, not exact on real data). Every answer is scored by the evaluator.
Columns: the status each solver certifies (``optimal`` count / requests),
fastest ILP ÷ ``dp`` (ratio of medians, measured in the same run), and whether
every pair of ``optimal`` answers has equal server work (relative 1e-9).

Rows: the shipped split instances (``instances/``; up to ``--requests`` distinct
chains each, plus the whole-instance ``dp`` solve time and its share of
``optimal`` requests); random chains with and without a memory budget; LLM-like
block chains (identical blocks) with a binding budget; the label DP's worst cases,
near-identical blocks (1 % and 10 % jitter on time, work and memory) with a
binding budget; L from 12 to 160. A request a solver cannot finish within
``--time-limit`` seconds counts with its time (about the limit) and its status.
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # benchmarks.*

from splitopt.evaluate import score
from splitopt.experiments.speed import random_chains, time_chains
from splitopt.problem import Chain

RTOL = 1e-9


def _block_chains(L: int, n: int, jitter: float) -> list[Chain]:
    from benchmarks.chains import block_chain

    return [block_chain(L, memory=True, seed=s, jitter=jitter) for s in range(n)]


def _instance_chains(path: str) -> tuple[list[Chain], object]:
    from splitopt.formats import read_any

    problem = read_any(path)
    return list(problem.chains), problem


def _rows(layers: Sequence[int], n: int) -> list[tuple[str, str, list[Chain], object]]:
    """(family, L label, chains, whole problem or None)."""
    rows: list[tuple[str, str, list[Chain], object]] = []
    paths = ["instances/demo/scenario.json"]
    paths += sorted(glob.glob("instances/profiles/scenario*.json"))
    for fam in ("random-chain", "paper-like", "llm-edge"):
        paths += sorted(glob.glob(f"instances/{fam}/*.json"))
    for p in paths:
        chains, problem = _instance_chains(p)
        chains = sorted(chains, key=lambda c: -c.num_layers)[:n]
        Ls = sorted({c.num_layers for c in chains})
        label = f"{Ls[0]}" if len(Ls) == 1 else f"{Ls[0]}–{Ls[-1]}"
        rows.append((os.path.relpath(p, "instances"), label, chains, problem))
    for L in layers:
        rows.append(("random chain, no budget", str(L), random_chains(L, n, 0, False), None))
        rows.append(("random chain, budget", str(L), random_chains(L, n, 0, True), None))
        rows.append(("LLM blocks, binding budget", str(L), _block_chains(L, n, 0.0), None))
        rows.append(("near-identical blocks 1 %, budget", str(L), _block_chains(L, n, 0.01), None))
        rows.append(("jittered blocks 10 %, budget", str(L), _block_chains(L, n, 0.10), None))
    return rows


def _work(c: Chain, placement: object) -> float | None:
    if placement is None:
        return None
    return score(c, placement).server_work


def _vs_ilps(res: dict, ilps: Sequence[str]) -> str:
    """Largest relative excess of dp's answer over the best ILP answer, per request."""
    worst = None
    for i, d in enumerate(res["dp"]["works"]):
        others = [res[s]["works"][i] for s in ilps if res[s]["works"][i] is not None]
        if d is None or not others:
            continue
        best = min(others)
        rel = (d - best) / max(abs(best), 1e-300)
        worst = rel if worst is None else max(worst, rel)
    if worst is None:
        return "–"
    return "0" if abs(worst) <= RTOL else f"{worst:+.1e}"


def _dp_gap(r: dict) -> str:
    """Largest proven relative gap of dp's answers that are not certified optimal."""
    gaps = []
    for st, wk, b in zip(r["statuses"], r["works"], r["bounds"], strict=True):
        if st == "optimal" or st == "infeasible" or wk is None:
            continue
        gaps.append(math.inf if b is None else (wk - b) / max(abs(wk), 1e-300))
    if not gaps:
        return "–"
    g = max(gaps)
    return "no bound" if math.isinf(g) else f"{g:.1e}"


def _status_cell(st: list[str]) -> str:
    opt = sum(s == "optimal" for s in st)
    other = sorted({s for s in st if s != "optimal"})
    return f"{opt}/{len(st)}" + (f" ({', '.join(other)})" if other else "")


def _timed_rounds(
    cols: Sequence[str],
    chains: list[Chain],
    repeats: int,
    rounds: int,
    time_limit: float,
    below: float,
    min_time: float,
) -> dict[str, dict]:
    """:func:`time_chains` for each solver of ``cols`` on ``chains`` (``repeats``
    solves of a request back to back, the fastest kept), in ``rounds`` rounds (each
    round: every solver in turn), keeping each request's fastest solve over the
    rounds: a slow spell of the machine (seconds, on this shared machine) then
    has to last the whole row to slow one solver's figure. A request is solved
    again only while its solves take less than ``below`` seconds, and past
    ``repeats`` while they took less than ``min_time`` seconds in all (see
    :func:`time_chains`). Statuses,
    answers and bounds are those of the first round (the solvers are
    deterministic)."""
    res: dict[str, dict] = {}
    for r in range(max(1, rounds)):
        for s in cols:
            mode = "ticked" if s == "dp-grid" else "real"
            if r == 0:
                res[s] = time_chains(s, chains, mode, 0, repeats, time_limit, below, min_time)
                continue
            again = [i for i, t in enumerate(res[s]["times_ms"]) if t < below * 1e3]
            if not again:
                continue
            more = time_chains(
                s, [chains[i] for i in again], mode, 0, repeats, time_limit, below, min_time
            )
            for k, i in enumerate(again):
                res[s]["times_ms"][i] = min(res[s]["times_ms"][i], more["times_ms"][k])
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=3)
    ap.add_argument("--layers", default="12,24,48,80,160")
    ap.add_argument("--ilps", default="ilp-highs,ilp-cpsat")
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timed solves per request and solver, the fastest kept (all solvers alike)",
    )
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds over the row's solvers, each taking --repeats solves of a request "
        "back to back; the fastest over all is kept",
    )
    ap.add_argument(
        "--min-time",
        type=float,
        default=0.05,
        help="past --repeats, solve a request again while its solves took less than "
        "this many seconds in all (sub-millisecond solves, every solver alike)",
    )
    ap.add_argument(
        "--repeat-below",
        type=float,
        default=0.5,
        help="repeat a request's solve only while it takes less than this many seconds",
    )
    ap.add_argument("--only", default="", help="comma-separated substrings of row families")
    ap.add_argument("--out", default="benchmarks/generated/dp_speed.md")
    a = ap.parse_args(argv)
    from splitopt.solvers import available, get_solver

    ilps = [s for s in a.ilps.split(",") if s and available(s)]
    layers = [int(x) for x in a.layers.split(",")]
    rows = _rows(layers, a.requests)
    if a.only:
        keys = a.only.split(",")
        rows = [r for r in rows if any(k in r[0] for k in keys)]
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    load = os.getloadavg()[0]
    cols = ["dp", "dp-grid", *ilps]
    with open(a.out, "w") as out:

        def w(line: str = "") -> None:
            out.write(line + "\n")
            out.flush()
            print(line, flush=True)

        w("<!-- generated by benchmarks/dp_speed.py; do not edit by hand -->")
        w(f"<!-- command: {' '.join([sys.executable.split('/')[-1], *sys.argv])} -->")
        w(
            f"<!-- commit {commit}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"load average at start {load:.1f} -->"
        )
        w()
        w(
            f"Median ms per request (each solved alone, one thread, after warm-up; "
            f"fastest of {a.rounds} rounds over the row's solvers of {a.repeats} solves "
            f"back to back, or as many as fit in {a.min_time:g} s, each solver alike, a "
            f"solve of {a.repeat_below:g} s or more once); "
            "status: requests certified `optimal` / requests; `dp` and the ILPs on "
            "the real data, `dp-grid` on its default grid; time limit "
            f"{a.time_limit:g} s per request and solver. `dp` vs best ILP: the largest "
            "over the row's requests of (dp's server work − the least of the ILPs') ÷ "
            "the ILPs' (evaluator's figures; negative: dp's answer is better; 0: within "
            "1e-9). dp gap: the largest (work − lower bound) ÷ work of dp's answers "
            "that are not proven optimal (– where every one is). ≥: the fastest ILP "
            "reached the time limit on a request of the row, so its time is at least "
            "the one shown and the ratio a lower bound."
        )
        w()
        head = " | ".join(f"{c} ms | {c} status" for c in cols)
        w(
            f"| family / instance | L | n | {head} | fastest ILP ÷ dp | optimal answers agree "
            "| dp vs best ILP | dp gap |"
        )
        w("|---|---|---:|" + "---:|---|" * len(cols) + "---:|---|---:|---:|")
        t_all = time.perf_counter()
        for fam, label, chains, problem in rows:
            res = _timed_rounds(
                cols, chains, a.repeats, a.rounds, a.time_limit, a.repeat_below, a.min_time
            )
            cells = []
            for s in cols:
                cells.append(f"{statistics.median(res[s]['times_ms']):.3g}")
                cells.append(_status_cell(res[s]["statuses"]))
            dp_ms = statistics.median(res["dp"]["times_ms"])
            ilp_ms = [statistics.median(res[s]["times_ms"]) for s in ilps]
            ratio = f"{min(ilp_ms) / dp_ms:,.0f}×" if ilp_ms and dp_ms > 0 else "–"
            if ilp_ms and res[ilps[ilp_ms.index(min(ilp_ms))]]["time_limited"]:
                # the fastest ILP's time is its time limit somewhere: a lower bound
                ratio = "≥ " + ratio
            agree = True
            for i in range(len(chains)):
                opt = [
                    res[s]["works"][i]
                    for s in ["dp", *ilps]
                    if res[s]["statuses"][i] == "optimal" and res[s]["works"][i] is not None
                ]
                if opt and (max(opt) - min(opt)) > RTOL * max(abs(max(opt)), 1e-300):
                    agree = False
            extra = ""
            if problem is not None:
                solver = get_solver("dp", time_limit=a.time_limit * max(1, len(problem.chains)))
                solver.solve(problem)  # warm
                r = solver.solve(problem)
                opt = sum(st == "optimal" for st in r.statuses)
                inf = sum(st == "infeasible" for st in r.statuses)
                extra = (
                    f" (whole instance: {len(problem)} requests, {len(problem.chains)} distinct, "
                    f"dp {r.runtime_s * 1e3:.3g} ms; {opt} optimal, {inf} proven infeasible, "
                    f"{len(r.statuses) - opt - inf} other)"
                )
            w(
                f"| {fam}{extra} | {label} | {len(chains)} | "
                + " | ".join(cells)
                + f" | {ratio} | {'yes' if agree else 'NO'} | {_vs_ilps(res, ilps)} "
                f"| {_dp_gap(res['dp'])} |"
            )
        w()
        w(f"Total {time.perf_counter() - t_all:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
