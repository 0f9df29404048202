"""splitopt-cluster and splitopt-placement files: errors, round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from splitopt.errors import InputError
from splitopt.formats.cluster_file import read_cluster, write_cluster
from splitopt.formats.placement_file import read_placements, write_placements
from splitopt.placement import get_algorithm
from splitopt.placement.evaluate import evaluate
from splitopt.scenario.cluster import paper_clustered, random_cluster
from tests.conftest import DATA

BROKEN = DATA / "broken-cluster"
EXPECTED: dict[str, str] = json.loads((BROKEN / "expected.json").read_text())
INSTANCES = DATA.parent.parent / "instances" / "clusters"


def test_every_broken_file_has_an_expectation() -> None:
    files = {p.name for p in BROKEN.glob("*.json")} - {"expected.json"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_cluster_message(name: str) -> None:
    with pytest.raises(InputError) as info:
        read_cluster(BROKEN / name)
    msg = str(info.value)
    assert msg.startswith(str(BROKEN / name) + ": "), msg
    assert EXPECTED[name] in msg, msg
    assert "\n" not in msg


def assert_same(a, b) -> None:
    assert a.name == b.name and a.model == b.model and a.servers == b.servers
    assert a.clients == b.clients and a.jobs == b.jobs
    for f in ("rtt_s", "prefill_rtt_s", "prefill_rtt_per_token_s", "network_rtt_s"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


@pytest.mark.parametrize(
    "cluster", [paper_clustered(), random_cluster(2, num_servers=30, num_blocks=12)], ids=str
)
def test_round_trip_is_exact(tmp_path, cluster) -> None:
    path = tmp_path / "c.json"
    write_cluster(cluster, path)
    again = read_cluster(path)
    assert_same(cluster, again)
    write_cluster(again, tmp_path / "d.json")
    assert path.read_text() == (tmp_path / "d.json").read_text()


def test_clustered_file_equals_the_generator() -> None:
    """instances/clusters/paper-clustered.json (sites, presets) == paper_clustered(2 per site)."""
    c = read_cluster(INSTANCES / "paper-clustered.json")
    want = paper_clustered(clients_per_site=(2, 2, 2), jobs_per_client=1)
    for f in ("rtt_s", "prefill_rtt_s", "prefill_rtt_per_token_s", "network_rtt_s"):
        assert np.array_equal(getattr(c, f), getattr(want, f)), f
    assert [s.memory_bytes for s in c.servers] == [s.memory_bytes for s in want.servers]
    assert c.model == want.model and len(c.jobs) == 6


@pytest.mark.parametrize("name", ["tiny", "paper-clustered", "random-150x70-s1"])
def test_shipped_clusters_read(name: str) -> None:
    c = read_cluster(INSTANCES / f"{name}.json")
    assert c.jobs


def test_shipped_clusters_regenerate_byte_for_byte(tmp_path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_clusters", INSTANCES / "make_clusters.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(tmp_path)
    for path in INSTANCES.glob("*.json"):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_device_servers_from_the_catalogue(tmp_path) -> None:
    doc = {
        "format": "splitopt-cluster",
        "version": 1,
        "model": {"architecture": "llama-2-13b", "dtype": "int8"},
        "servers": [{"id": "h", "device": "h100-sxm", "count": 2, "memory_fraction": 0.9}],
        "clients": ["c"],
        "network": {"kind": "matrix", "network_rtt_s": [[0.01, 0.02]]},
        "workload": {"jobs": [{"client": "c", "l_in": 10, "l_out": 20}]},
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(doc))
    c = read_cluster(path)
    assert [s.id for s in c.servers] == ["h-0", "h-1"]
    assert c.model.num_blocks == 40 and c.servers[0].decode_s > 0
    assert c.meta == {}


def test_placement_file_round_trip(tmp_path) -> None:
    c = paper_clustered()
    results = [get_algorithm(a).solve(c) for a in ("cg-bprr", "petals")]
    path = tmp_path / "p.json"
    write_placements(c, results, path)
    back = read_placements(path, c)
    for res, (alg, placement, routes) in zip(results, back, strict=True):
        assert alg == res.algorithm and placement == res.placement and routes == res.routes
        assert evaluate(c, placement, routes).objective == res.objective
    doc = json.loads(path.read_text())
    assert doc["results"][0]["metrics"]["bound_kind"] == "upper-per-token"


def test_placement_file_unknown_server(tmp_path) -> None:
    c = paper_clustered()
    res = get_algorithm("cg-bprr").solve(c)
    path = tmp_path / "p.json"
    write_placements(c, [res], path)
    doc = json.loads(path.read_text())
    doc["results"][0]["routes"][0][0] = "gpu-9"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"results\[0\]\.routes\[0\]\[0\]: unknown server 'gpu-9'"):
        read_placements(path, c)
