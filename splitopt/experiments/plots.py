"""Figures from the results CSV files only (matplotlib, PNG and PDF).

Each function reads one CSV, draws one message, and writes ``NAME.png`` and
``NAME.pdf`` into the output folder. Axes carry units; percentages are of
server work.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from splitopt.experiments.tables import (
    BASELINE_NAMES,
    PAPER_GAIN_GREEDY,
    PAPER_REDUCTION,
    SPLITTER_LABEL,
    Row,
    family_order,
    group,
    load,
    reduction,
    work_gain,
)

COLORS: dict[str, str] = {
    "greedy-skip": "#b5651d",
    "greedy-backward": "#8e4585",
    "dp": "#1b6ca8",
    "dp-exact": "#5fa8d3",
    "greedy": "#e07a1f",
    "greedy-ratio": "#c9a227",
    "best-cut": "#6a994e",
    "server-only": "#7f7f7f",
}
MARKERS: dict[str, str] = {
    "greedy-skip": "<",
    "greedy-backward": ">",
    "dp": "o",
    "dp-exact": "s",
    "greedy": "^",
    "greedy-ratio": "v",
    "best-cut": "D",
    "server-only": "x",
}


def _style() -> None:
    plt.rcParams.update(
        {
            "figure.figsize": (6.4, 3.8),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
            "legend.frameon": False,
            "savefig.bbox": "tight",
        }
    )


def _save(fig: plt.Figure, out: Path, name: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    from splitopt.outputs import replace_file  # the one output policy

    replace_file(paths[0], lambda fh: fig.savefig(fh, format="png", dpi=160), binary=True)
    replace_file(
        paths[1],
        lambda fh: fig.savefig(fh, format="pdf", metadata={"CreationDate": None}),
        binary=True,
    )
    plt.close(fig)
    return paths


def _bars_with_range(ax, xs, pooled, width, offset, color, label):  # type: ignore[no-untyped-def]
    vals = [100 * p.value for p in pooled]
    lo = [100 * (p.value - p.lo) if p.n > 1 and not math.isnan(p.lo) else 0 for p in pooled]
    hi = [100 * (p.hi - p.value) if p.n > 1 and not math.isnan(p.hi) else 0 for p in pooled]
    ax.bar(
        [x + offset for x in xs],
        vals,
        width,
        color=color,
        label=label,
        # error bars only where there is a range (more than one seed)
        yerr=[lo, hi] if any(lo) or any(hi) else None,
        capsize=2,
        error_kw={"lw": 0.8},
    )


def _paper_markers(ax, xs, fams, paper, label, offset=0.0):  # type: ignore[no-untyped-def]
    px = [x + offset for x, f in zip(xs, fams, strict=True) if f in paper]
    py = [100 * paper[f] for f in fams if f in paper]
    if px:
        ax.scatter(px, py, marker="D", s=36, color="black", zorder=5, label=label)


def plot_reduction(rows: Sequence[Row], out: Path) -> list[Path]:
    """Reduction versus server-only per family: DP and greedy beside the paper's DP figure."""
    by = group(rows, "group", "solver")
    fams = family_order(k[0] for k in by)
    xs = list(range(len(fams)))
    solvers = [s for s in ("dp", "greedy", "best-cut") if any(k[1] == s for k in by)]
    fig, ax = plt.subplots()
    w = 0.8 / max(1, len(solvers))
    for i, s in enumerate(solvers):
        pooled = [reduction(by.get((f, s), [])) for f in fams]
        _bars_with_range(
            ax, xs, pooled, w, (i - (len(solvers) - 1) / 2) * w, COLORS[s], SPLITTER_LABEL[s]
        )
    dp_off = -(len(solvers) - 1) / 2 * w if "dp" in solvers else 0.0
    _paper_markers(ax, xs, fams, PAPER_REDUCTION, "SplitLLM (paper, DP)", dp_off)
    ax.set_xticks(xs, ["all" if f == "all" else f for f in fams])
    ax.set_ylabel("server-work reduction vs server-only (%)")
    ax.set_xlabel("model family (paper-like instances)")
    ax.set_title("Server-work reduction vs server-only per family; the paper's figure beside")
    ax.legend(ncol=2, fontsize=8)
    return _save(fig, out, "fig_reduction")


def plot_gain(rows: Sequence[Row], out: Path, solver: str = "dp") -> list[Path]:
    """Work gain of the DP over each baseline per family, with the paper's gain over greedy."""
    rs = [r for r in rows if r.get("solver") == solver]
    by = group(rs, "group")
    fams = family_order(k[0] for k in by)
    xs = list(range(len(fams)))
    fig, ax = plt.subplots()
    w = 0.8 / len(BASELINE_NAMES)
    for i, b in enumerate(BASELINE_NAMES):
        pooled = [work_gain(by.get((f,), []), b) for f in fams]
        off = (i - (len(BASELINE_NAMES) - 1) / 2) * w
        _bars_with_range(ax, xs, pooled, w, off, COLORS[b], f"over {b}")
    greedy_off = -(len(BASELINE_NAMES) - 1) / 2 * w
    _paper_markers(
        ax, xs, fams, PAPER_GAIN_GREEDY, "SplitLLM figure (secondary summary; gain?)", greedy_off
    )
    ax.set_xticks(xs, ["all" if f == "all" else f for f in fams])
    ax.set_ylabel("work gain (W_B − W_DP) / W_B, both feasible (%)")
    ax.set_xlabel("model family (paper-like instances)")
    ax.set_title(f"Work gain of {SPLITTER_LABEL[solver]} over each baseline (both feasible)")
    ax.legend(fontsize=8)
    return _save(fig, out, "fig_gain")


SWEEP_AXES: dict[str, tuple[str, bool]] = {
    "sla": ("SLA (× the instance's SLA)", False),
    "uplink": ("uplink transfer time (× the instance's; 1/× = bandwidth factor)", True),
    "memory": ("client memory budget (fraction of the model's client footprint)", False),
    "prompt": ("prompt length (tokens)", True),
    "output": ("output length (tokens)", True),
    "device": ("client device", False),
}


def plot_sweep(rows: Sequence[Row], sweep: str, out: Path) -> list[Path]:
    """Reduction versus server-only as one parameter of llm-edge varies."""
    rs = [r for r in rows if r.get("sweep") == sweep]
    if not rs:
        return []
    label, logx = SWEEP_AXES.get(sweep, (sweep, False))
    by = group(rs, "solver", "value")
    solvers = [s for s in ("dp", "greedy", "best-cut") if any(k[0] == s for k in by)]
    values = list(dict.fromkeys(r["value"] for r in rs))
    numeric = all(isinstance(v, (int, float)) for v in values)
    if numeric:
        values = sorted(values)  # type: ignore[type-var]
    fig, ax = plt.subplots()
    for s in solvers:
        ys = [100 * reduction(by.get((s, v), [])).value for v in values]
        xs = values if numeric else list(range(len(values)))
        ax.plot(xs, ys, marker=MARKERS[s], color=COLORS[s], label=SPLITTER_LABEL[s])
    if numeric and logx:
        ax.set_xscale("log", base=2)
    if not numeric:
        ax.set_xticks(range(len(values)), [str(v) for v in values], rotation=30, ha="right")
    ax.set_xlabel(label)
    ax.set_ylabel("server-work reduction vs server-only (%)")
    ax.set_title(f"llm-edge: reduction as the {sweep} varies")
    ax.legend(fontsize=8)
    return _save(fig, out, f"fig_sweep_{sweep}")


def plot_throughput(rows: Sequence[Row], out: Path) -> list[Path]:
    """Mean and p95 waiting time versus arrival rate, with each splitter's sustainable rate.

    The rate axis is λ × E[S_server-only]: 1 is the rate that saturates the server
    under server-only splitting, so seeds with different mixes pool. A point is drawn
    only where the queue is stable (ρ < 1) for every seed."""
    rate_rows = [r for r in rows if r.get("mode") == "rate"]
    sus = {
        k[0]: v
        for k, v in group([r for r in rows if r.get("mode") == "sustainable"], "splitter").items()
    }
    by = group(rate_rows, "splitter", "rate_norm")
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), sharex=True)
    for s in ("server-only", "greedy", "dp"):
        keys = sorted(k[1] for k in by if k[0] == s and all(r.get("stable") for r in by[k]))  # type: ignore[type-var]
        if not keys:
            continue
        for ax, c in zip(axes, ("mean_wait_s", "p95_wait_s"), strict=True):
            ys = [1000 * _mean(by[(s, k)], c) for k in keys]
            ax.plot(keys, ys, marker=MARKERS[s], ms=3, color=COLORS[s], label=SPLITTER_LABEL[s])
            if s in sus:
                ax.axvline(_mean(sus[s], "sustainable_rate_norm"), color=COLORS[s], ls="--", lw=0.9)
    thr = [_mean(v, "threshold_s") for v in sus.values()]
    if thr:
        axes[1].axhline(1000 * thr[0], color="black", lw=0.8, ls=":", label="threshold θ")
    so_rate = _mean(sus.get("server-only", []), "rate_util_per_s")
    for ax, t in zip(axes, ("mean waiting time (ms)", "p95 waiting time (ms)"), strict=True):
        ax.set_yscale("log")
        ax.set_xlabel("arrival rate λ (× server-only saturation rate)")
        ax.set_ylabel(t)
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    fig.suptitle(
        "Server queue: splitting sustains a higher arrival rate than server-only "
        f"(dashed: sustainable rates; 1.0 ≈ {so_rate:.3g} req/s)",
        fontsize=10,
    )
    return _save(fig, out, "fig_throughput")


def _mean(rs: Sequence[Row], k: str) -> float:
    v = [float(r[k]) for r in rs if r.get(k) is not None]  # type: ignore[arg-type]
    return sum(v) / len(v) if v else math.nan


def plot_runtime(rows: Sequence[Row], out: Path) -> list[Path]:
    """Solver runtime against layers, grid size and number of requests (log-log)."""
    paths: list[Path] = []
    labels = {
        "layers": "layers per request (L)",
        "grid": "grid size N (ticks per SLA)",
        "requests": "requests (distinct chains)",
    }
    for axis, xlabel in labels.items():
        rs = [r for r in rows if r.get("axis") == axis]
        if not rs:
            continue
        fig, ax = plt.subplots()
        by = group(rs, "solver", axis)
        solvers = list(dict.fromkeys(r["solver"] for r in rs))
        for s in solvers:
            xs = sorted(k[1] for k in by if k[0] == s)  # type: ignore[type-var]
            ys = [_mean(by[(s, x)], "solve_runtime_s") for x in xs]
            ax.plot(
                xs,
                ys,
                marker=MARKERS.get(str(s), "."),
                color=COLORS.get(str(s)),
                label=SPLITTER_LABEL.get(str(s), str(s)),
            )
        ax.set_xscale("log", base=2 if axis != "grid" else 10)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("wall-clock solve time (s)")
        fixed = {
            "layers": "4 requests, grid 1000",
            "grid": "32 layers, 4 requests",
            "requests": "32 layers, grid 1000",
        }[axis]
        ax.set_title(f"Runtime vs {axis} ({fixed}; random chains)")
        ax.legend(fontsize=8, ncol=2)
        paths += _save(fig, out, f"fig_runtime_{axis}")
    return paths


def plot_discretisation(rows: Sequence[Row], out: Path) -> list[Path]:
    """Grid-DP gap to the exact DP against grid size."""
    fig, ax = plt.subplots()
    by = group(rows, "family", "grid")
    for f in sorted({k[0] for k in by}):
        xs = sorted(k[1] for k in by if k[0] == f and int(k[1]) > 0)  # type: ignore[type-var,arg-type]
        ys = [100 * max(float(r["gap"]) for r in by[(f, x)]) for x in xs]  # type: ignore[arg-type]
        ax.plot(xs, ys, marker="o", label=str(f))
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("grid size N (ticks per SLA)")
    ax.set_ylabel("extra server work vs exact DP (%)")
    ax.set_title("The grid DP's gap to the exact optimum shrinks with the grid")
    ax.legend(fontsize=8)
    return _save(fig, out, "fig_discretisation")


#: x-axis titles of the protocol's declared sweeps (``paper/PROTOCOL.md``).
PROTOCOL_SWEEP_TITLES: dict[str, str] = {
    "sla_anchor": "SLA anchoring",
    "memory": "client memory budget (ours when on)",
    "work_unit": "unit of server work",
    "decode": "phases costed",
}


def plot_protocol_sweep(rows: Sequence[Row], sweep: str, out: Path) -> list[Path]:
    """One declared sweep of the protocol, all families pooled: the DP's reduction vs
    server-only and gain over greedy, over all requests (unserved charged their
    server-only work, solid) and over the requests both serve (hatched)."""
    from splitopt.experiments.protocol import PROTOCOL_P_LABEL, PROTOCOL_SETTINGS
    from splitopt.experiments.tables import charged_gain, charged_reduction

    alls = [r for r in rows if r.get("group") == "all"]
    by = group(alls, "setting")
    names = ["P"] + [n for n, (sw, _, _) in PROTOCOL_SETTINGS.items() if sw == sweep]
    names = [n for n in names if (n,) in by]
    if len(names) < 2:
        return []
    labels = [PROTOCOL_P_LABEL[sweep] if n == "P" else PROTOCOL_SETTINGS[n][1] for n in names]
    xs = list(range(len(names)))
    series = [
        ("reduction vs server-only: all", lambda rs: charged_reduction(rs), COLORS["dp"], None),
        ("reduction: both feasible", lambda rs: reduction(rs), COLORS["dp"], "//"),
        ("gain over greedy: all", lambda rs: charged_gain(rs, "greedy"), COLORS["greedy"], None),
        (
            "gain over greedy: both feasible",
            lambda rs: work_gain(rs, "greedy"),
            COLORS["greedy"],
            "//",
        ),
    ]
    fig, ax = plt.subplots()
    w = 0.8 / len(series)
    for i, (label, fn, color, hatch) in enumerate(series):
        pooled = [fn(by[(n,)]) for n in names]
        off = (i - (len(series) - 1) / 2) * w
        _bars_with_range(ax, xs, pooled, w, off, color, label)
        if hatch:
            for patch in ax.patches[-len(xs) :]:
                patch.set_hatch(hatch)
                patch.set_facecolor("white")
                patch.set_edgecolor(color)
    ax.set_xticks(xs, labels, fontsize=8)
    ax.set_ylabel("percent of server work")
    ax.set_xlabel(PROTOCOL_SWEEP_TITLES.get(sweep, sweep))
    ax.set_title(f"Declared sweep ({sweep}): DP (grid), paper-like, all families", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, out, f"fig_protocol_{sweep}")


def make_figures(results: Mapping[str, Path], out: Path) -> list[Path]:
    """Every figure whose CSV exists (``results``: experiment name -> CSV path)."""
    _style()
    made: list[Path] = []

    def rows(name: str) -> list[Row]:
        p = results.get(name)
        return load(p) if p and Path(p).exists() else []

    if r := rows("protocol"):
        for sweep in PROTOCOL_SWEEP_TITLES:
            made += plot_protocol_sweep(r, sweep, out)
    if r := rows("reduction"):
        made += plot_reduction(r, out)
    if r := rows("gain"):
        made += plot_gain(r, out)
    if r := rows("sweeps"):
        for sweep in SWEEP_AXES:
            made += plot_sweep(r, sweep, out)
    if r := rows("throughput"):
        made += plot_throughput(r, out)
    if r := rows("runtime"):
        made += plot_runtime(r, out)
    if r := rows("discretisation"):
        made += plot_discretisation(r, out)
    return made
