"""Experiment ``calibration-impact``: the SplitLLM figures under both cost models,
checked against a direct computation (solvers + the evaluator) on a tiny instance."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

import splitopt.experiments.catalog  # noqa: F401  (registers the experiments)
from splitopt.evaluate import min_latency, score
from splitopt.experiments.harness import experiment_tasks
from splitopt.experiments.instances import setting_instance
from splitopt.experiments.runners import run_calibration_impact
from splitopt.experiments.tables import (
    calibration_impact_csv,
    calibration_impact_tables,
    cost_model_text,
    pct,
)
from splitopt.scenario.cost_models import COST_MODELS, UNCALIBRATED
from splitopt.solvers import get_solver

SEED = 3


def direct(model: str, memory: bool) -> dict[str, float]:
    """The figures of one model, computed from the solvers' results and ``score``."""
    p = setting_instance("paper-like", SEED, "tiny", memory=memory, cost_model=model)
    dp, greedy = (get_solver(s).solve(p) for s in ("dp-grid", "greedy"))  # the experiments' dp
    w = p.weights
    so = np.array([score(r.chain, "S" * r.chain.num_layers).server_work for r in p.requests])

    def charged(res) -> float:
        ev = res.evaluation
        return float(np.dot(w, np.where(ev.feasible, ev.server_work, so)))

    fd, fg = dp.evaluation.feasible, greedy.evaluation.feasible
    both = fd & fg
    shares = [x.count("C") / len(x) for x, f in zip(dp.placements, fd, strict=True) if f]
    return {
        "served_dp": int(fd.sum()),
        "served_greedy": int(fg.sum()),
        "reduction_all": 1 - charged(dp) / float(np.dot(w, so)),
        "gain_all": (charged(greedy) - charged(dp)) / charged(greedy),
        "gain_both": 1
        - float(np.dot(w[both], dp.evaluation.server_work[both]))
        / float(np.dot(w[both], greedy.evaluation.server_work[both])),
        "client_share_dp": float(np.mean(shares)),
        "fastest": sum(
            score(r.chain, "C" * r.chain.num_layers).latency_s <= min_latency(r.chain) * (1 + 1e-9)
            for r in p.requests
        ),
        "placements": dp.placements,
        "feasible": fd,
    }


@pytest.mark.parametrize("setting, memory", [("P", False), ("memory-on", True)])
def test_impact_row_and_table_match_direct_computation(setting: str, memory: bool) -> None:
    row = run_calibration_impact("paper-like", SEED, "tiny", setting, group="all")
    row = {**row, "setting": setting, "group": "all", "seed": SEED, "size": "tiny"}
    d = {m: direct(m, memory) for m in COST_MODELS}
    for m, pre in (("calibrated", "cal_"), (UNCALIBRATED, "uncal_")):
        assert row[f"{pre}feasible"] == d[m]["served_dp"]
        assert row[f"{pre}feasible_greedy"] == d[m]["served_greedy"]
        assert row[f"{pre}charged_reduction"] == pytest.approx(d[m]["reduction_all"], rel=1e-12)
        assert row[f"{pre}charged_gain_greedy"] == pytest.approx(d[m]["gain_all"], rel=1e-12)
        assert row[f"{pre}fastest_all_client"] == d[m]["fastest"]
        assert row[f"{pre}client_share_sum_dp"] == pytest.approx(
            d[m]["client_share_dp"] * d[m]["served_dp"], rel=1e-12
        )
    old, new = d[UNCALIBRATED], d["calibrated"]
    served = old["feasible"] & new["feasible"]
    changed = sum(
        a != b for a, b, s in zip(old["placements"], new["placements"], served, strict=True) if s
    )
    assert row["both_served_dp"] == int(served.sum())
    assert row["placement_changed_dp"] == changed

    # the table prints the same figures, uncalibrated -> calibrated
    t1, t2 = calibration_impact_tables([row])
    (body,) = t1.rows
    assert body[3] == f"{pct(old['reduction_all'])} → {pct(new['reduction_all'])}"
    assert body[5] == f"{pct(old['gain_all'])} → {pct(new['gain_all'])}"
    assert body[6] == f"{pct(old['gain_both'])} → {pct(new['gain_both'])}"
    assert body[2].startswith(f"{old['served_dp']} → {new['served_dp']} / ")
    (where,) = t2.rows
    assert where[4] == f"{pct(old['client_share_dp'])} → {pct(new['client_share_dp'])}"
    assert where[7].endswith(f"({changed} of {int(served.sum())})")
    lines = list(csv.reader(io.StringIO(calibration_impact_csv([row]))))
    assert lines[0] == ["setting", "family", "figure", "uncalibrated-roofline", "calibrated"]
    red = next(r for r in lines if r[2] == "reduction, all requests")
    assert red[3:] == [pct(old["reduction_all"]), pct(new["reduction_all"])]


def test_the_models_differ_on_the_instance() -> None:
    # otherwise the test above would not tell the two models' columns apart
    a, b = (direct(m, False) for m in COST_MODELS)
    assert a["reduction_all"] != b["reduction_all"]


def test_experiment_tasks_cover_both_settings_and_the_groups() -> None:
    tasks = [dict(t.params) for t in experiment_tasks("calibration-impact", 0, 1, True)]
    assert {t["setting"] for t in tasks} == {"P", "memory-on"}
    assert {t["group"] for t in tasks} == {"Transformer", "BERT", "GPT-2", "ViT", "all"}
    assert all(t["size"] == "small" for t in tasks)


def test_cost_model_caption_flags_mixed_and_unrecorded_rows() -> None:
    a = {"cost_model": "calibrated", "cost_figures": "aaaa0000"}
    b = {"cost_model": "calibrated", "cost_figures": "bbbb1111"}
    assert cost_model_text([a, a]) == "Calibrated cost model (figures aaaa0000)."
    assert cost_model_text([a, b]).startswith("MIXED")
    assert cost_model_text([{}]).startswith("Cost model not recorded")


def test_paper_fresh_renames_the_old_csv(tmp_path, monkeypatch) -> None:
    from splitopt.experiments import paper

    ran: list[str] = []

    def fake_run(name, out, **_):  # type: ignore[no-untyped-def]
        ran.append(name)
        assert not out.exists()  # --fresh: the experiment starts anew
        out.write_text("experiment,key,error\n")

    monkeypatch.setattr(paper, "run", fake_run)
    monkeypatch.setattr(paper, "write_tables", lambda paths, out: [])
    monkeypatch.setattr(paper, "make_figures", lambda paths, out: [])
    csv_path = tmp_path / "quick" / "calibration-impact.csv"
    csv_path.parent.mkdir()
    csv_path.write_text("old rows\n")
    args = ["--quick", "--results", str(tmp_path), "--out", str(tmp_path / "gen")]
    assert paper.main([*args, "--only", "calibration-impact", "--fresh"]) == 0
    assert ran == ["calibration-impact"]
    assert (tmp_path / "quick" / "calibration-impact.csv.old").read_text() == "old rows\n"
    # without --fresh an existing CSV is resumed (handed to the harness as it is)
    monkeypatch.setattr(paper, "run", lambda name, out, **_: ran.append(out.read_text()))
    assert paper.main([*args, "--only", "calibration-impact"]) == 0
    assert ran[-1] == "experiment,key,error\n"
