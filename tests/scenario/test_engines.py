"""Engine profiles and the device figures they set; scenario files name them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from splitopt.errors import InputError, SpecError
from splitopt.formats.scenario_file import read_scenario, scenario_from_dict, scenario_to_dict
from splitopt.scenario.devices import DEVICES
from splitopt.scenario.engines import ENGINES, Engine, get_engine

DATA = Path(__file__).resolve().parents[1] / "data" / "scenario"


def test_profiles_load_with_aliases_and_sources() -> None:
    assert get_engine("ollama") is get_engine("llama.cpp")
    for e in ENGINES.values():
        assert e.source
        for kind, figs in e.figures.items():
            assert figs, (e.name, kind)
    with pytest.raises(KeyError, match="valid engines"):
        get_engine("nope")


def test_apply_sets_the_kind_figures_only() -> None:
    eng = get_engine("llama.cpp")
    a100 = DEVICES["a100-80gb"]
    tuned = eng.apply(a100)
    figs = eng.figures["datacenter-gpu"]
    for k, v in figs.items():
        assert getattr(tuned, k) == v
    assert tuned.memory_bandwidth == a100.memory_bandwidth
    laptop = DEVICES["apple-m2"]
    assert "laptop" not in eng.figures
    assert eng.apply(laptop) == laptop


def test_bad_profile_figures_are_refused() -> None:
    with pytest.raises(SpecError, match="unknown figure"):
        Engine("x", {"laptop": {"speed": 1.0}})
    with pytest.raises(SpecError, match=r"\(0, 1\]"):
        Engine("x", {"laptop": {"compute_efficiency": 1.5}})
    with pytest.raises(SpecError, match="non-negative"):
        Engine("x", {"laptop": {"step_overhead_s": -1.0}})


def _doc(server: dict) -> dict:
    doc = json.loads((DATA / "good" / "minimal.json").read_text())
    doc["server"] = server
    return doc


def test_scenario_engine_then_explicit_figures() -> None:
    scn = scenario_from_dict(_doc({"device": "a100-80gb", "engine": "llama.cpp"}))
    assert (
        scn.server.device.compute_efficiency
        == ENGINES["llama.cpp"].figures["datacenter-gpu"]["compute_efficiency"]
    )
    scn = scenario_from_dict(
        _doc({"device": "a100-80gb", "engine": "llama.cpp", "compute_efficiency": 0.9})
    )
    d = scn.server.device
    assert d.compute_efficiency == 0.9
    assert (
        d.bandwidth_efficiency
        == ENGINES["llama.cpp"].figures["datacenter-gpu"]["bandwidth_efficiency"]
    )
    # efficiency is the shorthand for both; a specific figure given with it wins
    scn = scenario_from_dict(_doc({"device": "a100-80gb", "efficiency": 0.3}))
    assert scn.server.device.compute_efficiency == scn.server.device.bandwidth_efficiency == 0.3
    scn = scenario_from_dict(
        _doc(
            {
                "device": "a100-80gb",
                "efficiency": 0.3,
                "step_overhead_s": 0.004,
                "bandwidth_efficiency": 0.8,
            }
        )
    )
    d = scn.server.device
    assert (d.compute_efficiency, d.bandwidth_efficiency, d.step_overhead_s) == (0.3, 0.8, 0.004)
    # the figures survive a round trip through the file
    again = scenario_from_dict(scenario_to_dict(scn))
    assert again.server.device == d


@pytest.mark.parametrize(
    ("server", "path", "reason"),
    [
        ({"device": "a100-80gb", "engine": "tgi"}, "server.engine", "unknown engine"),
        ({"device": "a100-80gb", "step_overhead_s": -1}, "server", "non-negative"),
        ({"device": "a100-80gb", "compute_efficiency": 0}, "server", "(0, 1]"),
    ],
)
def test_bad_engine_fields_name_the_path(server: dict, path: str, reason: str) -> None:
    with pytest.raises(InputError) as exc:
        scenario_from_dict(_doc(server), "s.json")
    assert path in str(exc.value) and reason in str(exc.value)


def test_mixed_fixture_still_reads() -> None:
    scn = read_scenario(DATA / "good" / "mixed.json")
    assert scn.server.device.efficiency == 0.5
