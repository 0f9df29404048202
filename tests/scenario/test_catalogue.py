"""The catalogues are data (splitopt/data/*.json), checked by the same constructors
as explicit objects in scenario files."""

from __future__ import annotations

import pytest

from splitopt.errors import SpecError
from splitopt.formats.scenario_file import scenario_from_dict
from splitopt.scenario import ARCHITECTURES, DEVICES, NETWORKS, catalogue
from splitopt.scenario.devices import FILE_NAMES, Device

CATALOGUES = {"architectures": ARCHITECTURES, "devices": DEVICES, "networks": NETWORKS}


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_every_entry_cites_a_source_and_is_loaded(name: str) -> None:
    entries = catalogue.entries(name)
    assert [e["name"] for e in entries] == list(CATALOGUES[name])
    for e in entries:
        assert isinstance(e.get("source"), str) and e["source"].strip(), e["name"]


def _doc(device: object, network: object, architecture: object) -> dict:
    return {
        "format": "splitopt-scenario",
        "version": 1,
        "server": {"device": "h100-sxm"},
        "clients": {"c": {"device": device, "network": network}},
        "models": {"m": {"architecture": architecture}},
        "requests": [{"client": "c", "model": "m", "prompt_tokens": 8, "sla_s": 1.0}],
    }


def test_catalogue_entries_read_as_explicit_scenario_objects_are_equal() -> None:
    dev = catalogue.entries("devices")[3]
    net = catalogue.entries("networks")[1]
    arch = next(e for e in catalogue.entries("architectures") if e["name"] == "llama-3.2-1b")
    scn = scenario_from_dict(_doc(dev, net, arch))
    c = scn.clients["c"]
    assert c.device == DEVICES[dev["name"]]
    assert c.network == NETWORKS[net["name"]]
    assert scn.models["m"].architecture == ARCHITECTURES["llama-3.2-1b"]


def test_a_broken_entry_names_file_entry_and_field(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = catalogue.entries("devices")
    entries[2]["memory_bandwidth_bytes_per_s"] = -1
    monkeypatch.setattr(catalogue, "entries", lambda name: entries)
    with pytest.raises(SpecError) as info:
        catalogue.load("devices", Device, FILE_NAMES)
    assert info.value.path == ["devices.json", "entries", 2, "memory_bandwidth_bytes_per_s"]
    assert "must be > 0" in info.value.reason
    entries[2]["memory_bandwidth_bytes_per_s"] = 1e12
    entries[2]["watts"] = 5
    with pytest.raises(SpecError, match="watts"):
        catalogue.load("devices", Device, FILE_NAMES)


def test_constructors_check_types() -> None:
    from splitopt.scenario import get_architecture, get_network

    with pytest.raises(SpecError) as info:
        get_architecture("gpt2").replace(qkv_bias="yes")
    assert info.value.path == ["qkv_bias"]
    with pytest.raises(SpecError) as info:
        get_network("5g").replace(uplink_bps="fast")
    assert info.value.path == ["uplink_bps"] and "must be a number" in info.value.reason
    with pytest.raises(SpecError, match="whole number"):
        get_architecture("gpt2").replace(num_layers=2.5)
