"""A chain as the label and flip kernels take it (:mod:`splitopt.solvers.kernels`)."""

from __future__ import annotations

import numpy as np

from splitopt.evaluate import RTOL
from splitopt.problem import Chain


def kernel_args(
    chain: Chain,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int, float]:
    """The six per-layer/boundary arrays (client time, server time, uplink,
    downlink, server work, client memory), start and end on the server (0/1), and
    the SLA with the evaluator's tolerance (s)."""
    return (
        chain.client_time_s,
        chain.server_time_s,
        chain.uplink_s,
        chain.downlink_s,
        chain.server_work,
        chain.client_memory_bytes,
        int(chain.start == "server"),
        int(chain.end == "server"),
        chain.sla_s * (1 + RTOL),
    )
