"""Measured profiles: the file format, interpolation, use in scenarios, the CLI."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from splitopt.cli import main
from splitopt.errors import InputError, SpecError
from splitopt.formats.profile_file import profile_to_dict, read_profile
from splitopt.formats.read import compile_file
from splitopt.formats.scenario_file import read_scenario, scenario_from_dict, scenario_to_dict
from splitopt.scenario.architectures import ARCHITECTURES
from splitopt.scenario.compile import compile_scenario
from splitopt.scenario.costmodel import device_time, precision, roofline_profile, workload
from splitopt.scenario.devices import DEVICES
from splitopt.scenario.profiles import Profile

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "instances" / "profiles"
EXAMPLE = PROFILES / "llama-3.2-1b-fp16-apple-m2-example.json"


def _roofline(n: np.ndarray, g: np.ndarray) -> np.ndarray:
    t = ARCHITECTURES["llama-3.2-1b"].layers("block")
    w = workload(t, precision("fp16"), n, g)
    return device_time(w, DEVICES["apple-m2"], "fp16")


def test_shipped_example_is_the_roofline_at_its_grid() -> None:
    p = read_profile(EXAMPLE)
    assert p.num_layers == ARCHITECTURES["llama-3.2-1b"].layers("block").num_layers
    n = np.array(p.prompt_tokens, dtype=float)
    np.testing.assert_allclose(p.device_time(n, np.zeros_like(n)), _roofline(n, 0 * n), rtol=1e-12)
    # a decode step at a grid context c is step 1 after a prompt of c - 1
    c = np.array(p.contexts, dtype=float)
    got = p.device_time(c - 1, np.full_like(c, 2.0)) - p.device_time(c - 1, np.zeros_like(c))
    want = _roofline(c - 1, np.full_like(c, 2.0)) - _roofline(c - 1, np.zeros_like(c))
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_interpolation_between_and_beyond_the_grid() -> None:
    p = Profile(
        "x",
        "llama-3.2-1b",
        "fp16",
        "block",
        (10, 20),
        (10, 30),
        prefill_s=[[1.0, 2.0]],
        decode_step_s=[[0.1, 0.3]],
        weight_bytes=[5.0],
    )
    pre, dec = p.phase_times(np.array([15.0, 40.0, 5.0]), np.array([1.0, 1.0, 3.0]))
    np.testing.assert_allclose(pre[:, 0], [1.5, 4.0, 0.5])
    # prompt 5, 2 decode steps at contexts 6 and 7: 0.1 + (c - 10) * 0.01, floored at 0
    np.testing.assert_allclose(dec[:, 0], [0.0, 0.0, 0.06 + 0.07])


def test_scenario_uses_the_profile_for_that_client_only() -> None:
    scn = read_scenario(PROFILES / "scenario.json")
    prof = scn.clients["laptop"].profiles[0]
    problem = compile_scenario(scn)
    chain = problem.requests[0].chain
    n, g = np.array([256.0]), np.array([128.0])
    np.testing.assert_allclose(chain.client_time_s, prof.device_time(n, g)[0])
    # doubling the profile doubles the client's times and leaves the server's alone
    doubled = dataclasses.replace(
        prof, prefill_s=prof.prefill_s * 2, decode_step_s=prof.decode_step_s * 2
    )
    laptop = dataclasses.replace(scn.clients["laptop"], profiles=(doubled,))
    scn2 = scn.replace(clients={"laptop": laptop})
    chain2 = compile_scenario(scn2).requests[0].chain
    np.testing.assert_allclose(chain2.client_time_s, 2 * chain.client_time_s)
    np.testing.assert_array_equal(chain2.server_time_s, chain.server_time_s)
    # without the profile the client is costed by the roofline (here: the same model)
    plain = dataclasses.replace(scn.clients["laptop"], profiles=())
    chain3 = compile_scenario(scn.replace(clients={"laptop": plain})).requests[0].chain
    np.testing.assert_allclose(chain3.client_time_s, _roofline(n, g)[0], rtol=1e-12)
    assert len(compile_file(PROFILES / "scenario.json").requests) == 6


def test_profiles_round_trip_inline() -> None:
    scn = read_scenario(PROFILES / "scenario.json")
    again = scenario_from_dict(json.loads(json.dumps(scenario_to_dict(scn))))
    assert again.clients["laptop"].profiles[0].name == scn.clients["laptop"].profiles[0].name
    np.testing.assert_array_equal(
        compile_scenario(again).requests[0].chain.client_time_s,
        compile_scenario(scn).requests[0].chain.client_time_s,
    )


def _doc() -> dict:
    return json.loads(EXAMPLE.read_text())


@pytest.mark.parametrize(
    ("edit", "path", "reason"),
    [
        (lambda d: d.update(prompt_tokens=[16]), "prompt_tokens", "at least 2"),
        (lambda d: d.update(contexts=[64, 64, 2048, 4096]), "contexts", "increasing"),
        (lambda d: d["layers"][3].update(prefill_s=[1, 2]), "layers[3].prefill_s", "length"),
        (
            lambda d: d["layers"][0].update(decode_step_s=[-1, 0, 0, 0]),
            "layers[0].decode_step_s[0]",
            "non-negative",
        ),
        (lambda d: d["layers"][0].pop("weight_bytes"), "layers[0]", "weight_bytes"),
        (lambda d: d.update(format="splitopt-problem"), "format", "splitopt-profile"),
    ],
)
def test_bad_profile_files_name_the_path(edit, path: str, reason: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc = _doc()
    edit(doc)
    f = tmp_path / "p.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(InputError) as exc:
        read_profile(f)
    msg = str(exc.value)
    assert str(f) in msg and path in msg and reason in msg, msg


def test_profile_with_wrong_layer_count_is_refused(tmp_path: Path) -> None:
    doc = _doc()
    doc["layers"] = doc["layers"][:-1]
    (tmp_path / "p.json").write_text(json.dumps(doc))
    scn = json.loads((PROFILES / "scenario.json").read_text())
    scn["clients"]["laptop"]["profiles"] = ["p.json"]
    (tmp_path / "s.json").write_text(json.dumps(scn))
    with pytest.raises(InputError, match=r"clients\.laptop\.profiles\[0\]: has 17 layers"):
        read_scenario(tmp_path / "s.json")


def test_missing_profile_file_is_an_input_error(tmp_path: Path) -> None:
    scn = json.loads((PROFILES / "scenario.json").read_text())
    scn["clients"]["laptop"]["profiles"] = ["nope.json"]
    (tmp_path / "s.json").write_text(json.dumps(scn))
    assert main(["validate", str(tmp_path / "s.json")]) == 2


def test_roofline_profile_needs_contexts_of_two() -> None:
    t = ARCHITECTURES["gpt2"].layers("block")
    with pytest.raises(ValueError, match="contexts"):
        roofline_profile(t, precision("fp16"), DEVICES["apple-m2"], (1, 2), (1, 8), "gpt2")
    with pytest.raises(SpecError, match="increasing"):
        roofline_profile(t, precision("fp16"), DEVICES["apple-m2"], (4, 2), (2, 8), "gpt2")


def test_profile_command_without_torch_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    out = tmp_path / "p.json"
    assert main(["profile", "llama-3.2-1b", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'splitopt[profile]'" in err and "Traceback" not in err
    assert not out.exists()


def test_profile_dict_keeps_layer_names() -> None:
    p = read_profile(EXAMPLE)
    names = list(ARCHITECTURES["llama-3.2-1b"].layers("block").names)
    assert [x["name"] for x in profile_to_dict(p, names)["layers"]] == names


MEASURED = PROFILES / "gpt2-fp32-cpu-measured.json"


def test_shipped_measured_profile_carries_its_provenance_and_drives_a_solve() -> None:
    """The measured profile (splitopt profile, PyTorch on a CPU; see the README
    there): read without PyTorch, provenance recorded, and a scenario naming it
    compiles, costs its client with it and solves."""
    p = read_profile(MEASURED)
    assert (p.model, p.dtype, p.granularity) == ("gpt2", "fp32", "block")
    assert p.num_layers == ARCHITECTURES["gpt2"].layers("block").num_layers
    assert p.device.startswith("cpu: ") and p.engine.startswith("pytorch ")
    assert "measured 20" in p.notes and "thread" in p.notes
    assert (p.prefill_s > 0).all() and (p.decode_step_s > 0).all()
    scn = read_scenario(PROFILES / "scenario-gpt2-cpu.json")
    problem = compile_scenario(scn)
    chain = problem.requests[0].chain
    n, g = np.array([128.0]), np.array([64.0])
    np.testing.assert_allclose(chain.client_time_s, p.device_time(n, g)[0])
    res = {
        s: main(["solve", str(PROFILES / "scenario-gpt2-cpu.json"), "--solver", s])
        for s in ("dp-exact", "greedy")
    }
    assert res == {"dp-exact": 0, "greedy": 0}
