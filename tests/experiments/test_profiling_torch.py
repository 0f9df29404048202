"""``splitopt profile`` with PyTorch (only where PyTorch is installed; the
profile-file path is tested without it in tests/scenario/test_profiles.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from splitopt.cli import main
from splitopt.formats.profile_file import read_profile
from splitopt.formats.scenario_file import scenario_from_dict
from splitopt.scenario.architectures import ARCHITECTURES
from splitopt.scenario.compile import compile_scenario


def test_profile_measures_a_small_model_and_a_scenario_uses_it(tmp_path: Path) -> None:
    out = tmp_path / "gpt2.json"
    args = ["profile", "gpt2", "--dtype", "fp32", "--prompt-tokens", "4,8"]
    assert main([*args, "--contexts", "4,8", "--repeats", "1", "-o", str(out)]) == 0
    p = read_profile(out)
    table = ARCHITECTURES["gpt2"].layers("block")
    assert p.num_layers == table.num_layers
    assert p.prompt_tokens == (4, 8) and p.contexts == (4, 8)
    assert np.isfinite(p.prefill_s).all() and (p.prefill_s > 0).all()
    assert (p.decode_step_s > 0).all()
    # a block's measured weight bytes: its parameters in fp32 (LayerNorm as measured)
    block = table.names.index("block0")
    assert p.weight_bytes[block] == pytest.approx(table.params[block] * 4, rel=0.01)
    scn = scenario_from_dict(
        {
            "format": "splitopt-scenario",
            "version": 1,
            "server": {"device": "a100-80gb"},
            "clients": {"c": {"device": "apple-m2", "network": "wifi-6", "profiles": [str(out)]}},
            "models": {"m": {"architecture": "gpt2", "dtype": "fp32"}},
            "requests": [
                {
                    "class": "a",
                    "client": "c",
                    "model": "m",
                    "prompt_tokens": 6,
                    "output_tokens": 3,
                    "sla_s": 1.0,
                }
            ],
        }
    )
    chain = compile_scenario(scn).requests[0].chain
    want = p.device_time(np.array([6.0]), np.array([3.0]))[0]
    np.testing.assert_allclose(chain.client_time_s, want)
