"""Cluster files as specs, Clusters as immutable values, and the many-server file kinds:
round trips on every shipped cluster file, value semantics, size checks before
expansion, strict simulation JSON, ``validate`` on every kind."""

from __future__ import annotations

import json
import math
import pickle
import time
from pathlib import Path

import numpy as np
import pytest

from splitopt.cli import main
from splitopt.errors import DataError, SpecError
from splitopt.formats.cluster_file import (
    cluster_from_dict,
    cluster_spec_from_dict,
    cluster_spec_to_dict,
    read_cluster,
    read_cluster_spec,
    write_cluster,
    write_cluster_spec,
)
from splitopt.formats.errors import InputError
from splitopt.formats.placement_file import (
    placements_to_dict,
    read_placements,
    write_placements,
)
from splitopt.formats.simulation_file import read_simulation, simulation_to_dict, strict
from splitopt.placement import get_algorithm
from splitopt.placement.model import Arrivals, Placement
from splitopt.placement.result import PlacementResult
from splitopt.placement.simulate import SimRun, Workload, summarise
from splitopt.scenario.cluster import paper_clustered, random_cluster
from splitopt.scenario.cluster_compile import cluster_spec, compile_cluster
from splitopt.scenario.cluster_spec import ClusterServerSpec
from tests.conftest import DATA

ROOT = DATA.parent.parent
CLUSTER_FILES = sorted(
    [*(ROOT / "instances" / "clusters").rglob("*.json"), *(DATA / "tiny").glob("*.json")]
)
CLUSTER_FILES = [p for p in CLUSTER_FILES if '"splitopt-cluster"' in p.read_text()]
TINY = ROOT / "instances" / "clusters" / "tiny.json"


def _cli(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("splitopt"), err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, (n, err)


# -- round trips ---------------------------------------------------------------------------
def test_there_are_shipped_cluster_files() -> None:
    assert len(CLUSTER_FILES) >= 7


@pytest.mark.parametrize("path", CLUSTER_FILES, ids=lambda p: p.name)
def test_spec_round_trip_of_every_shipped_file(tmp_path, path: Path) -> None:
    """JSON -> spec -> JSON -> spec is the identity, and both compile to equal clusters."""
    spec = read_cluster_spec(path)
    write_cluster_spec(spec, tmp_path / "s.json")
    again = read_cluster_spec(tmp_path / "s.json")
    assert again == spec
    assert compile_cluster(again) == compile_cluster(spec) == read_cluster(path)


@pytest.mark.parametrize("path", CLUSTER_FILES, ids=lambda p: p.name)
def test_written_cluster_reads_back_equal(tmp_path, path: Path) -> None:
    """A cluster file written by the program reads back to an equal Cluster (presets,
    sites and counts resolved to numbers), and writing that again gives the same bytes."""
    cluster = read_cluster(path)
    write_cluster(cluster, tmp_path / "c.json")
    back = read_cluster(tmp_path / "c.json")
    assert back == cluster and hash(back) == hash(cluster)
    write_cluster(back, tmp_path / "d.json")
    assert (tmp_path / "c.json").read_bytes() == (tmp_path / "d.json").read_bytes()
    assert compile_cluster(cluster_spec(cluster)) == cluster


def test_generated_clusters_round_trip(tmp_path) -> None:
    for c in (paper_clustered(), random_cluster(3, num_servers=20, num_blocks=9)):
        write_cluster(c, tmp_path / "c.json")
        assert read_cluster(tmp_path / "c.json") == c


# -- value semantics ---------------------------------------------------------------------------
def test_cluster_equality_hash_replace() -> None:
    a, b = paper_clustered(), paper_clustered()
    assert a == b and hash(a) == hash(b) and a is not b
    c = a.replace(name="other")
    assert c != a and c.name == "other" and c.servers == a.servers
    rtt = np.array(a.rtt_s)
    rtt[0, 0] += 1e-9
    assert a.replace(rtt_s=rtt) != a  # every array counts, not only a part
    assert a.replace(arrivals=Arrivals(0.5)) != a
    assert a.replace(meta={"x": 1}) != a
    with pytest.raises(DataError):
        a.replace(rtt_s=-np.ones_like(rtt))


def test_cluster_pickles_to_an_equal_read_only_value() -> None:
    c = read_cluster(ROOT / "instances" / "clusters" / "paper-clustered.json")
    back = pickle.loads(pickle.dumps(c))
    assert back == c and hash(back) == hash(c)
    for name in ("rtt_s", "prefill_rtt_s", "prefill_rtt_per_token_s", "network_rtt_s"):
        for arr in (getattr(c, name), getattr(back, name)):
            assert not arr.flags.writeable
            with pytest.raises(ValueError):
                arr.setflags(write=True)
            with pytest.raises(ValueError):
                arr[0, 0] = 1.0
    assert back.arrivals == c.arrivals and back.meta == c.meta


def test_placement_arrays_never_writable() -> None:
    p = Placement.from_ranges([(1, 2), None, (3, 1)])
    back = pickle.loads(pickle.dumps(p))
    assert back == p
    for q in (p, back):
        for arr in (q.first, q.count):
            with pytest.raises(ValueError):
                arr.setflags(write=True)


def test_meta_is_a_frozen_copy() -> None:
    meta = {"tags": ["a"], "nested": {"k": 1}}
    c = paper_clustered().replace(meta=meta)
    meta["tags"].append("b")
    meta["nested"]["k"] = 2
    assert c.meta["tags"] == ("a",) and c.meta["nested"]["k"] == 1
    with pytest.raises(TypeError):
        c.meta["new"] = 1  # type: ignore[index]


def test_workload_is_a_value() -> None:
    c = read_cluster(TINY)
    w = Workload.from_cluster(c)
    assert w == Workload.from_cluster(c) and hash(w) == hash(Workload.from_cluster(c))
    assert w.replace(rate_per_s=2.0).rate_per_s == 2.0
    assert pickle.loads(pickle.dumps(w)) == w


def test_workload_travels_as_its_own_value() -> None:
    c = read_cluster(ROOT / "instances" / "clusters" / "paper-clustered.json")
    assert "workload" not in c.meta
    assert c.arrivals == Arrivals(rate_per_s=0.1, num_requests=100, seed=1)
    w = Workload.from_cluster(c)
    assert (w.rate_per_s, w.num_requests) == (0.1, 100)


def test_simulate_starts_at_the_files_seed(tmp_path, capsys) -> None:
    """The workload seed is used: it is the first run's seed unless --seed says otherwise."""
    doc = json.loads(TINY.read_text())
    doc["workload"].update(seed=7, num_requests=20)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    args = ("simulate", path, "--policy", "cg-bp+ws-rr", "--seeds", "2", "--json")
    code, _, err = _cli(capsys, *args, tmp_path / "a.json")
    assert code == 0, err
    assert json.loads((tmp_path / "a.json").read_text())["seeds"] == [7, 8]
    code, _, err = _cli(capsys, *args, tmp_path / "b.json", "--seed", "0")
    assert code == 0, err
    a = json.loads((tmp_path / "a.json").read_text())["runs"]
    b = json.loads((tmp_path / "b.json").read_text())["runs"]
    assert [r["seed"] for r in b] == [0, 1]
    assert a[0]["per_token_mean"] != b[0]["per_token_mean"]


def test_sim_opt_cache_covers_the_whole_cluster() -> None:
    """Two clusters that differ only in a field the old fingerprint left out (the prefill
    round trip per token) are different keys."""
    from splitopt.placement import online

    c = read_cluster(TINY)
    w = Workload.from_cluster(c, num_requests=20)
    online._SIM_OPT_CACHE.clear()
    online.choose_R_by_simulation(c, w, {"sim_opt_seeds": 1})
    d = c.replace(prefill_rtt_per_token_s=np.asarray(c.prefill_rtt_per_token_s) * 2)
    online.choose_R_by_simulation(d, w, {"sim_opt_seeds": 1})
    assert len(online._SIM_OPT_CACHE) == 2
    online.choose_R_by_simulation(pickle.loads(pickle.dumps(c)), w, {"sim_opt_seeds": 1})
    assert len(online._SIM_OPT_CACHE) == 2  # an equal cluster hits


# -- sizes before expansion ----------------------------------------------------------------------
def _doc() -> dict:
    return json.loads(TINY.read_text())


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["servers"][0].update(count=10_000_000), "servers[0].count"),
        (
            lambda d: d.update(clients=[{"id": "c", "count": 10_000_000}]),
            "clients[0].count",
        ),
        (
            lambda d: d["workload"]["jobs"][0].update(count=10_000_000),
            "workload.jobs[0].count",
        ),
        (lambda d: d["model"].update(num_blocks=1_000_000_000), "model.num_blocks"),
        (lambda d: d["servers"][0].update(count=1e30), "servers[0].count"),
    ],
)
def test_huge_counts_are_exit_2_before_expansion(tmp_path, capsys, edit, field) -> None:
    doc = _doc()
    edit(doc)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    assert path.stat().st_size < 2000
    t0 = time.perf_counter()
    code, _, err = _cli(capsys, "place", path)
    _one_line_error(code, err, str(path), field, "our limit")
    assert time.perf_counter() - t0 < 20  # generous: the point is "not minutes"


def test_totals_are_bounded_across_entries(tmp_path) -> None:
    doc = _doc()
    doc["servers"] = [{**doc["servers"][0], "id": f"s{i}", "count": 60_000} for i in range(2)]
    with pytest.raises(InputError, match=r"servers\[1\]\.count: more than 100,000 servers"):
        cluster_spec_from_dict(doc, "x.json")


def test_many_clients_check_is_linear() -> None:
    """99,999 clients (near the limit) read in well under the quadratic check's time; a
    duplicate among them is still found."""
    doc = _doc()
    doc["clients"] = [{"id": "c", "count": 99_999}]
    doc["network"] = {"kind": "clustered", "intra_rtt_s": 0.01, "inter_rtt_s": 0.1}
    doc["servers"] = [{**doc["servers"][0], "site": 1}]
    doc["clients"][0]["site"] = 1
    doc["workload"] = {"jobs": []}
    c = cluster_from_dict(doc, "x.json")
    assert c.num_clients == 99_999
    doc["clients"].append("c-99998")
    with pytest.raises(InputError, match=r"clients\[1\]: duplicate client id 'c-99998'"):
        cluster_from_dict(doc, "x.json")


@pytest.mark.parametrize("value", [0, 1.5, -0.1])
def test_memory_fraction_in_0_1(tmp_path, capsys, value) -> None:
    doc = {
        "format": "splitopt-cluster",
        "version": 1,
        "model": {"architecture": "llama-2-13b", "dtype": "int8"},
        "servers": [{"id": "h", "device": "h100-sxm", "memory_fraction": value}],
        "clients": ["c"],
        "network": {"kind": "matrix", "network_rtt_s": [[0.01]]},
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    code, _, err = _cli(capsys, "place", path)
    _one_line_error(code, err, "servers[0].memory_fraction", "(0, 1]")


def test_spec_rules_live_in_the_constructors() -> None:
    with pytest.raises(SpecError) as info:
        ClusterServerSpec("s", memory_fraction=2.0, device="h100-sxm")
    assert info.value.path == ["memory_fraction"]
    with pytest.raises(SpecError) as info:
        ClusterServerSpec("s", count=0, preset="a100-paper")
    assert info.value.path == ["count"]


# -- placement files and place -----------------------------------------------------------------
def test_place_json_without_placements_reads_back(tmp_path) -> None:
    """Results without `servers` (infeasible, error, time_limit) are written in a form
    the placement reader accepts."""
    c = read_cluster(TINY)
    ok = get_algorithm("cg-bprr").solve(c)
    results = [
        ok,
        PlacementResult.build(c, "bprr-milp", "infeasible", None, message="no placement"),
        PlacementResult.build(c, "bprr-milp", "time_limit", None),
        PlacementResult.build(c, "petals", "error", None, message="broke"),
    ]
    path = tmp_path / "p.json"
    write_placements(c, results, path)
    back = read_placements(path, c)
    assert [b[1] for b in back[1:]] == [None, None, None]
    assert back[0][1] == ok.placement
    doc = placements_to_dict(c, results)
    del doc["results"][0]["servers"]
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"results\[0\]\.servers: missing field"):
        read_placements(path, c)


def test_place_empty_algorithm_list_is_exit_2(capsys) -> None:
    code, _, err = _cli(capsys, "place", TINY, "--algorithm", ",,,")
    _one_line_error(code, err, "--algorithm")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["place", TINY, "--algorithm", "petals", "--seed", "-1"], "seed must be >= 0"),
        (["simulate", TINY, "--seed", "-1"], "whole number >= 0"),
    ],
)
def test_negative_seed_is_exit_2_up_front(capsys, argv, needle) -> None:
    code, _, err = _cli(capsys, *argv)
    _one_line_error(code, err, "seed", needle)


@pytest.mark.parametrize("value", [2**63, 1e19, 2**64 + 5])
def test_placement_numbers_past_int64_are_one_line(tmp_path, capsys, value) -> None:
    c = read_cluster(TINY)
    path = tmp_path / "p.json"
    write_placements(c, [get_algorithm("cg-bprr").solve(c)], path)
    doc = json.loads(path.read_text())
    doc["results"][0]["servers"][0]["count"] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"servers\[0\]\.count: must be at most"):
        read_placements(path, c)
    code, _, err = _cli(capsys, "validate", path)
    _one_line_error(code, err, "servers[0].count")


# -- simulation documents --------------------------------------------------------------------
def _run(policy: str, served: bool) -> SimRun:
    n = 3
    admit = np.zeros(n) if served else np.full(n, math.inf)
    return SimRun(
        policy, 0, np.zeros(n), admit, np.ones(n), np.ones(n) / 2, np.full(n, 4), np.zeros(n)
    )


def test_simulation_document_is_strict_json(tmp_path) -> None:
    c = read_cluster(TINY)
    w = Workload.from_cluster(c)
    runs = [_run("a", True), _run("b", False)]
    doc = simulation_to_dict(c, w, [0], False, summarise(runs), runs)
    text = json.dumps(doc, allow_nan=False)  # raises on NaN/Infinity
    back = json.loads(text, parse_constant=lambda x: pytest.fail(f"non-strict {x}"))
    b = back["policies"]["b"]
    assert (
        b["per_token_mean"] is None
        and "no request was served" in (b["null_reasons"]["per_token_mean"])
    )
    assert back["policies"]["a"]["per_token_mean_ci"] is None  # one seed: no CI
    assert "fewer than 2 seeds" in back["policies"]["a"]["null_reasons"]["per_token_mean_ci"]
    path = tmp_path / "s.json"
    path.write_text(text)
    assert read_simulation(path)["cluster"] == c.name
    bad = dict(back["policies"]["a"])
    del bad["null_reasons"]
    back["policies"]["a"] = bad
    path.write_text(json.dumps(back))
    with pytest.raises(InputError, match="null without a reason"):
        read_simulation(path)


def test_strict_keeps_finite_numbers() -> None:
    assert strict({"x": 1.5, "y": "s"}) == {"x": 1.5, "y": "s"}


def test_simulate_json_validates_against_its_schema(tmp_path, capsys) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from splitopt.formats import schemas

    out = tmp_path / "s.json"
    code, _, err = _cli(
        capsys,
        "simulate",
        TINY,
        "--policy",
        "cg-bp+ws-rr,petals,gbp-cr+jffc",
        "--seeds",
        "2",
        "--requests",
        "30",
        "--json",
        out,
    )
    assert code == 0, err
    text = out.read_text()
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text)
    v = jsonschema.Draft202012Validator(json.loads(schemas.shipped("simulation")))
    errors = list(v.iter_errors(doc))
    assert not errors, [e.message for e in errors[:3]]


# -- validate: every kind -------------------------------------------------------------------
def test_validate_accepts_every_kind(tmp_path, capsys) -> None:
    import splitopt
    from splitopt.formats.solution_file import write_solution
    from splitopt.metrics import summarize

    demo = ROOT / "instances" / "demo" / "scenario.json"
    problem = splitopt.read(str(demo))
    res = splitopt.solve(problem, "greedy")
    write_solution(res, summarize(res), tmp_path / "sol.json")
    c = read_cluster(TINY)
    write_placements(c, [get_algorithm("cg-bprr").solve(c)], tmp_path / "pl.json")
    runs = [_run("a", True), _run("a", False)]
    sim = simulation_to_dict(c, Workload.from_cluster(c), [0, 1], False, summarise(runs), runs)
    (tmp_path / "sim.json").write_text(json.dumps(sim, allow_nan=False))
    profile = next((ROOT / "instances" / "profiles").rglob("*.json"))
    files = {
        "problem": DATA / "tiny" / "handmade.json",
        "scenario": demo,
        "solution": tmp_path / "sol.json",
        "profile": profile,
        "cluster": TINY,
        "placement": tmp_path / "pl.json",
        "simulation": tmp_path / "sim.json",
    }
    for kind, path in files.items():
        code, out, err = _cli(capsys, "validate", path)
        assert code == 0, (kind, err)
        assert out.startswith(f"{path}: OK"), (kind, out)
    doc = json.loads(TINY.read_text())
    doc["format"] = "splitopt-nonsense"
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    code, _, err = _cli(capsys, "validate", tmp_path / "bad.json")
    _one_line_error(code, err, "format", "splitopt-simulation")


def test_read_reads_parquet(tmp_path) -> None:
    pytest.importorskip("pyarrow")
    import splitopt
    from splitopt.formats.columnar import write_problem_columnar

    problem = splitopt.read(str(DATA / "tiny" / "handmade.json"))
    path = tmp_path / "p.parquet"
    write_problem_columnar(problem, path)
    back = splitopt.read(str(path))
    assert [r.id for r in back.requests] == [r.id for r in problem.requests]
    assert back.requests[0].chain == problem.requests[0].chain


def test_spec_document_round_trip_keeps_what_was_written() -> None:
    doc = json.loads((ROOT / "instances" / "clusters" / "paper-clustered.json").read_text())
    again = cluster_spec_to_dict(cluster_spec_from_dict(doc, "x.json"))
    # numbers as written; presets, counts, sites and overhead presets kept
    assert again["servers"][0] == {"id": "a100", "preset": "a100-paper", "site": "1", "count": 2}
    assert again["network"]["overheads"] == {"preset": "paper"}
    assert cluster_from_dict(again, "x.json") == cluster_from_dict(doc, "x.json")


def test_old_meta_workload_still_works() -> None:
    """Code that put the workload in meta["workload"] (the old place) keeps working."""
    c = read_cluster(TINY)
    old = c.replace(meta={"workload": {"arrival_rate_per_s": 0.5, "num_requests": 30}})
    assert old.arrivals == Arrivals(0.5, 30) and "workload" not in old.meta
    w = Workload.from_cluster(old)
    assert (w.rate_per_s, w.num_requests) == (0.5, 30)


def test_server_from_device_bounds_its_fractions() -> None:
    from splitopt.scenario.cluster import server_from_device

    for kw in ({"memory_fraction": 1.5}, {"memory_fraction": 0.0}, {"efficiency": 2.0}):
        with pytest.raises(DataError):
            server_from_device("s", "h100-sxm", "llama-2-13b", **kw)
