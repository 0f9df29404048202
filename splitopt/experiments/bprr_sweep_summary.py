"""The BPRR sweeps (Figs 7-10) summarised at every point, for the prose that quotes them:
``{prefix}sweep_summary.md`` beside the per-sweep tables of
:mod:`splitopt.experiments.bprr_sweeps` (written with them, from the same CSVs).

* per sweep and scenario: CG-BP + WS-RR's change against PETALS in mean per-token time,
  minimum to maximum over the sweep's points where both served requests, the points
  where CG-BP + WS-RR is the slower one and those where PETALS serves nothing;
* per point: every policy's mean per-token time (s, two decimals), which policy is
  lowest, and sim-opt minus GBP-CR + JFFC and minus CG-BP + WS-RR paired by run (mean
  +- 95 % Student-t CI, s per token).

    python -m splitopt.experiments.bprr_paper --no-run    # rewrites it with the tables
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from splitopt.experiments.bprr_sweeps import (
    SCENARIO_LABELS,
    SWEEPS,
    _mode,
    _scen_order,
    _x,
    cells,
    mean_ci,
)
from splitopt.experiments.policy_display import LABELS

PETALS = "petals+petals"
CGBP = "cg-bp+ws-rr"
GBP = "gbp-cr+jffc"
OURS = "sim-opt+ws-rr"


def _paired(rows: Sequence[Mapping[str, str]], param: str, key: tuple, a: str, b: str) -> str:
    """a minus b paired by run at the point ``key`` = (scenario, x), 's +- ci' or ''."""
    per: dict[str, dict[int, float]] = {a: {}, b: {}}
    for r in rows:
        if r.get("error") or (r["scenario"], float(r[param])) != key or r["policy"] not in per:
            continue
        v = float(r["per_token_mean"]) if r.get("per_token_mean") not in (None, "") else math.nan
        per[r["policy"]][int(r["run"])] = v
    common = sorted(set(per[a]) & set(per[b]))
    d = [per[a][i] - per[b][i] for i in common]
    m, h, n = mean_ci(d)
    if n == 0:
        return "—"
    return f"{m:+.3f} ± {h:.3f}" if math.isfinite(h) else f"{m:+.3f}"


def _pct(c: float, p: float) -> float:
    return 100 * (c / p - 1)


def summary(rows_by_sweep: Mapping[str, Sequence[Mapping[str, str]]], stem: str) -> str:
    """Markdown: the two tables of the module docstring, from each sweep's CSV rows
    (sweep name -> rows); ``stem`` names the per-sweep files (``bprr_sweep`` or
    ``bprr_authors_sweep``)."""
    names = [n for n in SWEEPS if rows_by_sweep.get(n)]
    all_rows = [r for n in names for r in rows_by_sweep[n]]
    n_runs, delays = _mode(all_rows)
    out = [
        "# BPRR sweeps (Figs 7–10): every point summarised",
        "",
        f"Made from `{stem}_{{{','.join(names)}}}.csv` by `python -m "
        "splitopt.experiments.bprr_paper` "
        f"({n_runs} Monte-Carlo runs per point; authors' constant delays: "
        f"{'on' if delays == 'authors' else delays}). A change is (policy / PETALS − 1) of "
        "the mean per-token time; ranges run over the sweep's points where both policies "
        "served requests.",
        "",
        "## CG-BP + WS-RR against PETALS, per sweep and scenario",
        "",
        "| sweep | scenario | points | CG-BP + WS-RR vs PETALS | points where CG-BP + WS-RR "
        "is slower | points where PETALS serves nothing |",
        "|---|---|---|---|---|---|",
    ]
    points_out = []
    for name in names:
        sw = SWEEPS[name]
        rows = rows_by_sweep[name]
        cs = cells(rows, sw.param)
        by = {(c.scenario, c.x, c.policy): c for c in cs}
        pols = [p for p in LABELS if any(c.policy == p for c in cs)]
        scens = sorted({c.scenario for c in cs}, key=_scen_order)
        for scen in scens:
            xs = sorted({c.x for c in cs if c.scenario == scen})
            ch, slower, none = [], [], []
            for x in xs:
                p, c = by.get((scen, x, PETALS)), by.get((scen, x, CGBP))
                if p is None or not math.isfinite(p.per_token):
                    none.append(_x(sw.param, x))
                if p and c and math.isfinite(p.per_token) and math.isfinite(c.per_token):
                    ch.append(_pct(c.per_token, p.per_token))
                    if c.per_token > p.per_token:
                        slower.append(_x(sw.param, x))
            rng = f"{min(ch):+.0f} % to {max(ch):+.0f} %" if ch else "—"
            out.append(
                f"| {sw.axis} | {SCENARIO_LABELS.get(scen, scen)} | {len(xs)} | {rng} | "
                f"{', '.join(slower) or 'none'} | {', '.join(none) or 'none'} |"
            )
            for x in xs:
                means = {
                    p: by[(scen, x, p)].per_token
                    for p in pols
                    if (scen, x, p) in by and math.isfinite(by[(scen, x, p)].per_token)
                }
                best = min(means, key=lambda p: means[p]) if means else None
                ties = [p for p in means if best and abs(means[p] - means[best]) < 5e-4]
                cells_txt = [f"{means[p]:.2f}" if p in means else "—" for p in pols]
                lowest = " = ".join(LABELS[p] for p in ties) if ties else "—"
                points_out.append(
                    (
                        pols,
                        [
                            sw.axis,
                            SCENARIO_LABELS.get(scen, scen),
                            _x(sw.param, x),
                            *cells_txt,
                            lowest,
                            _paired(rows, sw.param, (scen, x), OURS, GBP),
                            _paired(rows, sw.param, (scen, x), OURS, CGBP),
                        ],
                    )
                )
    pols_all = [p for p in LABELS if any(p in ps for ps, _ in points_out)]
    out += [
        "",
        "## Every point: mean per-token time (s), the lowest policy (ties within 0.0005 s), "
        "sim-opt paired by run",
        "",
        "| sweep | scenario | x | "
        + " | ".join(LABELS[p] for p in pols_all)
        + " | lowest | sim-opt − GBP-CR + JFFC (s) | sim-opt − CG-BP + WS-RR (s) |",
        "|" + "---|" * (len(pols_all) + 6),
    ]
    for pols, row in points_out:
        vals = dict(zip(pols, row[3 : 3 + len(pols)], strict=True))
        full = [*row[:3], *[vals.get(p, "") for p in pols_all], *row[3 + len(pols) :]]
        out.append("| " + " | ".join(full) + " |")
    return "\n".join(out) + "\n"


def write_summary(csvs: Mapping[str, Path], out: Path, prefix: str = "bprr_") -> list[Path]:
    """``{prefix}sweep_summary.md``: every point summarised for the prose, from each
    sweep's CSV in ``csvs`` or else its copy in ``out`` (a run of one sweep keeps the
    others' committed rows); no file when no sweep has rows."""
    from splitopt.experiments.harness import read_csv_rows
    from splitopt.experiments.tables import _write

    by_sweep = {}
    for name in SWEEPS:
        src = csvs.get(name) or out / f"{prefix}sweep_{name}.csv"
        if Path(src).exists():
            exp = SWEEPS[name].experiment
            by_sweep[name] = [r for r in read_csv_rows(src) if r.get("experiment") == exp]
    if not any(by_sweep.values()):
        return []
    path = out / f"{prefix}sweep_summary.md"
    _write(path, summary(by_sweep, f"{prefix}sweep"))
    return [path]


__all__ = ["summary", "write_summary"]
