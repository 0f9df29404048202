"""The cost-model bridge for many-server clusters and the paper's presets."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.errors import DataError
from splitopt.scenario.architectures import get_architecture
from splitopt.scenario.cluster import (
    MODEL_PRESETS,
    PAPER_OVERHEADS,
    block_model,
    paper_clustered,
    preset_server,
    random_cluster,
    server_from_device,
)


def test_block_model_llama_2_13b() -> None:
    a = get_architecture("llama-2-13b")
    m = block_model("llama-2-13b", "fp16")
    assert m.num_blocks == 40
    assert m.cache_bytes_per_token == 2 * 40 * 128 * 2
    # blocks hold all parameters but the embeddings, the head and the final norm
    rest = a.parameter_count() - 2 * a.vocab_size * a.hidden_size - a.hidden_size
    assert m.block_bytes * 40 / 2 == pytest.approx(rest, rel=1e-6)
    assert block_model("llama-2-13b", "int8").block_bytes == pytest.approx(m.block_bytes / 2)
    assert block_model("llama-2-13b", "fp16", "fp32").cache_bytes_per_token == 2 * 40 * 128 * 4


def test_block_model_rejects() -> None:
    with pytest.raises(DataError, match="unknown dtype"):
        block_model("llama-2-13b", "fp8")
    with pytest.raises(DataError):
        block_model("no-such-model")


def test_bloom_preset() -> None:
    m = MODEL_PRESETS["bloom-176b-nf4"]
    assert m.num_blocks == 70
    assert m.block_bytes == pytest.approx(1.3234e9, rel=1e-3)  # SPEC-PLACEMENT P4: ~1.32 GB
    assert m.cache_bytes_per_token == 2 * 14336 * 2


def test_server_from_device_times() -> None:
    s16 = server_from_device("a", "a100-80gb", "llama-2-13b", "fp16", l_in=64, l_out=128)
    s4 = server_from_device("a", "a100-80gb", "llama-2-13b", "int4", l_in=64, l_out=128)
    assert s16.decode_s > s4.decode_s > 0  # decode is memory bound: fewer weight bytes, faster
    assert s16.prefill_s(64) >= s16.prefill_s(1) > 0
    assert s16.memory_bytes == pytest.approx(80e9)
    h = server_from_device("h", "h100-sxm", "llama-2-13b", "fp16", l_in=64, l_out=128)
    assert h.decode_s < s16.decode_s


def test_paper_presets_and_overheads() -> None:
    mig = preset_server("mig-1g.10gb-paper", "m")
    assert mig.max_blocks == 4 and mig.prefill_s(20) == pytest.approx(0.1041e-3 * 20 + 0.2063547)
    c = paper_clustered()
    assert c.num_servers == 9 and c.num_clients == 3
    # site-0 client: every server is across sites; the site-2 client is near the MIGs
    assert np.allclose(c.rtt_s[0], 0.100 + PAPER_OVERHEADS.token_s)
    assert np.allclose(c.rtt_s[2, 2:], 0.005 + 0.100)
    assert c.prefill_rtt(1, 0, 20) == pytest.approx(0.005 + 0.067 + 0.7049e-3 * 20)


def test_random_cluster_is_seeded() -> None:
    a, b = random_cluster(4, num_servers=20), random_cluster(4, num_servers=20)
    assert np.array_equal(a.rtt_s, b.rtt_s)
    assert not np.array_equal(a.rtt_s, random_cluster(5, num_servers=20).rtt_s)
