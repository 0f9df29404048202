"""Client devices in cluster files: spec, compiler, reader, writer, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from splitopt.errors import InputError
from splitopt.formats.cluster_file import (
    read_cluster,
    read_cluster_spec,
    read_joint_cluster,
    write_cluster,
    write_cluster_spec,
)
from splitopt.joint import NO_DEVICE, ClientDevice, JointCluster
from splitopt.scenario.client_devices import client_device

ROOT = Path(__file__).resolve().parents[2]
JOINT = ROOT / "instances" / "joint" / "tiny-joint.json"
CLUSTERS = ROOT / "instances" / "clusters"


def test_devices_compile_per_client_in_order() -> None:
    jc = read_joint_cluster(JOINT)
    cl = jc.cluster
    assert cl.clients == ("thin", "laptop", "gpu-0", "gpu-1", "custom")
    assert jc.devices[0] == NO_DEVICE
    assert jc.devices[1] == client_device("apple-m2", "llama-2-13b", "int8", memory_fraction=0.5)
    assert jc.devices[2] == jc.devices[3] == client_device("rtx-4090", "llama-2-13b", "int8")
    assert jc.devices[4] == ClientDevice(4e9, 0.004, 0.01, 2e-5)
    # the cluster itself is what read_cluster gives: client devices change nothing there
    assert read_cluster(JOINT) == cl
    assert jc.max_client_blocks(cl.jobs[0]) == 0 and jc.max_client_blocks(cl.jobs[2]) > 0


@pytest.mark.parametrize("name", ["tiny", "paper-clustered", "random-150x70-s1"])
def test_old_files_read_with_no_devices(name: str) -> None:
    jc = read_joint_cluster(CLUSTERS / f"{name}.json")
    assert jc.devices == (NO_DEVICE,) * jc.cluster.num_clients
    assert not read_cluster_spec(CLUSTERS / f"{name}.json").has_client_devices
    assert jc.cluster == read_cluster(CLUSTERS / f"{name}.json")


def test_joint_round_trip_is_exact(tmp_path) -> None:
    jc = read_joint_cluster(JOINT)
    write_cluster(jc, tmp_path / "a.json")
    again = read_joint_cluster(tmp_path / "a.json")
    assert again.cluster == jc.cluster and again.devices == jc.devices
    write_cluster(again, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["clients"][0] == "thin"  # a client running nothing stays a bare id
    assert set(doc["clients"][4]) == {"id", "memory_bytes", "decode_s", "prefill_s0", "prefill_s1"}


def test_spec_round_trip_keeps_the_device_names(tmp_path) -> None:
    spec = read_cluster_spec(JOINT)
    assert spec.has_client_devices
    write_cluster_spec(spec, tmp_path / "s.json")
    assert read_cluster_spec(tmp_path / "s.json") == spec
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["clients"][1] == {"id": "laptop", "device": "apple-m2", "memory_fraction": 0.5}


def test_schema_accepts_device_clients() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from splitopt.formats import schemas

    v = jsonschema.Draft202012Validator(json.loads(schemas.shipped("cluster")))
    assert list(v.iter_errors(json.loads(JOINT.read_text()))) == []
    doc = json.loads(JOINT.read_text())
    doc["clients"][1]["memory_bytes"] = 1  # a device and figures at once
    assert list(v.iter_errors(doc))


def _doc(**client) -> dict:
    d = json.loads(JOINT.read_text())
    d["clients"][3] = {"id": "custom", **client}
    return d


@pytest.mark.parametrize(
    ("client", "where", "what"),
    [
        ({"device": "nope"}, "clients[3].device", "unknown"),
        ({"device": "l4", "memory_bytes": 1}, "clients[3].memory_bytes", "unknown field"),
        ({"memory_bytes": 1, "decode_s": 0.1}, "clients[3].prefill_s0", "missing field"),
        ({"memory_bytes": -1, "decode_s": 0, "prefill_s0": 0}, "clients[3].memory_bytes", ""),
        ({"device": "l4", "memory_fraction": 1.5}, "clients[3].memory_fraction", "(0, 1]"),
        ({"device": "l4", "efficiency": 0}, "clients[3].efficiency", ""),
        ({"memory_fraction": 0.5}, "clients[3].memory_fraction", "unknown field"),
        ({"device": 3}, "clients[3].device", "string"),
    ],
)
def test_bad_client_devices_name_the_field(tmp_path, client, where, what) -> None:
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(_doc(**client)))
    with pytest.raises(InputError) as info:
        read_joint_cluster(p)
    msg = str(info.value)
    assert msg.startswith(f"{p}: {where}"), msg
    assert what in msg and "\n" not in msg


def test_a_catalogue_client_device_needs_an_architecture(tmp_path) -> None:
    doc = json.loads((CLUSTERS / "tiny.json").read_text())
    doc["clients"][0] = {"id": "near-big", "device": "rtx-4090"}
    p = tmp_path / "t.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"clients\[0\]\.device: needs a model given by"):
        read_joint_cluster(p)


def test_devices_must_match_the_clients() -> None:
    cl = read_cluster(CLUSTERS / "tiny.json")
    from splitopt.errors import DataError
    from splitopt.scenario.cluster_compile import cluster_spec

    with pytest.raises(DataError):
        cluster_spec(cl, (NO_DEVICE,))
    assert JointCluster.without_devices(cl).devices == (NO_DEVICE,) * cl.num_clients
