"""A small hand-checked cluster shared by the placement tests."""

from __future__ import annotations

import numpy as np
import pytest

from splitopt.placement.model import BlockModel, Cluster, Job, Placement, Server


def hand_cluster(memory: float = 100.0, jobs: tuple[Job, ...] | None = None) -> Cluster:
    """L = 4 blocks of 10 B, 1 B of cache per token per block, three servers, one client."""
    model = BlockModel(4, 10.0, 1.0, name="toy")
    servers = (
        Server("s0", memory, decode_s=0.1, prefill_s0=0.5, prefill_s1=0.01),
        Server("s1", memory, decode_s=0.2, prefill_s0=1.0, prefill_s1=0.0),
        Server("s2", memory, decode_s=0.3, prefill_s0=0.2, prefill_s1=0.0, max_blocks=4),
    )
    return Cluster(
        "hand",
        model,
        servers,
        ("c0",),
        rtt_s=np.array([[0.01, 0.02, 0.03]]),
        prefill_rtt_s=np.array([[0.1, 0.2, 0.3]]),
        prefill_rtt_per_token_s=np.array([[0.001, 0.002, 0.0]]),
        jobs=(Job(0, 10, 5),) if jobs is None else jobs,
    )


#: s0 hosts 1..2, s1 hosts 2..4, s2 hosts 1..4.
HAND_PLACEMENT = Placement.from_ranges([(1, 2), (2, 3), (1, 4)])


@pytest.fixture
def cluster() -> Cluster:
    return hand_cluster()
