"""The placement contract: base class, typed parameters, recorded options, replay."""

from __future__ import annotations

import json

import pytest

from splitopt.errors import SolverError
from splitopt.formats.cluster_file import read_cluster
from splitopt.placement import algorithm_class, get_algorithm, list_algorithms
from splitopt.placement.base import PlacementAlgorithm
from splitopt.placement.params import CGParams, PetalsParams, all_options
from tests.conftest import DATA

CLUSTERS = DATA.parent.parent / "instances" / "clusters"


@pytest.mark.parametrize("name", list_algorithms())
def test_every_algorithm_is_a_placement_algorithm_and_refuses_typos(name: str) -> None:
    cls = algorithm_class(name)
    assert issubclass(cls, PlacementAlgorithm) and cls.name == name
    with pytest.raises(SolverError, match=f"{name!r} takes no option 'typo_option'"):
        get_algorithm(name, typo_option=3)
    # every option a family declares is a CLI flag
    assert set(cls.option_names()) <= set(all_options())


def test_cg_bprr_rejects_typo_even_with_valid_options() -> None:
    with pytest.raises(SolverError, match="takes no option 'typo_option'"):
        get_algorithm("cg-bprr", R=2, typo_option=3)


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("cg-bprr", {"R": "two"}, "'R' must be a whole number"),
        ("cg-bprr", {"R": 0}, "R must be a whole number >= 1"),
        ("cg-bprr", {"R": float("inf")}, "'R' must be a whole number"),
        ("cg-bprr", {"R": float("nan")}, "'R' must be a whole number"),
        ("cg-bprr", {"route_objective": "fast"}, "route_objective"),
        ("petals", {"seed": 1.5}, "'seed' must be a whole number"),
        ("petals", {"counts": ["a"]}, "list of whole numbers"),
        ("bprr-milp", {"gap": 0.1}, "gap 0 only"),
        ("bprr-milp", {"strengthen": "yes"}, "true or false"),
    ],
)
def test_bad_values_fail_at_construction(name: str, options: dict, match: str) -> None:
    with pytest.raises(SolverError, match=match):
        get_algorithm(name, **options)


def test_numpy_numbers_are_accepted() -> None:
    import numpy as np

    assert get_algorithm("cg-bprr", R=np.int64(3)).R == 3
    assert get_algorithm("petals", counts=[np.int64(1), 2]).params.counts == [1, 2]


def test_params_value_or_options_not_both() -> None:
    alg = get_algorithm("petals", PetalsParams(seed=4))
    assert alg.params == PetalsParams(seed=4) and alg.seed == 4
    with pytest.raises(SolverError):
        get_algorithm("petals", PetalsParams(seed=4), seed=5)
    with pytest.raises(SolverError, match="takes PetalsParams"):
        get_algorithm("petals", CGParams(R=2))


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("cg-bprr", {}),
        ("cg-bprr", {"R": 2, "route_objective": "per-token"}),
        ("petals", {"seed": 7}),
        ("bprr-brute", {}),
        ("bprr-milp", {}),
    ],
)
def test_recorded_options_rebuild_the_same_answer(name: str, options: dict) -> None:
    cluster = read_cluster(CLUSTERS / "tiny.json")
    res = get_algorithm(name, **options).solve(cluster)
    assert options.items() <= res.options.items()
    again = get_algorithm(res.algorithm, **res.options).solve(cluster)
    assert again.options == res.options
    assert res.placement is not None and again.placement is not None
    assert again.placement.first.tolist() == res.placement.first.tolist()
    assert again.placement.count.tolist() == res.placement.count.tolist()
    assert again.routes == res.routes


def test_petals_seed_is_recorded_so_replay_is_not_seed_0() -> None:
    cluster = read_cluster(CLUSTERS / "paper-clustered.json")
    firsts = {}
    for seed in range(4):
        res = get_algorithm("petals", seed=seed).solve(cluster)
        assert res.options["seed"] == seed
        firsts[seed] = res.placement.first.tolist()  # type: ignore[union-attr]
    assert len({tuple(v) for v in firsts.values()}) > 1  # the seed matters here


def test_cli_unknown_flag_and_flag_no_algorithm_takes(tmp_path, cli) -> None:
    tiny = str(CLUSTERS / "tiny.json")
    proc = cli("place", tiny, "--algorithm", "petals", "--bogus", "1")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--bogus" in proc.stderr
    proc = cli("place", tiny, "--algorithm", "cg-bprr", "--seed", "3")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "--seed is not accepted by placement algorithm cg-bprr" in proc.stderr
    # a flag applies to the listed algorithms that take it
    out = tmp_path / "p.json"
    args = ("--algorithm", "cg-bprr,petals", "--seed", "3", "--json", str(out))
    proc = cli("place", tiny, *args)
    assert proc.returncode == 0, proc.stderr
    opts = [r["options"] for r in json.loads(out.read_text())["results"]]
    assert opts[1]["seed"] == 3 and "seed" not in opts[0]


def test_cli_replay_reproduces_and_detects_a_change(tmp_path, cli) -> None:
    cl = str(CLUSTERS / "paper-clustered.json")
    out = tmp_path / "p.json"
    proc = cli("place", cl, "--algorithm", "cg-bprr,petals", "--seed", "5", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    proc = cli("place", cl, "--replay", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("gives the same placement and routes") == 2
    assert "'seed': 5" in proc.stdout
    # a file whose petals seed was edited no longer matches its placement
    doc = json.loads(out.read_text())
    doc["results"][1]["options"]["seed"] = 6
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    proc = cli("place", cl, "--replay", str(edited))
    assert proc.returncode == 1 and "DIFFERENT" in proc.stdout
    # bad recorded options: exit 2 naming the file and field
    doc["results"][0]["options"] = {"typo_option": 3}
    edited.write_text(json.dumps(doc))
    proc = cli("place", cl, "--replay", str(edited))
    assert proc.returncode == 2 and "results[0].options" in proc.stderr
    assert "takes no option 'typo_option'" in proc.stderr
    # replay takes no algorithm flags; another cluster is refused
    proc = cli("place", cl, "--replay", str(out), "--algorithm", "petals")
    assert proc.returncode == 2
    proc = cli("place", str(CLUSTERS / "tiny.json"), "--replay", str(out))
    assert proc.returncode == 2
