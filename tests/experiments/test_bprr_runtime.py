"""Runtimes (Table VIII), the MILP lower bound and the generated paper tables of the
BPRR reproduction (splitopt.experiments.bprr_runtime / bprr_report)."""

from __future__ import annotations

import math

import pytest

from splitopt.experiments import bprr_report as rep
from splitopt.experiments.bprr_runtime import (
    ALGORITHMS,
    bound_row,
    runtime_row,
)
from splitopt.experiments.harness import experiment_tasks, list_experiments
from splitopt.experiments.online import run_row, table


def test_experiments_registered_with_their_sizes():
    assert {"bprr-runtime", "bprr-bound", "bprr-ablation"} <= set(list_experiments())
    rt = experiment_tasks("bprr-runtime", 0, 1, True)
    # 4 scenarios x 2 rates x 8 algorithms x 2 runs + the R-request MILP on clustered only
    assert len(rt) == 4 * 2 * 8 * 2 + 2
    assert sum(dict(t.params)["algorithm"] == "bprr-milp" for t in rt) == 2
    assert len(experiment_tasks("bprr-bound", 0, 1, True)) == 4 * 2 * 5
    assert len(experiment_tasks("bprr-ablation", 0, 1, True)) == 2 * 2 * 5 * 7
    full = experiment_tasks("bprr-runtime", 0, 1, False)
    assert sum(dict(t.params)["algorithm"] == "bprr-milp" for t in full) == 4 * 2 * 10


def test_runtime_rows_time_every_kind():
    rows = {
        a: runtime_row("clustered", 0.1, 64, a, 0, repeats=1, milp_time_limit=20)
        for a in ("cg-bp", "gbp-cr+gca", "bprr-milp-1", "ws-rr", "jffc")
    }
    for a, r in rows.items():
        assert r["wall_s"] > 0 and math.isfinite(r["wall_s"]), a
    assert rows["cg-bp"]["chosen_R"] == rows["cg-bp"]["R"] >= 1
    assert rows["gbp-cr+gca"]["chosen_c"] >= 1 and rows["gbp-cr+gca"]["chosen_chains"] >= 1
    assert rows["bprr-milp-1"]["status"] == "optimal" and rows["bprr-milp-1"]["requests"] == 1
    # routing: per request = a 100-request run's time / 100
    assert rows["ws-rr"]["wall_s"] == pytest.approx(rows["ws-rr"]["run_s"] / 100)
    assert math.isfinite(rows["jffc"]["marginal_s"])
    assert rows["ws-rr"]["run_one_s"] > 0 and rows["jffc"]["run_s"] > 0
    with pytest.raises(Exception, match="unknown algorithm"):
        runtime_row("clustered", 0.1, 64, "no-such", 0)
    assert len(set(ALGORITHMS)) == 9


@pytest.mark.parametrize("scenario", ["clustered", "abvt"])
def test_milp_bound_holds_for_every_policy(scenario):
    b = bound_row(scenario, 64, 1, num_requests=40)
    assert b["milp_status"] == "optimal"
    # the no-wait bound is a relaxation of the MILP with the request alone
    assert b["nowait_bound"] <= b["milp_bound"] * (1 + 1e-9)
    for policy in ("petals+petals", "cg-bp+ws-rr", "gbp-cr+jffc", "petals-cg-counts+petals"):
        for delays in ("none", "authors"):
            row = run_row(scenario, 0.5, 64, policy, 1, delays=delays, num_requests=40)
            assert row["per_token_mean"] >= b["milp_bound"] * (1 - 1e-9), (policy, delays)
            # every request, not only the mean: the p50 is above it too
            assert row["per_token_p50"] >= b["milp_bound"] * (1 - 1e-9), (policy, delays)


def test_milp_bound_is_tighter_than_no_wait_on_a_scattered_draw():
    """AboveNet's seed-0 draw: the relaxation reuses the nearest server, the MILP cannot."""
    b = bound_row("abvt", 64, 0, num_requests=10)
    assert b["milp_bound"] > b["nowait_bound"] * 1.01


def _tables_rows():
    rows = []
    for run, (pet, cg, gbp, ours) in enumerate(((2.0, 1.0, 0.9, 0.8), (2.2, 1.2, 0.9, 0.7))):
        for policy, v in (
            ("petals+petals", pet),
            ("cg-bp+ws-rr", cg),
            ("gbp-cr+jffc", gbp),
            ("sim-opt+ws-rr", ours),
        ):
            rows.append(
                {
                    "scenario": "clustered",
                    "rate": "0.1",
                    "l_out": "64",
                    "delays": "none",
                    "policy": policy,
                    "run": str(run),
                    "per_token_mean": str(v),
                    "ttft_mean": str(10 * v),
                    "error": "",
                }
            )
    return rows


def _bound_rows(values=(0.75, 0.75)):
    return [
        {
            "scenario": "clustered",
            "l_out": "64",
            "run": str(i),
            "milp_status": "optimal",
            "milp_bound": str(v),
            "nowait_bound": "0.5",
            "error": "",
        }
        for i, v in enumerate(values)
    ]


def test_bound_table_counts_runs_below_the_bound():
    t = _tables_rows()
    md, tex = rep.bound_table(t, _bound_rows())
    line = next(x for x in md.splitlines() if x.startswith("| clustered"))
    cols = [c.strip() for c in line.strip("|").split("|")]
    assert cols[7] == "0.750" and cols[8] == "0.500"
    assert cols[10] == "1"  # run 1 of sim-opt (0.7) is below its bound 0.75
    assert cols[9] == "0.000" or cols[9].startswith("+") or cols[9].startswith("-")
    st = rep.bound_stats(t, _bound_rows())
    assert st["violations"] == 1 and st["pairs"] == 8 and st["equal_runs"] == 0
    ok = rep.bound_stats(t, _bound_rows((0.6, 0.6)))
    assert ok["violations"] == 0 and ok["max_diff_pct"] == pytest.approx(20.0)
    assert ok["policy_gap"]["sim-opt+ws-rr"] == pytest.approx(0.15)
    assert ok["policy_gap"]["petals+petals"] == pytest.approx(1.5)
    assert ok["max_best_gap_pct"] == pytest.approx(25.0)  # best 0.75 vs bound 0.6
    assert "\\label{tab:bprr-bound}" in tex and "\\toprule" in tex


def test_online_table_gets_the_milp_column():
    t = _tables_rows()
    md = table(t, milp_rows=_bound_rows((0.6, 0.8)))
    head, _, row = md.splitlines()[:3]
    assert head.split("|")[-4].strip() == "MILP lower bound"
    assert row.split("|")[-4].strip() == "0.700"
    # a run without a bound leaves the cell empty rather than averaging a subset
    md = table(t, milp_rows=_bound_rows((0.6,)))
    assert md.splitlines()[2].split("|")[-4].strip() == ""
    assert "MILP" not in table(t).splitlines()[0]


def test_runtime_summary_ratios_are_same_run():
    rows = []
    for run, (cg, so, ws, jf) in enumerate(((0.001, 0.1, 2e-6, 1e-6), (0.002, 0.1, 4e-6, 1e-6))):
        for alg, w in (("cg-bp", cg), ("sim-opt", so), ("ws-rr", ws), ("jffc", jf)):
            rows.append(
                {
                    "scenario": "abvt",
                    "rate": "0.1",
                    "l_out": "128",
                    "algorithm": alg,
                    "run": str(run),
                    "wall_s": str(w),
                    "status": "ok",
                    "error": "",
                }
            )
    s = rep.runtime_summary(rows)
    assert s["ratio"]["sim-opt"] == pytest.approx(75.0)  # median of 100 and 50
    assert s["ratio"]["jffc"] == pytest.approx(0.375)  # median of 0.5 and 0.25
    assert s["overall"]["cg-bp"] == pytest.approx(0.0015)
    md, tex = rep.runtime_table(rows)
    assert "75× CG-BP" in md and "tab:bprr-runtime" in tex
    # the paper's Table VIII rows (ms), PETALS over proposed as the ratio
    assert "| paper Table VIII: PETALS (MATLAB) | ms | 19.0 ± 8.1 |" in md
    assert "0.571× proposed" in md  # AboveNet only: 19.0 / 33.3


def test_verdicts_and_macros():
    assert rep.verdict(-0.01, 0.005) == "lower"
    assert rep.verdict(0.01, 0.005) == "higher"
    assert rep.verdict(-0.01, 0.02) == "tie"
    assert rep.verdict(-1e-5, 1e-6) == "tie"  # below the 0.5 ms tolerance
    tex = rep.numbers(_tables_rows(), _bound_rows((0.6, 0.6)), [], [])
    macros = dict(line[len("\\newcommand{\\") :].split("}{", 1) for line in tex.splitlines()[1:])
    assert all(k.isalpha() for k in macros)
    # CG-BP vs PETALS: 1.1 / 2.1 -> 48 % lower
    assert macros["bprrRedNoneMin"].rstrip("}") == "48"
    assert macros["bprrSimoptCgNoneLower"].rstrip("}") == "0"  # 2 runs: CI too wide
    assert macros["bprrBoundViolations"].rstrip("}") == "0"


def test_reproduction_tables_and_sweep_include(tmp_path):
    t = _tables_rows()
    tex = rep.reproduction(t, _bound_rows(), scattered=False)
    assert "6.23 (5.33) / 1.92 (1.59)" in tex and "0.750" in tex and "tab:bprr-t3" in tex
    assert (
        "clustered" not in rep.reproduction(t, _bound_rows(), scattered=True).split("\\midrule")[1]
    )
    assert "no sweep outputs" in rep.sweeps_include(tmp_path)
    (tmp_path / "bprr_sweep_eta.pdf").write_bytes(b"%PDF")
    (tmp_path / "bprr_sweep_eta.tex").write_text("x")
    inc = rep.sweeps_include(tmp_path)
    assert "\\fig{bprr_sweep_eta}" in inc and "\\gen{bprr_sweep_eta.tex}" in inc


@pytest.mark.nojit
def test_sim_kernel_one_request_leaves_the_no_record_array_alone():
    """Regression: with N == 1 the (1, 1) 'do not record' array has N rows, and the
    kernel wrote a 2-hop route into it (heap corruption; found by the runtime runs)."""
    import numpy as np

    from splitopt.experiments.online import _cluster
    from splitopt.placement import online as on
    from splitopt.placement.sim_kernel import MODE_WS_RR, simulate_routes_kernel
    from splitopt.placement.simulate import Workload

    cl = _cluster("clustered", 0, 64, 9)
    wl = Workload(0.1, 1, Workload.from_cluster(cl).classes)
    prep = on.prepare(cl, wl, "petals+petals", 0)
    arrive, cls = wl.sample(0)
    costs = on.class_costs(cl, wl.classes)
    sentinel = np.full((1, 1), -7, dtype=np.int64)
    _, _, _, _, hops, _ = simulate_routes_kernel(
        arrive, cls, costs.need, prep.placement.first, prep.placement.count,
        np.asarray(prep.cap, dtype=np.float64), costs.hop, costs.block, costs.pre_hop,
        costs.pre_block, costs.hop, costs.block, np.zeros_like(costs.hop), MODE_WS_RR, 0.0,
        False, 60.0, 0.0, cl.num_blocks, sentinel, np.zeros((1, 1)), False, False,
    )  # fmt: skip
    assert hops[0] >= 2  # PETALS's placement needs several servers here
    assert sentinel[0, 0] == -7
    # and recording still works for one request
    rec = on.run_prepared(cl, wl, prep, 0, record_routes=True)
    assert len(rec.info["routes"][0]) == hops[0]


def test_milp_refusal_is_a_status_not_a_crash():
    from splitopt.experiments.bprr_runtime import solve_milp
    from splitopt.experiments.online import _cluster
    from splitopt.placement.milp import MAX_ARCS

    cl = _cluster("clustered", 0, 64, 9)
    n = MAX_ARCS // (10 * 9) + 1  # 9 hosting servers: n x 10 x 9 hop arcs > MAX_ARCS
    out = solve_milp(cl, [cl.jobs[0]] * n, 5.0)
    assert out["status"] == "refused" and "arcs" in out["message"]
    assert math.isnan(out["wall_s"])


def test_paper_transcriptions_agree():
    """SPEC-PLACEMENT's three transcribed cells equal the first figures of the full grid."""
    from splitopt.experiments.online import PAPER

    for key, (pet, prop) in PAPER.items():
        assert rep.PAPER_FULL[key][0][0] == pet and rep.PAPER_FULL[key][1][0] == prop
    assert len(rep.PAPER_FULL) == 16 and set(rep.PAPER_TABLE8) == set(rep.ORDER)
    assert rep.paper_cell(("clustered", 0.1, 64)) == "6.23 (5.33) / 1.92 (1.59)"


def test_online_main_refuses_a_missing_bound_file(tmp_path, capsys):
    from splitopt.experiments.online import main

    out = tmp_path / "t.csv"
    with pytest.raises(SystemExit) as exc:
        main(["--quick", "--out", str(out), "--bound", str(tmp_path / "none.csv")])
    assert exc.value.code == 2
    assert "no such file" in capsys.readouterr().err
    assert not out.exists()  # refused before any run
