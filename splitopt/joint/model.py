"""The joint model: clients that run blocks too (client part -> swarm chain -> client part).

A request from client ``c`` is served by a *route of segments*: each segment is a
run of consecutive blocks on one device, either the client itself (device
:data:`CLIENT`) or a server ``j`` of the swarm. Communication stays hub-and-spoke
as in the many-server model: the client relays activations, so every *visit* to a
server ``j`` costs its round trips (``t^I_cj(l_in)`` once for the prefill, ``t_cj``
per later token) and running blocks on the client costs no network time.

Hop rule (ours; it makes both halves special cases, see ``docs``):

* a server visit starts at any block the server hosts;
* it runs to the end of the server's range, unless the *client* runs the next
  block, in which case it may stop earlier (the client then takes over);
* two consecutive server visits obey the many-server hop rule (the next server
  hosts the next block needed and runs to the end of its range).

So a client that runs nothing gives exactly the many-server routes, and one server
hosting every block gives the split problem's arbitrary client/server alternation.

Units: seconds, bytes, tokens; blocks are 1-based. Assumption (ours): a client
serves one of its requests at a time, so its memory must hold the weights and the
KV cache of the blocks it runs for that request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from splitopt.errors import DataError
from splitopt.evaluate import RTOL
from splitopt.placement.model import Cluster, Job

#: Device index of the client in a :class:`Segment`.
CLIENT = -1
#: The per-request objectives of the joint routing DP (:func:`splitopt.joint.route.best_route`):
#: least time T_r (BPRR's), fewest swarm blocks within an SLA (SplitLLM's), least pipeline
#: bottleneck, i.e. most throughput (PipeEdge's; our reading, see
#: :func:`splitopt.joint.evaluate.route_bottleneck`).
OBJECTIVES = ("time", "swarm-work", "throughput")
#: The objectives the joint MILP and the online simulator take (throughput: the DP only).
TIME_OBJECTIVES = ("time", "swarm-work")


def _nonneg(name: str, value: object) -> float:
    if isinstance(value, bool):
        raise DataError(name, f"must be a number, got {value!r}")
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise DataError(name, f"must be a number, got {value!r}") from None
    if not math.isfinite(x) or x < 0:
        raise DataError(name, f"must be finite and non-negative, got {value!r}")
    return x


@dataclass(frozen=True)
class ClientDevice:
    """A client that can run blocks: usable memory (bytes), per-block decode time
    (s per token per block) and affine per-block prefill time
    ``prefill_s0 + prefill_s1 * l_in`` (s per block).

    ``memory_bytes = 0`` means the client runs no block (the many-server model).
    """

    memory_bytes: float = 0.0
    decode_s: float = 0.0
    prefill_s0: float = 0.0
    prefill_s1: float = 0.0

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "decode_s", "prefill_s0", "prefill_s1"):
            object.__setattr__(self, name, _nonneg(name, getattr(self, name)))

    def prefill_s(self, l_in: int) -> float:
        """Prefill seconds per block for a prompt of ``l_in`` tokens."""
        return self.prefill_s0 + self.prefill_s1 * l_in


#: A client that runs nothing.
NO_DEVICE = ClientDevice()


@dataclass(frozen=True)
class Segment:
    """Blocks ``first .. last`` (1-based, inclusive) run on ``device``
    (a server index, or :data:`CLIENT`)."""

    device: int
    first: int
    last: int

    @property
    def blocks(self) -> int:
        return self.last - self.first + 1


#: A request's route in the joint model.
JointRoute = tuple[Segment, ...]


@dataclass(frozen=True, eq=False)
class JointCluster:
    """A many-server :class:`Cluster` whose clients are devices.

    ``devices[c]`` is client ``c``'s device (:data:`NO_DEVICE` where it runs nothing).
    """

    cluster: Cluster
    devices: tuple[ClientDevice, ...]

    def __post_init__(self) -> None:
        devs = tuple(self.devices)
        if len(devs) != self.cluster.num_clients:
            raise DataError(
                "devices",
                f"has {len(devs)} entries, the cluster has {self.cluster.num_clients} clients",
            )
        for i, d in enumerate(devs):
            if not isinstance(d, ClientDevice):
                raise DataError(f"devices[{i}]", "must be a ClientDevice")
        object.__setattr__(self, "devices", devs)

    @classmethod
    def without_devices(cls, cluster: Cluster) -> JointCluster:
        """Every client runs nothing: the many-server model."""
        return cls(cluster, (NO_DEVICE,) * cluster.num_clients)

    @property
    def num_blocks(self) -> int:
        return self.cluster.num_blocks

    def client_block_bytes(self, job: Job) -> float:
        """Client bytes one block needs for ``job``: weights plus its KV cache."""
        m = self.cluster.model
        return m.block_bytes + m.cache_bytes(job.l_in, job.l_out)

    def max_client_blocks(self, job: Job) -> int:
        """How many blocks ``job``'s client can hold (0..L)."""
        dev = self.devices[job.client]
        per = self.client_block_bytes(job)
        if dev.memory_bytes <= 0:
            return 0
        if per <= 0:
            return self.num_blocks
        # the evaluator's rule: n * per <= M * (1 + RTOL)
        n = int(min(self.num_blocks, math.floor(dev.memory_bytes * (1.0 + RTOL) / per)))
        while n > 0 and n * per > dev.memory_bytes * (1.0 + RTOL):
            n -= 1
        return n

    def costs(self, job: Job) -> tuple[np.ndarray, np.ndarray, float]:
        """Per-request cost figures: (visit cost per server, block cost per server,
        client cost per block), each the prefill part plus ``l_out - 1`` decode steps (s)."""
        cl = self.cluster
        c, l_in, l_out = job.client, job.l_in, job.l_out
        S = cl.num_servers
        visit = np.array(
            [cl.prefill_rtt(c, j, l_in) + (l_out - 1) * float(cl.rtt_s[c, j]) for j in range(S)]
        )
        block = np.array(
            [s.prefill_s(l_in) + (l_out - 1) * s.decode_s for s in cl.servers], dtype=np.float64
        )
        dev = self.devices[c]
        client = dev.prefill_s(l_in) + (l_out - 1) * dev.decode_s
        return visit, block, client


__all__ = ["CLIENT", "NO_DEVICE", "ClientDevice", "JointCluster", "JointRoute", "Segment"]
