"""The BPRR Figs 7-10 sweeps (issue 11 item 4): task generators, CI, tables, figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitopt.errors import DataError, ExperimentError
from splitopt.experiments.bprr_sweeps import (
    POLICIES,
    QUICK_POLICIES,
    QUICK_SCENARIOS,
    SWEEPS,
    cells,
    mean_ci,
    point_params,
    sweep_table,
    sweep_tasks,
    ttft_table,
    write_outputs,
)
from splitopt.experiments.harness import experiment_tasks, list_experiments, read_csv_rows
from splitopt.experiments.online import POLICIES as TABLE_POLICIES
from splitopt.experiments.online import QUICK_POLICIES as TABLE_QUICK_POLICIES
from splitopt.scenario.topologies import clustered_cluster


def test_registered_and_row_counts():
    assert (POLICIES, QUICK_POLICIES) == (TABLE_POLICIES, TABLE_QUICK_POLICIES)  # in sync
    names = {f"bprr-sweep-{n}" for n in ("servers", "eta", "rate", "lout")}
    assert names <= set(list_experiments())
    for name, sw in SWEEPS.items():
        full = experiment_tasks(sw.experiment, 0, 1, False)  # duplicates would raise
        quick = experiment_tasks(sw.experiment, 0, 1, True)
        n_values = {len(s.values) for s in sw.settings}
        assert n_values == {5}, name
        assert len(full) == len(sw.settings) * 5 * len(POLICIES) * 10
        assert len(quick) == len(QUICK_SCENARIOS) * 5 * len(QUICK_POLICIES) * 3
        assert {t.param_dict()["scenario"] for t in quick} == set(QUICK_SCENARIOS)
        assert all(t.param_dict()["delays"] == "none" for t in full)  # no constants by default
    # repetitions multiply the runs; the authors' delays are an option
    t2 = list(sweep_tasks("eta", repetitions=2, quick=True, delays="authors"))
    assert len(t2) == 2 * len(QUICK_SCENARIOS) * 5 * len(QUICK_POLICIES) * 3
    assert {t.param_dict()["delays"] for t in t2} == {"authors"}
    with pytest.raises(ExperimentError):
        list(sweep_tasks("no-such-sweep"))
    with pytest.raises(ExperimentError):
        list(sweep_tasks("eta", delays="sometimes"))


def test_point_params_follow_the_scripts():
    rate = SWEEPS["rate"]
    abvt = next(s for s in rate.settings if s.scenario == "abvt")
    # General_varying_lamda_online.m: n_requests = round(200 lambda), C = round(0.4 x 23)
    got = [point_params(abvt, "rate", v)["num_requests"] for v in abvt.values]
    assert got == [10, 20, 100, 200, 400]
    assert point_params(abvt, "rate", 0.5)["num_servers"] == 9
    srv = next(s for s in SWEEPS["servers"].settings if s.scenario == "abvt")
    p = point_params(srv, "num_servers", 21.0)
    assert p["num_servers"] == 21 and isinstance(p["num_servers"], int)
    assert p["num_requests"] == 50 and p["rate"] == 0.5 and p["l_out"] == 128
    lout = next(s for s in SWEEPS["lout"].settings if s.scenario == "gtsce")
    assert lout.values == (64, 128, 256, 384, 512) and lout.num_servers == 60
    # every setting names its source; ours are labelled
    assert all(s.source for sw in SWEEPS.values() for s in sw.settings)


def test_mean_ci_is_the_student_t_interval():
    from scipy import stats

    v = [1.0, 2.0, 4.0, 7.0]
    m, h, n = mean_ci(v)
    lo, hi = stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert n == 4 and m == pytest.approx(3.5) and h == pytest.approx((hi - lo) / 2)
    m1, h1, n1 = mean_ci([2.0, math.inf, math.nan])
    assert (m1, n1) == (2.0, 1) and math.isnan(h1)
    assert mean_ci([])[2] == 0


def _rows(param="rate"):
    """A tiny synthetic sweep CSV: 2 points x 2 policies x 3 runs, one unserved point."""
    rows = []
    for x in (0.5, 1.0):
        for pol, base in (("petals+petals", 2.0), ("cg-bp+ws-rr", 0.5)):
            for run in range(3):
                pt = base * x + 0.1 * run
                rows.append(
                    {
                        "experiment": "bprr-sweep-rate",
                        "task_index": str(len(rows)),
                        "scenario": "abvt",
                        param: str(x),
                        "l_out": "128",
                        "policy": pol,
                        "run": str(run),
                        "delays": "none",
                        "per_token_mean": str(pt),
                        "ttft_mean": str(0.25 * pt * 128),
                        "remaining_per_token_mean": str(0.75 * pt * 128 / 127),
                        "served": "1.0" if (pol, x) != ("petals+petals", 1.0) else "0.5",
                        "per_token_lower_bound": "0.4",
                        "error": "",
                    }
                )
    return rows


def test_cells_and_tables_from_a_tiny_csv():
    rows = _rows()
    cs = cells(rows, "rate")
    assert len(cs) == 4 and all(c.n == 3 for c in cs)
    c = next(c for c in cs if c.policy == "cg-bp+ws-rr" and c.x == 0.5)
    assert c.per_token == pytest.approx(0.35)  # 0.5 x 0.5 + 0.1 x (0, 1, 2)
    assert c.per_token_ci == pytest.approx(mean_ci([0.25, 0.35, 0.45])[1])
    assert c.ttft_share == pytest.approx(0.25)
    t = sweep_table(rows, "rate", quick=True)
    assert len(t.rows) == 2 and t.header[2:4] == ["PETALS", "CG-BP + WS-RR"]
    assert t.rows[0][-2] == f"{100 * (0.35 / 1.1 - 1):+.0f} %"
    assert "(50 % served)" in t.rows[1][2] and "3 Monte-Carlo runs" in t.caption
    assert r"\begin{tabular}" in t.latex() and "quick" in t.markdown()
    tt = ttft_table(rows, quick=True)
    assert len(tt.rows) == 2 and len(tt.header) == 2 + 2 * 2
    c = next(c for c in cs if c.policy == "petals+petals" and c.x == 0.5)
    assert tt.rows[0][2] == f"{c.ttft:.2f} ± {c.ttft_ci:.2f} (25 %)"
    assert tt.rows[0][3] == f"{c.rest:.3f}"


def test_write_outputs_makes_every_file(tmp_path):
    import csv

    rows = _rows()
    src = tmp_path / "rate.csv"
    with src.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "gen"
    from splitopt.experiments.bprr_sweep_summary import write_summary

    files = write_outputs({"rate": src}, out, quick=True)
    files += write_summary({"rate": src}, out)
    names = {p.name for p in files}
    want = {f"bprr_sweep_rate.{e}" for e in ("csv", "md", "tex", "pdf", "png")}
    want |= {f"bprr_ttft.{e}" for e in ("md", "tex", "pdf", "png")}
    want |= {"bprr_sweep_summary.md"}
    assert names == want
    assert all((out / n).stat().st_size > 0 for n in want)
    assert len(read_csv_rows(out / "bprr_sweep_rate.csv")) == len(rows)
    for name in ("bprr_sweep_rate.tex", "bprr_ttft.tex"):  # no character utf8 inputenc lacks
        tex = (out / name).read_text()
        assert r"\pm" in tex and "±" not in tex and "η" not in tex and "λ" not in tex


def test_clustered_server_mix():
    base = clustered_cluster(0)
    same = clustered_cluster(0, num_servers=9, eta=0.2)
    assert same.name == base.name and same.rtt_s.tobytes() == base.rtt_s.tobytes()
    cl = clustered_cluster(0, num_servers=12, eta=0.25)
    kinds = [s.id.split("-")[0] for s in cl.servers]
    assert kinds.count("a100") == 3 and kinds.count("mig") == 9
    np.testing.assert_allclose(cl.network_rtt_s, 0.1)
    with pytest.raises(DataError):
        clustered_cluster(0, eta=1.5)
    with pytest.raises(DataError):
        clustered_cluster(0, num_servers=0)


def test_a_real_sweep_row_decomposes_into_ttft_and_rest(tmp_path):
    from splitopt.experiments.harness import run_tasks

    tasks = list(
        sweep_tasks(
            "servers", quick=True, runs=1, scenarios=("clustered",), policies=("cg-bp+ws-rr",)
        )
    )[:2]
    path = run_tasks("bprr-sweep-servers", tasks, tmp_path / "s.csv", workers=0, progress=False)
    rows = read_csv_rows(path)
    assert len(rows) == 2 and not any(r["error"] for r in rows)
    keys = ("per_token_mean", "ttft_mean", "remaining_per_token_mean", "l_out")
    for r in rows:
        pt, ttft, rest, l_out = (float(r[k]) for k in keys)
        assert pt * l_out == pytest.approx(ttft + (l_out - 1) * rest, rel=1e-9)
        assert pt >= float(r["per_token_lower_bound"]) - 1e-12


def test_summary_reports_every_point_and_the_paired_differences():
    from splitopt.experiments.bprr_sweep_summary import summary

    rows = _rows()
    extra = []
    for r in rows:
        if r["policy"] == "cg-bp+ws-rr":
            extra.append({**r, "policy": "gbp-cr+jffc"})
            extra.append({**r, "policy": "sim-opt+ws-rr",
                          "per_token_mean": str(float(r["per_token_mean"]) - 0.01)})  # fmt: skip
    rows += extra
    md = summary({"rate": rows}, "bprr_sweep")
    # PETALS 1.1 / 2.1 and CG-BP 0.35 / 0.6 s per token: -68 % and -71 %
    assert "| AboveNet | 2 | -71 % to -68 % | none | none |" in md
    lines = [ln for ln in md.splitlines() if ln.startswith("| arrival rate")]
    assert len(lines) == 1 + 2  # the range row and both points
    point = lines[1]
    assert "| 1.10 |" in point and "| 0.35 |" in point and "| 0.34 |" in point
    assert "| sim-opt (ours) |" in point  # the lowest
    assert point.endswith("| -0.010 ± 0.000 | -0.010 ± 0.000 |")
    assert "3 Monte-Carlo runs" in md


def test_bprr_paper_rebuilds_from_the_copies_in_out(tmp_path):
    import csv

    from splitopt.experiments.bprr_paper import main

    rows = _rows()
    out = tmp_path / "gen"
    out.mkdir()
    with (out / "bprr_sweep_rate.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    stale = tmp_path / "results"
    stale.mkdir()
    (stale / "bprr-sweep-rate.csv").write_text("not a CSV of this sweep\n")
    # --from-out ignores what --results holds and runs nothing
    assert main(["--from-out", "--sweep", "rate", "--results", str(stale), "--out", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    assert (out / "bprr_sweep_rate.md").exists() and (out / "bprr_sweep_summary.md").exists()
    assert len(read_csv_rows(out / "bprr_sweep_rate.csv")) == len(rows)
