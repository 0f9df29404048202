"""The many-server model: validation and immutability."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.errors import DataError
from splitopt.placement import get_algorithm, list_algorithms
from splitopt.placement.model import BlockModel, Cluster, Job, Placement, Server
from tests.placement.conftest import hand_cluster


def test_block_model_cache_bytes() -> None:
    m = BlockModel(70, 1.32e9, 2 * 112 * 128 * 2)
    assert m.cache_bytes(20, 64) == 2 * 112 * 128 * 2 * 84


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_blocks": 0}, "num_blocks"),
        ({"num_blocks": 2.5}, "num_blocks"),
        ({"block_bytes": -1.0}, "block_bytes"),
        ({"cache_bytes_per_token": float("nan")}, "cache_bytes_per_token"),
        ({"block_bytes": True}, "block_bytes"),
    ],
)
def test_block_model_rejects(kwargs: dict, match: str) -> None:
    args = {"num_blocks": 4, "block_bytes": 1.0, "cache_bytes_per_token": 1.0} | kwargs
    with pytest.raises(DataError, match=match):
        BlockModel(**args)


def test_server_prefill_and_validation() -> None:
    s = Server("a100", 79.13e9, 3.2197e-3, 32.99e-3, 0.0743e-3)
    assert s.prefill_s(20) == pytest.approx(32.99e-3 + 20 * 0.0743e-3)
    with pytest.raises(DataError, match="memory_bytes"):
        Server("x", -1.0, 0.1, 0.1)
    with pytest.raises(DataError, match="max_blocks"):
        Server("x", 1.0, 0.1, 0.1, max_blocks=-1)
    with pytest.raises(DataError, match="id"):
        Server("", 1.0, 0.1, 0.1)


def test_job_validation() -> None:
    with pytest.raises(DataError, match="l_in"):
        Job(0, 0, 5)
    with pytest.raises(DataError, match="l_out"):
        Job(0, 1, 0)


def test_cluster_arrays_are_frozen_and_checked() -> None:
    c = hand_cluster()
    assert not c.rtt_s.flags.writeable
    assert c.prefill_rtt(0, 0, 10) == pytest.approx(0.1 + 0.001 * 10)
    assert c.caps().tolist() == [4, 4, 4]
    with pytest.raises(ValueError):
        c.rtt_s[0, 0] = 1.0
    with pytest.raises(DataError, match="rtt_s"):
        Cluster("x", c.model, c.servers, c.clients, np.zeros((2, 3)), c.prefill_rtt_s)
    with pytest.raises(DataError, match="prefill_rtt_s"):
        Cluster("x", c.model, c.servers, c.clients, c.rtt_s, -np.ones((1, 3)))
    with pytest.raises(DataError, match="duplicate server id"):
        Cluster(
            "x", c.model, (c.servers[0], c.servers[0], c.servers[1]), c.clients, c.rtt_s, c.rtt_s
        )
    with pytest.raises(DataError, match="client index"):
        c.with_jobs([Job(1, 1, 1)])


def test_placement_validation_and_equality() -> None:
    p = Placement.from_ranges([(1, 2), None, (3, 0)])
    assert p.first.tolist() == [1, 0, 0]  # first is normalised to 0 where nothing is hosted
    assert p.end.tolist() == [3, 0, 0]
    assert p == Placement(np.array([1, 5, 0]), np.array([2, 0, 0]))
    assert not p.first.flags.writeable
    with pytest.raises(DataError, match="count"):
        Placement(np.array([1]), np.array([-1]))
    with pytest.raises(DataError, match="first"):
        Placement(np.array([0]), np.array([2]))
    with pytest.raises(DataError, match="whole"):
        Placement(np.array([1.5]), np.array([2]))


def test_registry_names() -> None:
    names = list_algorithms()
    for n in (
        "cg-bprr",
        "petals",
        "bprr-milp",
        "bprr-milp-highs",
        "bprr-milp-cbc",
        "bprr-milp-cpsat",
        "bprr-milp-scip",
        "bprr-brute",
    ):
        assert n in names
    from splitopt.errors import SolverError

    with pytest.raises(SolverError, match="unknown placement algorithm"):
        get_algorithm("nope")
