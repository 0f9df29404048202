"""The BPRR paper's sweeps (Sun et al., arXiv:2512.21884, Figs 7-10):
mean per-token time, with 95 % Student-t confidence intervals over Monte-Carlo runs,
against (a) the number of servers, (b) eta (fraction of A100s), (c) the arrival rate
lambda and (d) the output length l_out, for PETALS, CG-BP + WS-RR, the follow-up's
GBP-CR + JFFC and our sim-opt (and, in the full version, the paper's ablations); and
time to first token vs the remaining per-token time from the same runs.

Sweep values: the authors' sweep scripts (``General_varying_C_online.m``,
``..._eta_online.m``, ``..._lamda_online.m``, ``..._lmax_online.m`` in
TingyangSunJeff/LLM_inference_simulator) fix them per topology; we take them where
they exist and label every other choice as ours (:data:`SWEEPS`, each setting's
``source``). Differences from those scripts (ours): 10 runs (they use 5 or 10); the
paper's server constants of SPEC-PLACEMENT P4 (M = 79.13 / 8.2 GB; the sweep scripts
use 86.13 / 9.1 GB); AboveNet has 22 connected nodes in ``topohub`` so at most 21
servers (the script's 22 becomes 21); GTS-CE is substituted by TataNld; the clustered
scenario (2 A100 + 7 MIG in the paper) is swept by us (round(C eta) A100s in site 1,
the rest MIG slices in site 2, the client 100 ms away).

One task = one (sweep point, policy, Monte-Carlo run) row of ``online.run_row``.
Delays: none by default; ``--delays authors`` adds the sweep scripts' 250 s / 60 s
per-request constants (labelled in every output).

    splitopt experiment bprr-sweep-servers [--quick]        # or -eta, -rate, -lout
    python -m splitopt.experiments.bprr_paper --quick       # all four + TTFT, files
    python -m splitopt.experiments.online --experiment bprr-sweep-rate --quick
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from splitopt.experiments.bprr_policies import POLICIES, QUICK_POLICIES
from splitopt.experiments.harness import Task, experiment
from splitopt.experiments.policy_display import COLORS, LABELS, MARKERS  # one display table

_RUNNER = "bprr-online"  # registered name (experiments.harness)
SCENARIO_LABELS: dict[str, str] = {
    "clustered": "clustered",
    "abvt": "AboveNet",
    "bellcanada": "BellCanada",
    "gtsce": "TataNld (for GTS-CE)",
}
#: Monte-Carlo runs per point: full / quick (ours; the authors' scripts use 5 or 10).
RUNS = (10, 3)
#: Scenarios of the quick version.
QUICK_SCENARIOS = ("clustered", "abvt")


@dataclass(frozen=True)
class Setting:
    """One sweep on one scenario: the fixed point and the swept values.

    ``requests_window_s``: when set, the number of requests is round(window x lambda)
    (the authors' lambda sweep: 200 s of arrivals) instead of ``num_requests``."""

    scenario: str
    num_servers: int
    eta: float
    rate: float
    num_requests: int
    l_out: int
    values: tuple[float, ...]
    source: str
    requests_window_s: float | None = None


@dataclass(frozen=True)
class Sweep:
    name: str  # servers | eta | rate | lout
    param: str  # the run_row parameter swept
    axis: str  # axis label
    script: str  # the authors' sweep script with the same sweep
    settings: tuple[Setting, ...]

    @property
    def experiment(self) -> str:
        return f"bprr-sweep-{self.name}"


def _round(x: float) -> int:
    """MATLAB's round (half away from zero), as the authors' scripts."""
    return math.floor(x + 0.5)


_A = "authors' "
SWEEPS: dict[str, Sweep] = {
    s.name: s
    for s in (
        Sweep(
            "servers",
            "num_servers",
            "number of servers",
            "General_varying_C_online.m",
            (
                Setting("clustered", 9, 0.2, 0.5, 50, 128, (6, 9, 12, 15, 20), "ours"),
                Setting(
                    "abvt",
                    9,
                    0.2,
                    0.5,
                    50,
                    128,
                    (6, 10, 15, 20, 21),
                    _A + "General_varying_C_online.m (22 -> 21: topohub's AboveNet has 22 nodes)",
                ),
                Setting(
                    "bellcanada",
                    19,
                    0.2,
                    0.5,
                    50,
                    128,
                    (10, 15, 20, 25, 40),
                    _A + "General_varying_C_online.m (its commented alternative)",
                ),
                Setting("gtsce", 60, 0.2, 0.5, 50, 128, (20, 40, 60, 80, 100), "ours"),
            ),
        ),
        Sweep(
            "eta",
            "eta",
            "fraction of A100 servers η",
            "General_varying_eta_online.m",
            (
                Setting("clustered", 9, 0.2, 0.5, 50, 128, (0.1, 0.2, 0.3, 0.4, 0.5), "ours"),
                Setting(
                    "abvt",
                    9,
                    0.2,
                    0.5,
                    50,
                    128,
                    (0.1, 0.2, 0.3, 0.4, 0.5),
                    _A + "General_varying_eta_online.m (AboveNet/BellCanada values)",
                ),
                Setting(
                    "bellcanada",
                    19,
                    0.2,
                    0.5,
                    50,
                    128,
                    (0.1, 0.2, 0.3, 0.4, 0.5),
                    _A + "General_varying_eta_online.m (AboveNet/BellCanada values)",
                ),
                Setting(
                    "gtsce",
                    60,
                    0.2,
                    0.5,
                    50,
                    128,
                    (0.01, 0.03, 0.06, 0.1, 0.3),
                    _A + "General_varying_eta_online.m (GTS-CE values)",
                ),
            ),
        ),
        Sweep(
            "rate",
            "rate",
            "arrival rate λ (requests/s)",
            "General_varying_lamda_online.m",
            tuple(
                Setting(
                    sc,
                    n,
                    0.2,
                    0.5,
                    100,
                    128,
                    (0.05, 0.1, 0.5, 1.0, 2.0),
                    (
                        _A + "General_varying_lamda_online.m (AboveNet; N_R = round(200 λ))"
                        if sc == "abvt"
                        else "ours (the AboveNet script's values; N_R = round(200 λ))"
                    ),
                    requests_window_s=200.0,
                )
                for sc, n in (("clustered", 9), ("abvt", 9), ("bellcanada", 19), ("gtsce", 60))
            ),
        ),
        Sweep(
            "lout",
            "l_out",
            "output length l_out (tokens)",
            "General_varying_lmax_online.m",
            tuple(
                Setting(
                    sc,
                    n,
                    0.2,
                    0.5,
                    100,
                    128,
                    (64, 128, 256, 384, 512),
                    (
                        _A + "General_varying_lmax_online.m (GTS-CE)"
                        if sc == "gtsce"
                        else "ours (the GTS-CE script's values)"
                    ),
                )
                for sc, n in (("clustered", 9), ("abvt", 9), ("bellcanada", 19), ("gtsce", 60))
            ),
        ),
    )
}


def point_params(setting: Setting, param: str, value: float) -> dict[str, Any]:
    """run_row's parameters at one sweep point (without policy, run and delays)."""
    p: dict[str, Any] = {
        "scenario": setting.scenario,
        "num_servers": setting.num_servers,
        "eta": setting.eta,
        "rate": setting.rate,
        "num_requests": setting.num_requests,
        "l_out": setting.l_out,
    }
    p[param] = int(value) if param in ("num_servers", "l_out") else float(value)
    if setting.requests_window_s is not None:
        p["num_requests"] = max(1, _round(setting.requests_window_s * p["rate"]))
    return p


def sweep_tasks(
    name: str,
    seed: int = 0,
    repetitions: int = 1,
    quick: bool = False,
    delays: str = "none",
    runs: int | None = None,
    scenarios: Sequence[str] | None = None,
    policies: Sequence[str] | None = None,
) -> Iterator[Task]:
    """The tasks of sweep ``name`` (a key of :data:`SWEEPS`); ``runs`` Monte-Carlo runs
    (default 10, quick 3) x ``repetitions``; quick: the clustered and AboveNet settings
    and four policies (PETALS, CG-BP + WS-RR, GBP-CR + JFFC, sim-opt)."""
    from splitopt.errors import ExperimentError

    if name not in SWEEPS:
        raise ExperimentError(f"unknown sweep {name!r}; valid: {', '.join(SWEEPS)}")
    if delays not in ("none", "authors"):
        raise ExperimentError(f"delays must be 'none' or 'authors', got {delays!r}")
    sw = SWEEPS[name]
    n_runs = (runs if runs is not None else RUNS[1 if quick else 0]) * repetitions
    scen = tuple(scenarios) if scenarios else (QUICK_SCENARIOS if quick else None)
    pols = tuple(policies) if policies else (QUICK_POLICIES if quick else POLICIES)
    for st in sw.settings:
        if scen is not None and st.scenario not in scen:
            continue
        for v in st.values:
            base = point_params(st, sw.param, v)
            for policy in pols:
                for r in range(seed, seed + n_runs):
                    yield Task.make(
                        sw.experiment,
                        _RUNNER,
                        **base,
                        policy=policy,
                        run=r,
                        delays=delays,
                    )


def _register(name: str) -> None:
    sw = SWEEPS[name]

    def tasks(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
        return sweep_tasks(name, seed, repetitions, quick)

    tasks.__doc__ = f"BPRR sweep (Figs 7-10): per-token time vs {sw.axis}"
    experiment(
        sw.experiment,
        f"BPRR sweep (Figs 7-10): mean per-token time vs {sw.axis}, PETALS / CG-BP+WS-RR / "
        "GBP-CR+JFFC / sim-opt (+ ablations), 95 % CI over runs",
    )(tasks)


for _name in SWEEPS:
    _register(_name)


# -- aggregation ------------------------------------------------------------------------------
def mean_ci(values: Sequence[float]) -> tuple[float, float, int]:
    """(mean, 95 % Student-t CI half-width, n) of the finite values; the half-width is
    nan below two values."""
    from splitopt.placement.simulate import t_quantile

    v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
    if v.size == 0:
        return math.nan, math.nan, 0
    if v.size < 2:
        return float(v[0]), math.nan, 1
    return float(v.mean()), float(t_quantile(v.size) * v.std(ddof=1) / math.sqrt(v.size)), v.size


def _f(row: Mapping[str, str], key: str) -> float:
    v = row.get(key, "")
    try:
        return float(v) if v not in (None, "") else math.nan
    except ValueError:
        return math.nan


@dataclass(frozen=True)
class Cell:
    """One (scenario, x, policy) point: means and CI half-widths over runs (s)."""

    scenario: str
    x: float
    policy: str
    n: int
    per_token: float
    per_token_ci: float
    ttft: float
    ttft_ci: float
    rest: float  # remaining per-token time (tokens after the first), s/token
    rest_ci: float
    ttft_share: float  # mean over runs of (TTFT / l_out) / per-token time
    served: float  # mean fraction served
    lower_bound: float
    errors: int


def cells(rows: Sequence[Mapping[str, str]], param: str) -> list[Cell]:
    """Aggregate a sweep CSV's rows by (scenario, swept value, policy)."""
    groups: dict[tuple[str, float, str], list[Mapping[str, str]]] = {}
    for r in rows:
        key = (r["scenario"], float(r[param]), r["policy"])
        groups.setdefault(key, []).append(r)
    out = []
    for (scen, x, pol), rs in sorted(groups.items()):
        ok = [r for r in rs if not r.get("error")]
        pt = mean_ci([_f(r, "per_token_mean") for r in ok])
        tt = mean_ci([_f(r, "ttft_mean") for r in ok])
        re = mean_ci([_f(r, "remaining_per_token_mean") for r in ok])
        share = [
            _f(r, "ttft_mean") / _f(r, "l_out") / _f(r, "per_token_mean")
            for r in ok
            if _f(r, "per_token_mean") > 0
        ]
        sh = mean_ci(share)[0]
        served = mean_ci([_f(r, "served") for r in ok])[0]
        lb = mean_ci([_f(r, "per_token_lower_bound") for r in ok])[0]
        out.append(
            Cell(scen, x, pol, pt[2], pt[0], pt[1], tt[0], tt[1], re[0], re[1], sh, served, lb,
                 len(rs) - len(ok))
        )  # fmt: skip
    return out


def _pm(m: float, ci: float, digits: int = 3) -> str:
    if not math.isfinite(m):
        return "—"
    return f"{m:.{digits}f} ± {ci:.{digits}f}" if math.isfinite(ci) else f"{m:.{digits}f}"


def _x(param: str, x: float) -> str:
    return f"{int(x)}" if param in ("num_servers", "l_out") else f"{x:g}"


def _mode(rows: Sequence[Mapping[str, str]]) -> tuple[int, str]:
    runs = {int(r["run"]) for r in rows} if rows else set()
    delays = sorted({r.get("delays", "none") for r in rows}) or ["none"]
    return len(runs), "/".join(delays)


def sweep_table(rows: Sequence[Mapping[str, str]], name: str, quick: bool) -> Any:
    """The sweep's table (a :class:`splitopt.experiments.tables.Table`): per (scenario,
    x) every policy's mean per-token time +- 95 % CI, the no-wait lower bound, and CG-BP
    + WS-RR's and sim-opt's change against PETALS."""
    from splitopt.experiments.tables import Table

    sw = SWEEPS[name]
    cs = cells(rows, sw.param)
    pols = [p for p in LABELS if any(c.policy == p for c in cs)]
    by = {(c.scenario, c.x, c.policy): c for c in cs}
    points = sorted({(c.scenario, c.x) for c in cs}, key=lambda k: (_scen_order(k[0]), k[1]))
    header = ["scenario", sw.axis, *[LABELS[p] for p in pols], "no-wait bound"]
    header += ["CG-BP vs PETALS", "sim-opt vs PETALS"]
    body = []
    for scen, x in points:
        row = [SCENARIO_LABELS.get(scen, scen), _x(sw.param, x)]
        for p in pols:
            c = by.get((scen, x, p))
            cell = _pm(c.per_token, c.per_token_ci) if c else ""
            if c and c.served < 1:
                cell += f" ({100 * c.served:.0f} % served)"
            row.append(cell)
        lbs = [by[(scen, x, p)].lower_bound for p in pols if (scen, x, p) in by]
        row.append(f"{np.nanmean(lbs):.3f}" if lbs and np.isfinite(lbs).any() else "")
        pet = by.get((scen, x, "petals+petals"))
        for p in ("cg-bp+ws-rr", "sim-opt+ws-rr"):
            c = by.get((scen, x, p))
            ok = c and pet and pet.per_token > 0 and math.isfinite(c.per_token)
            row.append(f"{100 * (c.per_token / pet.per_token - 1):+.0f} %" if ok else "")  # type: ignore[union-attr]
        body.append(row)
    n_runs, delays = _mode(rows)
    caption = (
        f"BPRR sweep (the paper's Figs 7–10): mean per-token time (s) ± 95 % CI over {n_runs} "
        f"Monte-Carlo runs vs {sw.axis} ({'quick' if quick else 'full'} version; "
        f"authors' constant delays: {'on' if delays == 'authors' else delays})"
    )
    settings = "; ".join(
        f"{SCENARIO_LABELS.get(s.scenario, s.scenario)}: "
        + ", ".join(
            f"{k} {v}"
            for k, v in (
                ("C", s.num_servers),
                ("η", s.eta),
                ("λ", s.rate),
                ("N_R", "round(200 λ)" if s.requests_window_s else s.num_requests),
                ("l_out", s.l_out),
            )
            if k != _short(sw.param)
        )
        + f" [{s.source}]"
        for s in sw.settings
        if any(c.scenario == s.scenario for c in cs)
    )
    errors = sum(c.errors for c in cs)
    note = (
        f"Fixed values per scenario (source in brackets): {settings}. "
        "No-wait bound: the least T_r over route covers per request, divided by l_out "
        "(no policy can do better on average). "
        + (f"{errors} errored rows dropped. " if errors else "")
    )
    return Table(caption, header, body, label=f"tab:bprr-sweep-{name}", note=note.strip())


def _short(param: str) -> str:
    return {"num_servers": "C", "eta": "η", "rate": "λ", "l_out": "l_out"}[param]


def _scen_order(s: str) -> int:
    order = list(SCENARIO_LABELS)
    return order.index(s) if s in order else len(order)


def ttft_table(
    rows: Sequence[Mapping[str, str]],
    quick: bool,
    param: str = "rate",
    policies: Sequence[str] = QUICK_POLICIES,
) -> Any:
    """Time to first token vs the rest, from the lambda sweep's runs: per (scenario,
    lambda) and policy the mean TTFT (s) +- 95 % CI over runs with its share of the mean
    per-token time, and the mean time per remaining token (s; tokens 2..l_out)."""
    from splitopt.experiments.tables import Table

    cs = cells(rows, param)
    by = {(c.scenario, c.x, c.policy): c for c in cs}
    pols = [p for p in policies if any(c.policy == p for c in cs)]
    header = ["scenario", "λ"]
    for p in pols:
        header += [f"{LABELS.get(p, p)}: TTFT (s)", f"{LABELS.get(p, p)}: rest (s/token)"]
    body = []
    points = sorted({(c.scenario, c.x) for c in cs}, key=lambda k: (_scen_order(k[0]), k[1]))
    for scen, x in points:
        row = [SCENARIO_LABELS.get(scen, scen), _x(param, x)]
        for p in pols:
            c = by.get((scen, x, p))
            if c is None or not math.isfinite(c.ttft):
                row += ["—", "—"]
                continue
            share = f" ({100 * c.ttft_share:.0f} %)" if math.isfinite(c.ttft_share) else ""
            digits = 1 if c.ttft >= 100 else 2
            row += [_pm(c.ttft, c.ttft_ci, digits) + share, f"{c.rest:.3f}"]
        body.append(row)
    n_runs, delays = _mode(rows)
    caption = (
        "Time to first token vs the remaining tokens (the paper's decomposition): mean TTFT "
        f"± 95 % CI over {n_runs} runs (in brackets: its share of the mean per-token time) "
        "and the mean time per remaining token, l_out = 128 "
        f"({'quick' if quick else 'full'} version; authors' constant delays: "
        f"{'on' if delays == 'authors' else delays})"
    )
    note = (
        "Per-token time × l_out = TTFT + (l_out − 1) × rest; TTFT holds all the waiting "
        "(for cache, or PETALS's retries) and the prefill; the rest is the route's decode "
        "time. Same runs as the λ sweep (bprr_sweep_rate.csv: every policy, CIs of the rest)."
    )
    return Table(caption, header, body, label="tab:bprr-ttft", note=note)


# -- figures ---------------------------------------------------------------------------------


def plot_sweep(rows: Sequence[Mapping[str, str]], name: str, out: Path, stem: str) -> list[Path]:
    """One panel per scenario: mean per-token time (log scale) vs the swept value, one
    line per policy with 95 % CI error bars, the no-wait bound dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    from splitopt.experiments.plots import _save, _style

    _style()
    sw = SWEEPS[name]
    cs = cells(rows, sw.param)
    scens = sorted({c.scenario for c in cs}, key=_scen_order)
    pols = [p for p in LABELS if any(c.policy == p for c in cs)]
    fig, axes = plt.subplots(
        1, max(len(scens), 1), figsize=(3.2 * max(len(scens), 1), 3.0), squeeze=False
    )
    for ax, scen in zip(axes[0], scens, strict=False):
        xs = sorted({c.x for c in cs if c.scenario == scen})
        pos = {x: i for i, x in enumerate(xs)}
        k = len(pols)
        for i, p in enumerate(pols):
            pts = [c for c in cs if c.scenario == scen and c.policy == p]
            pts.sort(key=lambda c: c.x)
            shift = (i - (k - 1) / 2) * 0.06
            cis = [c.per_token_ci for c in pts]
            # no error bars where there is no interval (one Monte-Carlo run)
            has_ci = any(math.isfinite(v) for v in cis)
            ax.errorbar(
                [pos[c.x] + shift for c in pts],
                [c.per_token for c in pts],
                yerr=[v if math.isfinite(v) else 0 for v in cis] if has_ci else None,
                label=LABELS[p],
                color=COLORS.get(p),
                marker=MARKERS.get(p, "o"),
                markersize=4,
                linewidth=1.2,
                capsize=2,
            )
        lb = []
        for x in xs:
            v = [c.lower_bound for c in cs if c.scenario == scen and c.x == x]
            lb.append(float(np.nanmean(v)) if v and np.isfinite(v).any() else math.nan)
        ax.plot(range(len(xs)), lb, ":", color="#7f7f7f", label="no-wait bound")
        ax.set_xticks(range(len(xs)), [_x(sw.param, x) for x in xs])
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_title(SCENARIO_LABELS.get(scen, scen))
        ax.set_xlabel(sw.axis)
    axes[0][0].set_ylabel("mean per-token time (s)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if "no-wait bound" in labels:  # the bound last
        k = labels.index("no-wait bound")
        handles.append(handles.pop(k))
        labels.append(labels.pop(k))
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8,
               bbox_to_anchor=(0.5, -0.02 - 0.06 * math.ceil(len(labels) / 4)))  # fmt: skip
    fig.tight_layout()
    return _save(fig, out, stem)


def plot_ttft(
    rows: Sequence[Mapping[str, str]], out: Path, stem: str, rate: float = 0.5
) -> list[Path]:
    """Stacked bars per scenario and policy at one lambda: TTFT / l_out (hatched) and the
    rest of the per-token time, 95 % CI of the total as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from splitopt.experiments.plots import _save, _style

    _style()
    cs = [c for c in cells(rows, "rate") if abs(c.x - rate) < 1e-12]
    scens = sorted({c.scenario for c in cs}, key=_scen_order)
    pols = [p for p in LABELS if any(c.policy == p for c in cs)]
    fig, axes = plt.subplots(
        1, max(len(scens), 1), figsize=(3.2 * max(len(scens), 1), 3.0), squeeze=False
    )
    for ax, scen in zip(axes[0], scens, strict=False):
        for i, p in enumerate(pols):
            c = next((c for c in cs if c.scenario == scen and c.policy == p), None)
            if c is None or not math.isfinite(c.per_token):
                continue
            first = c.per_token * c.ttft_share
            ax.bar(i, first, color=COLORS.get(p), hatch="//", alpha=0.55, edgecolor="black",
                   linewidth=0.5)  # fmt: skip
            ax.bar(i, c.per_token - first, bottom=first, color=COLORS.get(p), edgecolor="black",
                   linewidth=0.5)  # fmt: skip
            if math.isfinite(c.per_token_ci):
                ax.errorbar(i, c.per_token, yerr=c.per_token_ci, color="black", capsize=2)
        ax.set_xticks(range(len(pols)), [LABELS[p] for p in pols], rotation=45, ha="right",
                      fontsize=7)  # fmt: skip
        ax.set_title(f"{SCENARIO_LABELS.get(scen, scen)}, λ = {rate:g}")
    axes[0][0].set_ylabel("per-token time (s): TTFT/l_out hatched")
    fig.tight_layout()
    return _save(fig, out, stem)


# -- files ------------------------------------------------------------------------------------
def write_outputs(
    csvs: Mapping[str, Path], out: Path, quick: bool, prefix: str = "bprr_"
) -> list[Path]:
    """From the sweep CSVs (sweep name -> CSV): per sweep ``{prefix}sweep_NAME.{csv,md,
    tex,pdf,png}`` and, from the lambda sweep, ``{prefix}ttft.{md,tex,pdf,png}``; the CSV
    copy holds only the rows of the sweep's own experiment, sorted by task index (the
    summary of every point: :func:`splitopt.experiments.bprr_sweep_summary.write_summary`)."""
    from splitopt.experiments.harness import read_csv_rows
    from splitopt.experiments.tables import _write

    written: list[Path] = []
    for name, path in csvs.items():
        sw = SWEEPS[name]
        rows = [r for r in read_csv_rows(path) if r.get("experiment") == sw.experiment]
        if not rows:
            continue
        stem = f"{prefix}sweep_{name}"
        written.append(_copy_csv(path, sw.experiment, out / f"{stem}.csv"))
        t = sweep_table(rows, name, quick)
        _write(out / f"{stem}.md", t.markdown())
        _write(out / f"{stem}.tex", _tex(t))
        written += [out / f"{stem}.md", out / f"{stem}.tex"]
        written += plot_sweep(rows, name, out, stem)
        if name == "rate":
            t = ttft_table(rows, quick)
            _write(out / f"{prefix}ttft.md", t.markdown())
            _write(out / f"{prefix}ttft.tex", _tex(t))
            written += [out / f"{prefix}ttft.md", out / f"{prefix}ttft.tex"]
            written += plot_ttft(rows, out, f"{prefix}ttft")
    return written


def _tex(table: Any) -> str:
    """The table's LaTeX with the characters ``inputenc``'s utf8 lacks made math (eta,
    plus-minus)."""
    return table.latex().replace("η", r"$\eta$").replace("±", r"$\pm$")


def _copy_csv(src: Path, experiment_name: str, dst: Path) -> Path:
    import csv
    import io

    from splitopt.experiments.harness import read_csv_rows
    from splitopt.experiments.tables import _write

    rows = [r for r in read_csv_rows(src) if r.get("experiment") == experiment_name]
    rows.sort(key=lambda r: int(r.get("task_index") or 0))
    drop = {"timestamp", "git_commit", "splitopt_version", "runtime_s"}
    fields = [f for f in rows[0] if f not in drop] if rows else []
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    _write(dst, buf.getvalue())
    return dst
