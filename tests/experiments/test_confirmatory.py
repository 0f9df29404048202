"""The confirmatory study's per-class data, figures and two-level bootstrap."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from splitopt.experiments import confirmatory as cf
from splitopt.experiments.harness import experiment_tasks


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    out = []
    for seed in (0, 1):
        for model in ("calibrated", "uncalibrated-roofline"):
            r = cf.run_confirmatory(seed, "small", model)
            out.append(
                {**{k: str(v) for k, v in r.items()}, "seed": str(seed), "cost_model": model}
            )
    return out


def test_class_sums_equal_the_protocol_accounting(rows: list[dict[str, str]]) -> None:
    """Per-class charged works add up to the protocol runner's charged work."""
    from splitopt.experiments.instances import setting_instance
    from splitopt.experiments.outcomes import split_outcomes

    p = setting_instance("paper-like", 0, "small", cost_model="calibrated")
    ref = split_outcomes(p, "dp")
    r = next(r for r in rows if r["seed"] == "0" and r["cost_model"] == "calibrated")
    t = json.loads(r["classes"])
    assert math.isclose(math.fsum(t["c_dp"]), ref["charged_work"], rel_tol=1e-12)
    assert math.isclose(math.fsum(t["c_greedy"]), ref["charged_work_greedy"], rel_tol=1e-12)
    assert sum(t["s_dp"]) == ref["feasible"]
    assert sum(t["requests"]) == len(p)
    # a class is served whole or not at all
    for s in cf.SOLVERS:
        assert all(x in (0, n) for x, n in zip(t[f"s_{s}"], t["requests"], strict=True))


def test_point_figures_match_their_definition(rows: list[dict[str, str]]) -> None:
    d = cf.seed_data(rows, "calibrated")
    est = cf.point(d)
    tot = {s: math.fsum(np.concatenate(d.charged[s])) for s in cf.SOLVERS}
    assert est["reduction"] == pytest.approx(100 * (1 - tot["dp"] / tot["server-only"]))
    assert est["gain_best-cut"] == pytest.approx(
        100 * (tot["best-cut"] - tot["dp"]) / tot["best-cut"]
    )
    assert d.seeds == (0, 1)


def test_bootstrap_is_seeded_and_brackets_the_estimate(rows: list[dict[str, str]]) -> None:
    d = cf.seed_data(rows, "uncalibrated-roofline")
    a = cf.bootstrap(d, replicates=300, seed=3)
    b = cf.bootstrap(d, replicates=300, seed=3)
    np.testing.assert_array_equal(a["gain_greedy"], b["gain_greedy"])
    lo, hi = cf.interval(a["reduction"])
    assert lo <= cf.point(d)["reduction"] <= hi


def test_bootstrap_with_one_class_per_seed_is_a_seed_bootstrap() -> None:
    """With one class per seed the inner level is the identity: every replicate's
    reduction is one of the ratios of sums over a multiset of seeds; with all seeds
    equal, the interval collapses to the value."""
    one = np.array([2.0])
    d = cf.SeedData(
        seeds=(0, 1, 2),
        families=[np.array(["BERT"])] * 3,
        charged={s: [one * (1.0 if s == "dp" else 4.0)] * 3 for s in cf.SOLVERS},
        served={s: [np.array([1])] * 3 for s in cf.SOLVERS},
        requests=[np.array([1])] * 3,
    )
    b = cf.bootstrap(d, replicates=50)
    assert np.allclose(b["reduction"], 75.0)
    assert np.allclose(b["gain_greedy"], 75.0)


def test_registered_seeds_and_tasks() -> None:
    assert cf.registered_seeds()[0] == 1000
    assert len(cf.registered_seeds()) == cf.REGISTERED_SEEDS
    assert not set(cf.registered_seeds()) & set(cf.PILOT_SEEDS)
    tasks = experiment_tasks("confirmatory", seed=1000, repetitions=2)
    got = {(t.param_dict()["seed"], t.param_dict()["cost_model"]) for t in tasks}
    assert got == {(s, m) for s in (1000, 1001) for m in ("calibrated", "uncalibrated-roofline")}


def test_tables_label_an_incomplete_run(rows: list[dict[str, str]], tmp_path) -> None:
    made = cf.write_tables(rows, tmp_path, replicates=50)
    md = (tmp_path / "confirmatory.md").read_text()
    assert "NOT the registered seeds" in md
    assert {p.name for p in made} >= {"confirmatory.md", "confirmatory_numbers.tex"}
    assert (
        "\\newcommand{\\confCalGainGreedy}" in (tmp_path / "confirmatory_numbers.tex").read_text()
    )
