"""Tables (LaTeX and Markdown) and text macros built from the results CSV files only.

Pooling over repetitions: a ratio is recomputed from the summed numerator and
denominator columns of all repetitions (``sum_work_common_*`` /
``sum_base_common_*``), not averaged; the range over repetitions is shown
beside it when there is more than one.

Percentages are printed with one decimal, rounded half-to-even by Python's
formatting: never toward the paper's figure.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from splitopt.experiments.harness import read_csv_rows

#: SplitLLM's figures (arXiv:2410.10759, via a secondary summary; approximate).
#: ``all``: "about 1/3" less server work, "19 %" better than greedy.
PAPER_REDUCTION: dict[str, float] = {
    "Transformer": 0.289,
    "BERT": 0.278,
    "GPT-2": 0.292,
    "all": 1 / 3,
}
PAPER_GAIN_GREEDY: dict[str, float] = {
    "Transformer": 0.146,
    "BERT": 0.055,
    "GPT-2": 0.125,
    "ViT": 0.554,
    "all": 0.19,
}
#: Where the figures above come from (SPEC §0).
PAPER_PROVENANCE = (
    "SplitLLM figures (Mudvari et al., arXiv:2410.10759) from a secondary summary, "
    "approximate; the summary does not say the per-family 14.6/5.5/12.5/55.4 % are gains "
    "over greedy (hence 'gain?')"
)
BASELINE_NAMES: tuple[str, ...] = (
    "greedy",
    "greedy-skip",
    "greedy-backward",
    "greedy-ratio",
    "best-cut",
)
SPLITTER_LABEL: dict[str, str] = {
    "server-only": "server-only",
    "greedy": "greedy",
    "greedy-skip": "greedy-skip",
    "greedy-backward": "greedy-backward",
    "greedy-ratio": "greedy-ratio",
    "best-cut": "best-cut",
    "dp": "DP (grid)",
    "dp-exact": "DP (exact)",
}

Row = dict[str, Any]  # one CSV row: column -> cell (str, int or float)


def _write(path: Path, text: str) -> None:
    """Exactly ``text`` into ``path`` under the output policy (splitopt.outputs)."""
    from splitopt.outputs import replace_file

    replace_file(path, lambda fh: fh.write(text))


def _num(v: str) -> object:
    if v == "":
        return None
    if v in ("true", "false"):
        return v == "true"
    try:
        f = float(v)
    except ValueError:
        return v
    return (
        int(f) if f.is_integer() and "." not in v and "e" not in v.lower() and "n" not in v else f
    )


def load(path: Path | str, keep_errors: bool = False) -> list[Row]:
    """Rows of a results CSV with numbers parsed; errored rows dropped unless asked."""
    rows = [{k: _num(v) for k, v in r.items()} for r in read_csv_rows(path)]
    return rows if keep_errors else [r for r in rows if not r.get("error")]


def error_count(path: Path | str) -> int:
    return sum(1 for r in read_csv_rows(path) if r.get("error"))


def col(name: str) -> str:
    return name.replace("-", "_")


@dataclass(frozen=True)
class Pooled:
    """A ratio pooled over repetitions, with its range over the repetitions."""

    value: float
    lo: float
    hi: float
    n: int


def pooled_ratio(rows: Sequence[Row], num: str, den: str, one_minus: bool = True) -> Pooled:
    """1 − Σnum/Σden (or Σnum/Σden − 1 when ``one_minus`` is False) over ``rows``,
    and the min/max of the same per row."""

    def f(a: float, b: float) -> float:
        if b <= 0:
            return math.nan
        return 1 - a / b if one_minus else b / a - 1 if a > 0 else math.nan

    nums = [float(r[num]) for r in rows if r.get(num) is not None]  # type: ignore[arg-type]
    dens = [float(r[den]) for r in rows if r.get(den) is not None]  # type: ignore[arg-type]
    if not nums:
        return Pooled(math.nan, math.nan, math.nan, 0)
    per = [f(a, b) for a, b in zip(nums, dens, strict=True)]
    per = [p for p in per if not math.isnan(p)]
    return Pooled(
        f(sum(nums), sum(dens)),
        min(per) if per else math.nan,
        max(per) if per else math.nan,
        len(nums),
    )


def work_gain(rows: Sequence[Row], base: str) -> Pooled:
    """Pooled (W_B − W_A) / W_B over baseline ``base`` (A = the rows' solver)."""
    return pooled_ratio(rows, f"sum_work_common_{col(base)}", f"sum_base_common_{col(base)}")


def tput_gain(rows: Sequence[Row], base: str) -> Pooled:
    """Pooled W_B / W_A − 1 over baseline ``base``."""
    return pooled_ratio(
        rows, f"sum_work_common_{col(base)}", f"sum_base_common_{col(base)}", one_minus=False
    )


def reduction(rows: Sequence[Row]) -> Pooled:
    """Pooled reduction versus server-only."""
    return pooled_ratio(rows, "sum_work_common_server_only", "sum_base_common_server_only")


def group(rows: Iterable[Row], *keys: str) -> dict[tuple, list[Row]]:
    out: dict[tuple, list[Row]] = defaultdict(list)
    for r in rows:
        out[tuple(r.get(k) for k in keys)].append(r)
    return dict(out)


def pct(x: float, digits: int = 1) -> str:
    """``x`` as a percentage string (``nan`` -> an en dash)."""
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.{digits}f}"


def pct_range(p: Pooled) -> str:
    s = pct(p.value)
    if p.n > 1 and not math.isnan(p.lo):
        s += f" [{pct(p.lo)}, {pct(p.hi)}]"
    return s


def family_order(names: Iterable[str]) -> list[str]:
    """Model families in the paper's order first, then the rest, ``all`` last."""
    pref = ["Transformer", "BERT", "GPT-2", "ViT"]
    names = [str(n) for n in dict.fromkeys(names)]
    head = [n for n in pref if n in names]
    tail = sorted(n for n in names if n not in pref and n != "all")
    return head + tail + (["all"] if "all" in names else [])


# ---------------------------------------------------------------- table rendering


@dataclass
class Table:
    """A table with a caption, header and string cells; rendered to LaTeX or Markdown."""

    caption: str
    header: list[str]
    rows: list[list[str]]
    label: str = ""
    note: str = ""

    def markdown(self) -> str:
        lines = [f"**{self.caption}**", ""]
        lines.append("| " + " | ".join(self.header) + " |")
        lines.append("|" + "|".join("---" for _ in self.header) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines) + "\n"

    def latex(self) -> str:
        def esc(s: str) -> str:
            return (
                s.replace("\\", r"\textbackslash{}")
                .replace("%", r"\%")
                .replace("&", r"\&")
                .replace("_", r"\_")
                .replace("#", r"\#")
                .replace("–", "--")
                .replace("≈", r"$\approx$")
                .replace("×", r"$\times$")
                .replace("λ", r"$\lambda$")
                .replace("ρ", r"$\rho$")
                .replace("−", r"$-$")
                .replace("Σ", r"$\Sigma$")
                .replace("ω", r"$\omega$")
                .replace("θ", r"$\theta$")
                .replace("≤", r"$\le$")
                .replace("→", r"$\to$")
            )

        from splitopt.experiments.texlayout import (
            BEGIN_FIT,
            END_FIT,
            begin_table,
            end_table,
            head_row,
            size_for,
        )

        spec = "l" + "r" * (len(self.header) - 1)
        out = [
            begin_table(len(self.header)),
            r"\centering" + size_for(len(self.header)),
            rf"\caption{{{esc(self.caption)}}}",
        ]
        if self.label:
            out.append(rf"\label{{{self.label}}}")
        out += [
            BEGIN_FIT,
            rf"\begin{{tabular}}{{{spec}}}",
            r"\toprule",
            head_row([esc(h) for h in self.header], spec),
            r"\midrule",
        ]
        out += [" & ".join(esc(c) for c in r) + r" \\" for r in self.rows]
        out += [r"\bottomrule", r"\end{tabular}", END_FIT]
        if self.note:
            out.append(rf"\par\smallskip\footnotesize {esc(self.note)}")
        out.append(end_table(len(self.header)))
        return "\n".join(out) + "\n"


def headline_table(gain_rows: Sequence[Row], solver: str = "dp") -> Table:
    """Per model family: measured reduction and gain over greedy beside the paper's."""
    rows = [r for r in gain_rows if r.get("solver") == solver]
    by = group(rows, "group")
    body: list[list[str]] = []
    for fam in family_order(k[0] for k in by):
        rs = by[(fam,)]
        red, g, t = reduction(rs), work_gain(rs, "greedy"), tput_gain(rs, "greedy")
        pr, pg = PAPER_REDUCTION.get(fam), PAPER_GAIN_GREEDY.get(fam)
        body.append(
            [
                "all families" if fam == "all" else fam,
                served_note(rs),
                pct_range(red),
                ("≈33.3 (1/3)" if fam == "all" else pct(pr)) if pr is not None else "–",
                pct_range(g),
                pct(t.value),
                pct(pg) if pg is not None else "–",
            ]
        )
    reps = len({r.get("repetition") for r in rows})
    return Table(
        caption=(
            f"Exploratory (not the protocol): measured vs SplitLLM, "
            f"{SPLITTER_LABEL.get(solver, solver)}, paper-like instances as shipped (memory "
            f"budgets on) ({reps} seed{'s' if reps != 1 else ''}). Percent. "
            f"{cost_model_text(rows)}"
        ),
        header=[
            "family",
            "served DP/greedy/server-only of N; only DP",
            "reduction vs server-only (both feasible)",
            "paper",
            "work gain over greedy (both feasible)",
            "throughput gain over greedy (both feasible)",
            "paper gain?",
        ],
        rows=body,
        label="tab:headline",
        note=(
            "Reduction: 1 − ΣW_DP/ΣW_server-only; work gain: (W_greedy − W_DP)/W_greedy; "
            "throughput gain: W_greedy/W_DP − 1; each over the requests feasible for both, "
            "pooled over seeds [min, max over seeds], so the requests only the DP serves "
            "(counted in column 2) are left out; the protocol table counts them. "
            + PAPER_PROVENANCE
            + "."
        ),
    )


def charged_reduction(rows: Sequence[Row]) -> Pooled:
    """Pooled 1 − ΣC_A / ΣW(S…S) over all requests (unserved charged W(S…S))."""
    return pooled_ratio(rows, "charged_work", "charged_server_only")


def charged_gain(rows: Sequence[Row], base: str) -> Pooled:
    """Pooled (C_B − C_A) / C_B over all requests."""
    return pooled_ratio(rows, "charged_work", f"charged_work_{col(base)}")


def _total(rows: Sequence[Row], key: str) -> int:
    return sum(int(r.get(key) or 0) for r in rows)  # type: ignore[call-overload]


def served_note(rows: Sequence[Row], base: str = "greedy") -> str:
    """'served DP/base/server-only of N; k only DP' for rows of one group."""
    n = _total(rows, "requests")
    so = n - _total(rows, "server_only_infeasible")
    return (
        f"{_total(rows, 'feasible')}/{_total(rows, f'feasible_{col(base)}')}/{so} of {n}; "
        f"{_total(rows, f'only_{col(base)}')}"
    )


def _seed_text(rows: Sequence[Row]) -> str:
    reps = sorted({int(r.get("seed") or 0) for r in rows})  # type: ignore[call-overload]
    size = {str(r.get("size")) for r in rows}
    seeds = f"seeds {reps[0]}–{reps[-1]}" if len(reps) > 1 else f"seed {reps[0]}"
    return f"size {'/'.join(sorted(size))}, {seeds}"


def cost_model_text(rows: Sequence[Row]) -> str:
    """Which cost model the rows were computed with, from their ``cost_model`` and
    ``cost_figures`` columns (rows from before those columns: not recorded)."""
    seen = {(r.get("cost_model"), r.get("cost_figures")) for r in rows}
    if any(m is None for m, _ in seen):
        return "Cost model not recorded in the rows (computed before the calibration)."
    if len(seen) > 1:
        mixed = ", ".join(f"{m} {f}" for m, f in sorted(seen, key=str))
        return f"MIXED cost-model figures ({mixed}): rerun with --fresh."
    ((m, f),) = seen
    name = {
        "calibrated": "Calibrated cost model",
        "uncalibrated-roofline": "Uncalibrated (pre-calibration) roofline cost model",
    }.get(str(m), str(m))
    return f"{name} (figures {f})."


def protocol_headline_table(rows: Sequence[Row]) -> Table:
    """The headline of the pre-registered protocol (setting P): every request counted."""
    rs_p = [r for r in rows if r.get("setting") == "P"]
    by = group(rs_p, "group")
    body: list[list[str]] = []
    for fam in family_order(k[0] for k in by):
        rs = by[(fam,)]
        pr, pg = PAPER_REDUCTION.get(fam), PAPER_GAIN_GREEDY.get(fam)
        body.append(
            [
                "all families" if fam == "all" else fam,
                served_note(rs),
                pct_range(charged_reduction(rs)),
                f"{pct(reduction(rs).value)} ({_total(rs, 'common_server_only')})",
                ("≈33.3 (1/3)" if fam == "all" else pct(pr)) if pr is not None else "–",
                pct_range(charged_gain(rs, "greedy")),
                f"{pct(work_gain(rs, 'greedy').value)} ({_total(rs, 'common_greedy')})",
                (pct(pg) + (" (19 % claim)" if fam == "all" else "")) if pg is not None else "–",
            ]
        )
    return Table(
        caption=(
            "Pre-registered protocol (paper/PROTOCOL.md), setting P: paper-like, no memory "
            "budget, FLOP, prefill+decode where the family draws it; DP (grid); "
            f"{_seed_text(rs_p)}. Percent. {cost_model_text(rs_p)}"
        ),
        header=[
            "family",
            "served DP/greedy/server-only of N; only DP",
            "reduction vs server-only: all requests",
            "reduction: both feasible (n)",
            "paper reduction",
            "gain over greedy: all requests",
            "gain over greedy: both feasible (n)",
            "paper gain?",
        ],
        rows=body,
        label="tab:protocol",
        note=(
            "All requests: unserved requests are charged their server-only work (the declared "
            "penalty); reduction = 1 − C_DP/ΣW(S…S), gain = (C_greedy − C_DP)/C_greedy, pooled "
            "over seeds [min, max over seeds]. Both feasible: the old figures over the (n) "
            "requests both serve. 'only DP': requests the DP serves and greedy does not. "
            "greedy is our reading of SplitLLM's undefined greedy. " + PAPER_PROVENANCE + "."
        ),
    )


def protocol_gain_table(rows: Sequence[Row]) -> Table:
    """Setting P: the DP's gain over every greedy variant and best-cut, all requests counted."""
    rs_p = [r for r in rows if r.get("setting") == "P"]
    by = group(rs_p, "group")
    body = []
    for fam in family_order(k[0] for k in by):
        rs = by[(fam,)]
        cells = ["all families" if fam == "all" else fam]
        for b in BASELINE_NAMES:
            cells.append(
                f"{pct(charged_gain(rs, b).value)} / {pct(work_gain(rs, b).value)} "
                f"({_total(rs, f'feasible_{col(b)}')}; +{_total(rs, f'only_{col(b)}')})"
            )
        body.append(cells)
    return Table(
        caption=(
            "Protocol setting P: gain of the DP over each baseline (percent), all requests / "
            f"both feasible (served by B; served only by the DP); {_seed_text(rs_p)}. "
            f"{cost_model_text(rs_p)}"
        ),
        header=["family", *[f"over {b}" for b in BASELINE_NAMES]],
        rows=body,
        label="tab:protocol-gain",
        note=(
            "All requests: (C_B − C_DP)/C_B with unserved requests charged their server-only "
            "work; both feasible: (W_B − W_DP)/W_B over the requests both serve. Every greedy "
            "variant is ours (no source defines SplitLLM's greedy): greedy stops at the first "
            "move that breaks feasibility, greedy-skip skips it and continues, greedy-backward "
            "works from the output end, greedy-ratio moves the best work-per-latency layer."
        ),
    )


def protocol_sweep_table(rows: Sequence[Row]) -> Table:
    """The four declared sweeps (all families pooled): each setting one factor from P."""
    from splitopt.experiments.protocol import PROTOCOL_P_LABEL, PROTOCOL_SETTINGS

    alls = [r for r in rows if r.get("group") == "all"]
    by = group(alls, "setting")
    body = []
    for sweep in ("sla_anchor", "memory", "work_unit", "decode"):
        names = ["P"] + [n for n, (sw, _, _) in PROTOCOL_SETTINGS.items() if sw == sweep]
        if not any((n,) in by for n in names[1:]):
            continue
        for n in names:
            rs = by.get((n,), [])
            if not rs:
                continue
            label = PROTOCOL_P_LABEL[sweep] if n == "P" else PROTOCOL_SETTINGS[n][1]
            body.append(
                [
                    sweep,
                    label,
                    served_note(rs),
                    pct_range(charged_reduction(rs)),
                    pct(reduction(rs).value),
                    pct_range(charged_gain(rs, "greedy")),
                    pct(work_gain(rs, "greedy").value),
                ]
            )
    return Table(
        caption=(
            "Declared sweeps of the protocol (all families pooled; P repeated in each block), "
            f"DP (grid), percent; {_seed_text(alls)}. {cost_model_text(alls)}"
        ),
        header=[
            "sweep",
            "setting",
            "served DP/greedy/server-only of N; only DP",
            "reduction: all",
            "reduction: both feasible",
            "gain over greedy: all",
            "gain over greedy: both feasible",
        ],
        rows=body,
        label="tab:protocol-sweeps",
        note=(
            "sla_anchor: SLA between the fastest and the all-client latency (P) or (1 + slack) x "
            "all-server latency; memory: client budgets 0.3–2 GB (ours) on; work_unit: server "
            "seconds instead of FLOP; decode: output tokens set to 0. 'all' charges unserved "
            "requests their server-only work."
        ),
    )


def reduction_table(rows: Sequence[Row]) -> Table:
    """Reduction versus server-only per family for every splitter (experiment a)."""
    solvers = [
        s
        for s in ("dp", "dp-exact", "greedy", "greedy-ratio", "best-cut")
        if any(r.get("solver") == s for r in rows)
    ]
    by = group(rows, "group", "solver")
    fams = family_order(k[0] for k in by)
    body = []
    for fam in fams:
        cells = ["all families" if fam == "all" else fam]
        for s in solvers:
            rs = by.get((fam, s), [])
            cells.append(
                f"{pct_range(reduction(rs))} ({_total(rs, 'feasible')}/{_total(rs, 'requests')})"
                if rs
                else "–"
            )
        rs_any = next((by[(fam, s)] for s in solvers if (fam, s) in by), [])
        so_served = _total(rs_any, "requests") - _total(rs_any, "server_only_infeasible")
        cells.append(f"{so_served}/{_total(rs_any, 'requests')}")
        pr = PAPER_REDUCTION.get(fam)
        cells.append(pct(pr) if pr is not None else "–")
        body.append(cells)
    return Table(
        caption=(
            "Exploratory: server-work reduction versus server-only (percent), per model family "
            "and splitter (paper-like as shipped, memory budgets on). "
            f"{cost_model_text(rows)}"
        ),
        header=[
            "family",
            *[SPLITTER_LABEL[s] for s in solvers],
            "server-only served",
            "paper (DP)",
        ],
        rows=body,
        label="tab:reduction",
        note=(
            "Pooled over seeds over the requests feasible for the splitter and server-only; "
            "(served/N) after each figure, and server-only's served count: requests server-only "
            "cannot serve are left out of every figure of this table (the protocol table "
            "counts them)."
        ),
    )


def gain_table(rows: Sequence[Row], solver: str = "dp") -> Table:
    """Work gain and throughput gain of ``solver`` over each baseline, per family."""
    rs_all = [r for r in rows if r.get("solver") == solver]
    by = group(rs_all, "group")
    body = []
    for fam in family_order(k[0] for k in by):
        rs = by[(fam,)]
        cells = ["all families" if fam == "all" else fam]
        for b in BASELINE_NAMES:
            cells.append(
                f"{pct_range(work_gain(rs, b))} / {pct(tput_gain(rs, b).value)} "
                f"({_total(rs, f'common_{col(b)}')}; +{_total(rs, f'only_{col(b)}')})"
            )
        pg = PAPER_GAIN_GREEDY.get(fam)
        cells.append(pct(pg) if pg is not None else "–")
        body.append(cells)
    return Table(
        caption=(
            f"Exploratory: gain of {SPLITTER_LABEL.get(solver, solver)} over each baseline "
            "(percent): work gain / throughput gain, both feasible (paper-like as shipped). "
            f"{cost_model_text(rows)}"
        ),
        header=["family", *[f"over {b}" for b in BASELINE_NAMES], "paper (gain?)"],
        rows=body,
        label="tab:gain",
        note=(
            "Work gain (W_B − W_A)/W_B [range over seeds] / throughput gain W_B/W_A − 1, "
            "over the (n) requests feasible for both; +k: requests only the DP serves, left "
            "out of these figures. " + PAPER_PROVENANCE + "."
        ),
    )


def throughput_table(rows: Sequence[Row]) -> Table:
    """Sustainable arrival rates per splitter (experiment d)."""
    sus = [r for r in rows if r.get("mode") == "sustainable"]
    by = group(sus, "splitter")
    so = by.get(("server-only",), [])

    def mean(rs: Sequence[Row], k: str) -> float:
        v = [float(r[k]) for r in rs if r.get(k) is not None]  # type: ignore[arg-type]
        return sum(v) / len(v) if v else math.nan

    so_util, so_sus = mean(so, "rate_util_per_s"), mean(so, "sustainable_rate_per_s")
    body = []
    for s in ("server-only", "greedy", "dp"):
        rs = by.get((s,), [])
        if not rs:
            continue
        util, su = mean(rs, "rate_util_per_s"), mean(rs, "sustainable_rate_per_s")
        body.append(
            [
                SPLITTER_LABEL[s],
                f"{1000 * mean(rs, 'mean_service_s'):.2f}",
                f"{util:.4g}",
                f"{su:.4g}",
                f"{su / so_sus:.3f}" if so_sus > 0 else "–",
                f"{util / so_util:.3f}" if so_util > 0 else "–",
            ]
        )
    thr = mean(sus, "threshold_s")
    cap = mean(sus, "capacity_per_s")
    return Table(
        caption="Server queueing (M/G/1, FIFO): highest sustainable arrival rate per splitter",
        header=[
            "splitter",
            "mean service (ms)",
            "λ at ρ = 1 (req/s)",
            "sustainable λ (req/s)",
            "× server-only (sustainable)",
            "× server-only (ρ = 1)",
        ],
        rows=body,
        label="tab:throughput",
        note=(
            f"Capacity {cap:.3g} work units/s; sustainable: ρ < 1 and p95 wait ≤ θ = "
            f"{1000 * thr:.1f} ms (10 mean server-only service times); mean over seeds. "
            f"The simulated mix keeps only the request classes every splitter serves: "
            f"{_total(sus, 'classes_dropped') // max(1, len(sus))} of "
            f"{(_total(sus, 'classes_dropped') + _total(sus, 'classes_used')) // max(1, len(sus))}"
            " classes per run (mean) are left out: those server-only (hence greedy, which "
            "starts from all-server) or the DP cannot serve."
        ),
    )


def discretisation_table(rows: Sequence[Row]) -> Table:
    by = group(rows, "family", "grid")
    fams = sorted({k[0] for k in by})
    # grid 0 is the default grid (per chain, 100 (2L + 1) ticks); listed last
    grids = sorted({int(k[1]) for k in by}, key=lambda g: (g == 0, g))  # type: ignore[arg-type]
    body = []
    for g in grids:
        cells = [str(g) if g else "default: 100·(2L+1), ≥ 1,000, tables ≤ 1 GiB"]
        for f in fams:
            rs = by.get((f, g), [])
            if not rs:
                cells.append("–")
                continue
            gap = max(float(r["gap"]) for r in rs)  # type: ignore[arg-type]
            lost = sum(int(r["lost_on_grid"]) for r in rs)  # type: ignore[arg-type]
            cells.append(f"{100 * gap:.3f} / {lost}")
        body.append(cells)
    return Table(
        caption="Discretisation gap of the grid DP against the exact DP",
        header=["grid N (ticks per SLA)", *fams],
        rows=body,
        label="tab:discretisation",
        note=(
            "Gap (W_grid − W_exact)/W_exact in percent, on requests feasible for both (largest "
            "over seeds) / requests feasible exactly but not on the grid (summed over seeds)."
        ),
    )


# ---------------------------------------------------------------- text macros


#: Settings of ``calibration-impact`` and their labels, in table order.
IMPACT_LABEL: dict[str, str] = {
    "P": "protocol P (registered with the uncalibrated model)",
    "memory-on": "shipped paper-like, budgets on (exploratory)",
}
#: The two cost models of ``calibration-impact`` rows: (label, column prefix).
IMPACT_MODELS: tuple[tuple[str, str], ...] = (
    ("uncalibrated-roofline", "uncal_"),
    ("calibrated", "cal_"),
)


def model_view(rows: Sequence[Row], prefix: str) -> list[Row]:
    """``calibration-impact`` rows as one model's plain rows (prefix stripped)."""
    return [
        {**r, **{k[len(prefix) :]: v for k, v in r.items() if k.startswith(prefix)}} for r in rows
    ]


def share(rows: Sequence[Row], solver: str) -> float:
    """Pooled mean share of layers on the client over the requests ``solver`` serves."""
    n = _total(rows, f"served_{col(solver)}")
    tot = sum(float(r.get(f"client_share_sum_{col(solver)}") or 0.0) for r in rows)  # type: ignore[arg-type]
    return tot / n if n else math.nan


def impact_figures(rows: Sequence[Row]) -> dict[str, tuple[str, str]]:
    """The side-by-side figures of one (setting, family): name -> (uncalibrated, calibrated)."""
    out: dict[str, list[str]] = defaultdict(list)
    for _, pre in IMPACT_MODELS:
        v = model_view(rows, pre)
        n = _total(v, "requests")
        out["requests"].append(str(n))
        out["served DP"].append(str(_total(v, "feasible")))
        out["served greedy"].append(str(_total(v, "feasible_greedy")))
        out["served only by DP"].append(str(_total(v, "only_greedy")))
        out["reduction, all requests"].append(pct(charged_reduction(v).value))
        out["reduction, both feasible"].append(pct(reduction(v).value))
        out["gain over greedy, all requests"].append(pct(charged_gain(v, "greedy").value))
        out["gain over greedy, both feasible"].append(pct(work_gain(v, "greedy").value))
        out["both feasible (DP and greedy)"].append(str(_total(v, "common_greedy")))
        out["all-client is the fastest placement"].append(str(_total(v, "fastest_all_client")))
        logs = sum(float(r.get("sum_log_client_over_server") or 0.0) for r in v)  # type: ignore[arg-type]
        out["all-client / all-server latency (geometric mean)"].append(
            f"{math.exp(logs / n):.2f}" if n else "–"
        )
        for s in ("dp", "greedy"):
            lab = "DP" if s == "dp" else s
            out[f"{lab}: client share of layers"].append(pct(share(v, s)))
            out[f"{lab}: all-client / split / all-server"].append(
                f"{_total(v, f'all_client_{col(s)}')} / {_total(v, f'split_{col(s)}')} / "
                f"{_total(v, f'all_server_{col(s)}')}"
            )
    return {k: (a[0], a[1]) for k, a in out.items()}


def _changed(rows: Sequence[Row], solver: str) -> str:
    c = col(solver)
    both = _total(rows, f"both_served_{c}")
    ch = _total(rows, f"placement_changed_{c}")
    frac = pct(ch / both) if both else "–"
    return f"{frac} ({ch} of {both})"


def calibration_impact_tables(rows: Sequence[Row]) -> list[Table]:
    """Experiment ``calibration-impact``: the SplitLLM figures under the uncalibrated
    (pre-calibration) and the calibrated cost model, and where the layers go."""
    by = group(rows, "setting", "group")
    figs: list[list[str]] = []
    where: list[list[str]] = []
    for setting in IMPACT_LABEL:
        fams = family_order(g for (st, g) in by if st == setting)
        for fam in fams:
            rs = by[(setting, fam)]
            f = impact_figures(rs)

            def pair(name: str, f: dict[str, tuple[str, str]] = f) -> str:
                return f"{f[name][0]} → {f[name][1]}"

            label = "all families" if fam == "all" else fam
            figs.append(
                [
                    IMPACT_LABEL[setting],
                    label,
                    f"{pair('served DP')} / {pair('served greedy')} of {f['requests'][0]}",
                    pair("reduction, all requests"),
                    pair("reduction, both feasible"),
                    pair("gain over greedy, all requests"),
                    pair("gain over greedy, both feasible"),
                ]
            )
            where.append(
                [
                    IMPACT_LABEL[setting],
                    label,
                    pair("all-client / all-server latency (geometric mean)"),
                    f"{pair('all-client is the fastest placement')} of {f['requests'][0]}",
                    pair("DP: client share of layers"),
                    pair("DP: all-client / split / all-server"),
                    pair("greedy: client share of layers"),
                    _changed(rs, "dp"),
                    _changed(rs, "greedy"),
                    f"{_total(rs, 'served_only_old_dp')} / {_total(rs, 'served_only_new_dp')}",
                ]
            )
    seeds = _seed_text(rows)
    ids = ", ".join(
        f"{m} {'/'.join(sorted({str(r.get(pre + 'cost_figures')) for r in rows}))}"
        for m, pre in IMPACT_MODELS
    )
    t1 = Table(
        caption=(
            "Cost model and the SplitLLM comparison: uncalibrated (pre-calibration) → calibrated "
            f"model, DP (grid), percent; {seeds}"
        ),
        header=[
            "setting",
            "family",
            "served DP / greedy of N",
            "reduction vs server-only: all requests",
            "reduction: both feasible",
            "gain over greedy: all requests",
            "gain over greedy: both feasible",
        ],
        rows=figs,
        label="tab:calibration-impact",
        note=(
            "Each cell: uncalibrated → calibrated cost model, on the same draws (classes, "
            "tokens, clients, SLA quantiles); each model's SLAs follow its own latencies by "
            "the same rule. All requests: unserved requests charged their server-only work "
            "(the protocol's primary metric); both feasible: over the requests both serve. "
            "Protocol P is the registered setting (paper/PROTOCOL.md was registered with the "
            f"uncalibrated model). Cost-model figures: {ids}."
        ),
    )
    t2 = Table(
        caption=(
            f"Where the layers go: uncalibrated (pre-calibration) → calibrated cost model; {seeds}"
        ),
        header=[
            "setting",
            "family",
            "all-client / all-server latency",
            "all-client fastest",
            "DP: client share of layers",
            "DP: all-client / split / all-server",
            "greedy: client share of layers",
            "DP placement changed (of served under both)",
            "greedy placement changed",
            "DP serves under one model only (uncal / cal)",
        ],
        rows=where,
        label="tab:calibration-impact-layers",
        note=(
            "All-client / all-server latency: geometric mean over all requests (SLA and "
            "memory ignored); all-client fastest: requests whose least-latency placement is "
            "all-client. "
            "Client share: layers on the client / layers, mean over the requests the solver "
            "serves (unweighted), percent. Placement changed: requests served under both "
            "models whose placement differs. Transformer and GPT-2 requests run prefill and "
            "decode, BERT and ViT prefill only."
        ),
    )
    return [t1, t2]


def calibration_impact_csv(rows: Sequence[Row]) -> str:
    """The side-by-side figures as CSV: setting, family, figure, uncalibrated, calibrated."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["setting", "family", "figure", "uncalibrated-roofline", "calibrated"])
    by = group(rows, "setting", "group")
    for setting in IMPACT_LABEL:
        for fam in family_order(g for (st, g) in by if st == setting):
            rs = by[(setting, fam)]
            for name, (a, b) in impact_figures(rs).items():
                w.writerow([setting, fam, name, a, b])
            for s in ("dp", "greedy"):
                c = col(s)
                changed = _total(rs, f"placement_changed_{c}")
                both = _total(rs, f"both_served_{c}")
                lab = "DP" if s == "dp" else s
                w.writerow(
                    [
                        setting,
                        fam,
                        f"{lab}: placement changed (of served under both)",
                        "",
                        f"{changed} of {both}",
                    ]
                )
    return buf.getvalue()


def macro_name(*parts: str) -> str:
    """A LaTeX macro name from parts: letters only (``GPT-2`` -> ``GPTtwo``)."""
    words = {
        "0": "zero",
        "1": "one",
        "2": "two",
        "3": "three",
        "4": "four",
        "5": "five",
        "6": "six",
        "7": "seven",
        "8": "eight",
        "9": "nine",
    }
    parts = tuple(p for p in parts if p)
    s = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:]) if parts else ""
    return "".join(words.get(ch, ch) for ch in s if ch.isalnum())


def macros(results: Mapping[str, Path]) -> str:
    """``\\newcommand`` definitions of every measured figure the paper text uses."""
    out: list[str] = ["% generated by splitopt.experiments.paper from the results CSV files"]

    def define(name: str, value: str) -> None:
        out.append(rf"\newcommand{{\{name}}}{{{value}}}")

    proto = results.get("protocol")
    if proto and Path(proto).exists():
        rows = load(proto)
        for (setting, fam), rs in group(rows, "setting", "group").items():
            tag = "" if setting == "P" else str(setting)
            define(macro_name("proto", "red", tag, str(fam)), pct(charged_reduction(rs).value))
            define(
                macro_name("proto", "gain", tag, str(fam)), pct(charged_gain(rs, "greedy").value)
            )
            define(macro_name("proto", "redBoth", tag, str(fam)), pct(reduction(rs).value))
            define(
                macro_name("proto", "gainBoth", tag, str(fam)), pct(work_gain(rs, "greedy").value)
            )
            if setting == "P":
                for b in BASELINE_NAMES:
                    define(macro_name("proto", "gain", str(fam), b), pct(charged_gain(rs, b).value))
                define(macro_name("proto", "requests", str(fam)), str(_total(rs, "requests")))
                define(macro_name("proto", "servedDP", str(fam)), str(_total(rs, "feasible")))
                define(
                    macro_name("proto", "servedGreedy", str(fam)),
                    str(_total(rs, "feasible_greedy")),
                )
                define(macro_name("proto", "onlyDP", str(fam)), str(_total(rs, "only_greedy")))
        p_rows = [r for r in rows if r.get("setting") == "P"]
        if p_rows:
            define("protoSetting", _seed_text(p_rows))
    impact = results.get("calibration-impact")
    if impact and Path(impact).exists():
        rows = load(impact)
        for (setting, fam), rs in group(rows, "setting", "group").items():
            tag = "P" if setting == "P" else "Shipped"
            for model, pre in IMPACT_MODELS:
                v = model_view(rs, pre)
                m = "Cal" if model == "calibrated" else "Uncal"
                name = ("impact", tag, str(fam), m)
                define(macro_name(*name[:1], "red", *name[1:]), pct(charged_reduction(v).value))
                define(
                    macro_name(*name[:1], "gain", *name[1:]), pct(charged_gain(v, "greedy").value)
                )
                define(macro_name(*name[:1], "redBoth", *name[1:]), pct(reduction(v).value))
                define(
                    macro_name(*name[:1], "gainBoth", *name[1:]),
                    pct(work_gain(v, "greedy").value),
                )
                define(macro_name(*name[:1], "share", *name[1:]), pct(share(v, "dp")))
            changed, both = _total(rs, "placement_changed_dp"), _total(rs, "both_served_dp")
            define(
                macro_name("impact", "changed", tag, str(fam)),
                pct(changed / both) if both else "–",
            )
        if rows:
            define("impactSetting", _seed_text(rows))
    gain_path = results.get("gain")
    if gain_path and Path(gain_path).exists():
        rows = load(gain_path)
        for solver in ("dp", "dp-exact"):
            tag = "Exact" if solver == "dp-exact" else ""
            by = group([r for r in rows if r.get("solver") == solver], "group")
            for (fam,), rs in by.items():
                define(macro_name("red", tag, str(fam)), pct(reduction(rs).value))
                for b in BASELINE_NAMES:
                    define(macro_name("gain", tag, str(fam), b), pct(work_gain(rs, b).value))
                    define(macro_name("tput", tag, str(fam), b), pct(tput_gain(rs, b).value))
                if solver == "dp":
                    define(
                        macro_name("requests", str(fam)), str(sum(int(r["requests"]) for r in rs))
                    )  # type: ignore[arg-type]
        define("gainSeeds", str(len({r.get("repetition") for r in rows})))
    red_path = results.get("reduction")
    if red_path and Path(red_path).exists():
        rows = load(red_path)
        for (fam, solver), rs in group(rows, "group", "solver").items():
            define(macro_name("redBy", str(solver), str(fam)), pct(reduction(rs).value))
    thr = results.get("throughput")
    if thr and Path(thr).exists():
        rows = [r for r in load(thr) if r.get("mode") == "sustainable"]
        by = group(rows, "splitter")
        vals: dict[str, float] = {}
        for (s,), rs in by.items():
            rate = sum(float(r["sustainable_rate_per_s"]) for r in rs) / len(rs)
            u = sum(float(r["rate_util_per_s"]) for r in rs) / len(rs)
            vals[str(s)] = rate
            vals[str(s) + "util"] = u
            define(macro_name("sustain", str(s)), f"{rate:.4g}")
            define(macro_name("saturate", str(s)), f"{u:.4g}")
        if vals.get("server-only"):
            for s in ("greedy", "dp"):
                if s in vals:
                    define(macro_name("sustainRatio", s), f"{vals[s] / vals['server-only']:.3f}")
                    define(
                        macro_name("saturateRatio", s),
                        f"{vals[s + 'util'] / vals['server-onlyutil']:.3f}",
                    )
        if rows:
            # the same figures as the throughput table's note: means over its rows
            # (one seed's value once differed from the table's)
            thr_s = [float(r["threshold_s"]) for r in rows]  # type: ignore[arg-type]
            define("waitThresholdMs", f"{1000 * sum(thr_s) / len(thr_s):.1f}")
            drop, used = _total(rows, "classes_dropped"), _total(rows, "classes_used")
            define("dropClasses", str(drop // len(rows)))
            define("simClasses", str((drop + used) // len(rows) - drop // len(rows)))
    disc = results.get("discretisation")
    if disc and Path(disc).exists():
        rows = load(disc)
        for (fam, g), rs in group(rows, "family", "grid").items():
            define(
                macro_name("gap", str(fam), "N", _words(int(g))),  # type: ignore[arg-type]
                f"{100 * max(float(r['gap']) for r in rs):.3f}",
            )  # type: ignore[arg-type]
    return "\n".join(out) + "\n"


def _words(n: int) -> str:
    return {
        10: "ten",
        30: "thirty",
        100: "hundred",
        300: "threehundred",
        1000: "thousand",
        3000: "threethousand",
        10000: "tenthousand",
        0: "default",
    }.get(n, macro_name(str(n)))


def write_tables(results: Mapping[str, Path], out: Path) -> list[Path]:
    """Write every table whose CSV exists, as ``.tex`` and ``.md``, plus ``numbers.tex``."""
    out.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    jobs: list[tuple[str, str, Callable[[Sequence[Row]], Table]]] = [
        ("protocol", "table_protocol", protocol_headline_table),
        ("protocol", "table_protocol_gain", protocol_gain_table),
        ("protocol", "table_protocol_sweeps", protocol_sweep_table),
        ("gain", "table_headline", headline_table),
        ("gain", "table_headline_exact", lambda rs: headline_table(rs, "dp-exact")),
        ("gain", "table_gain", gain_table),
        ("reduction", "table_reduction", reduction_table),
        ("throughput", "table_throughput", throughput_table),
        ("discretisation", "table_discretisation", discretisation_table),
    ]
    for exp, stem, fn in jobs:
        path = results.get(exp)
        if not path or not Path(path).exists():
            continue
        rows = load(path)
        if not rows:
            continue
        t = fn(rows)
        _write(out / f"{stem}.tex", t.latex())
        _write(out / f"{stem}.md", t.markdown())
        made += [out / f"{stem}.tex", out / f"{stem}.md"]
    impact = results.get("calibration-impact")
    rows = load(impact) if impact and Path(impact).exists() else []
    if rows:
        tables = calibration_impact_tables(rows)
        _write(out / "calibration_impact.md", "\n".join(t.markdown() for t in tables))
        _write(out / "calibration_impact.tex", "\n".join(t.latex() for t in tables))
        _write(out / "calibration_impact.csv", calibration_impact_csv(rows))
        made += [out / f"calibration_impact.{ext}" for ext in ("md", "tex", "csv")]
    _write(out / "numbers.tex", macros(results))
    made.append(out / "numbers.tex")
    return made
