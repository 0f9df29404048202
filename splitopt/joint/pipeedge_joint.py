"""PipeEdge on a joint instance: one request's client device and the swarm's servers as
PipeEdge's device types, and PipeEdge's stages as a joint placement and route.

The mapping (ours; PipeEdge has no swarm and no client relaying activations):

* device types: the client (type 0) and each server ``j`` (type ``j + 1``), one
  device each (PipeEdge's "each device runs at most one stage");
* a layer is a block; its weight is the block's weights plus the request's KV cache
  (:meth:`~splitopt.joint.model.JointCluster.client_block_bytes`: one request stream,
  as the joint model's client memory rule); PipeEdge's memory rule (strict, with its
  data buffers) applies on every device;
* a layer's time on a device is the device's decode time per block (s per token);
* activations are one nominal byte per token (so PipeEdge's buffers are negligible),
  and a server's bandwidth is ``8 / rtt_s[c, j]`` bit/s, the client's unbounded, so
  PipeEdge's transfer between ``u`` and ``v`` takes ``max(rtt_u, rtt_v)`` seconds:
  the same link stages the joint bottleneck
  (:func:`splitopt.joint.evaluate.route_bottleneck`) counts, except that PipeEdge
  counts no transfer into its first stage or out of its last one.

:func:`stages_as_route` turns PipeEdge's stages into a placement (each server hosts its
stage's blocks) and a joint route, so the joint evaluator scores both answers alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from splitopt.joint.model import CLIENT, JointCluster, JointRoute, Segment
from splitopt.joint.pipeline import DeviceType, PipelineModel, Stage
from splitopt.placement.model import Job, Placement

#: Bytes of one token's activation in the mapping (nominal; ours).
ACTIVATION_BYTES = 1.0


def pipeline_instance(jc: JointCluster, job: Job) -> tuple[PipelineModel, tuple[DeviceType, ...]]:
    """PipeEdge's model and device types for ``job`` (type 0: its client; ``j + 1``: server j)."""
    cl = jc.cluster
    L = jc.num_blocks
    per = jc.client_block_bytes(job)
    model = PipelineModel(
        weight_bytes=np.full(L, per),
        out_bytes=np.full(L, ACTIVATION_BYTES),
        in_bytes=ACTIVATION_BYTES,
    )
    dev = jc.devices[job.client]
    types = [DeviceType("client", 1, dev.memory_bytes, math.inf, np.full(L, dev.decode_s))]
    for j, s in enumerate(cl.servers):
        rtt = float(cl.rtt_s[job.client, j])
        bw = 8.0 * ACTIVATION_BYTES / rtt if rtt > 0 else math.inf
        types.append(DeviceType(s.id, 1, s.memory_bytes, bw, np.full(L, s.decode_s)))
    return model, tuple(types)


def stages_as_route(jc: JointCluster, stages: Sequence[Stage]) -> tuple[Placement, JointRoute]:
    """PipeEdge's stages as a joint placement (each server hosts its stage's blocks,
    the others nothing) and route (the stages in order)."""
    S = jc.cluster.num_servers
    first = np.zeros(S, dtype=np.int64)
    count = np.zeros(S, dtype=np.int64)
    route = []
    for st in stages:
        if st.type == 0:
            route.append(Segment(CLIENT, st.first, st.last))
        else:
            j = st.type - 1
            first[j], count[j] = st.first, st.last - st.first + 1
            route.append(Segment(j, st.first, st.last))
    return Placement(first, count), tuple(route)


def route_as_stages(route: Sequence[Segment]) -> tuple[Stage, ...]:
    """A joint route as PipeEdge's stages (a device used twice makes it invalid there)."""
    return tuple(Stage(0 if s.device == CLIENT else s.device + 1, s.first, s.last) for s in route)


__all__ = ["ACTIVATION_BYTES", "pipeline_instance", "route_as_stages", "stages_as_route"]
