"""The joint-verify experiment: its task list, a small run through the harness, and a
planted wrong DP answer it must catch."""

from __future__ import annotations

import dataclasses

from splitopt.experiments import get_experiment
from splitopt.experiments.harness import experiment_tasks, read_csv_rows, run_tasks
from splitopt.experiments.joint_verify import COUNTS, run_joint_check, summarise


def test_the_full_run_checks_enough_instances() -> None:
    tasks = experiment_tasks("joint-verify")
    per: dict[str, int] = {}
    for t in tasks:
        p = t.param_dict()
        per[p["check"]] = per.get(p["check"], 0) + int(p["count"])
    assert per == COUNTS
    assert per["dp-brute-time"] >= 2000 and per["dp-brute-swarm-work"] >= 2000
    assert per["no-device"] >= 1000 and per["one-server"] >= 1000
    assert per["milp-brute-time"] >= 2000
    assert per["milp-no-device"] >= 1000 and per["milp-one-server"] >= 1000
    assert "joint" in get_experiment("joint-verify").description


def test_a_small_run_through_the_harness_agrees(tmp_path) -> None:
    tasks = [
        dataclasses.replace(t, params=tuple((k, 20 if k == "count" else v) for k, v in t.params))
        for t in experiment_tasks("joint-verify", seed=3)
        if dict(t.params)["first"] == 0 and not str(dict(t.params)["check"]).startswith("milp")
    ]
    tasks += [  # the joint MILP's checks are slower: 3 instances each
        dataclasses.replace(t, params=tuple((k, 3 if k == "count" else v) for k, v in t.params))
        for t in experiment_tasks("joint-verify", seed=3)
        if dict(t.params)["first"] == 0 and str(dict(t.params)["check"]).startswith("milp")
    ]
    out = run_tasks("joint-verify", tasks, tmp_path / "jv.csv", workers=1, progress=False)
    rows = read_csv_rows(out)
    assert len(rows) == 8 and not any(r["error"] for r in rows)
    assert all(r["disagreements"] == "0" for r in rows)
    text = summarise(rows)
    assert "92 instances, 0 disagreements, 0 task(s)" in text


def test_a_wrong_dp_answer_is_a_disagreement(monkeypatch) -> None:
    import splitopt.joint as joint
    from splitopt.joint.route import RouteAnswer

    real = joint.best_route

    def worse(*a, **kw):  # claims infeasible wherever the DP finds a route
        ans = real(*a, **kw)
        return RouteAnswer("infeasible", (), None, ans.time_by_client_blocks)

    monkeypatch.setattr(joint, "best_route", worse)
    for check in COUNTS:
        if check.startswith("milp"):
            continue
        row = run_joint_check(check, 0, 0, 30)
        assert row["disagreements"] > 0, check


def test_a_wrong_milp_answer_is_a_disagreement(monkeypatch) -> None:
    import splitopt.joint.milp as milp
    from splitopt.solvers.milp_backends import BackendResult

    monkeypatch.setattr(
        milp, "_RUNNERS", {b: (lambda *a: BackendResult("infeasible")) for b in milp.BACKENDS}
    )
    monkeypatch.setattr(milp, "backend_available", lambda b: True)
    for check in ("milp-brute-time", "milp-brute-swarm-work"):  # raw claims, not certified
        row = run_joint_check(check, 0, 0, 4)
        assert row["disagreements"] > 0, check
