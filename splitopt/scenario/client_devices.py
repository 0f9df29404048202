"""Client devices of the joint model from the device catalogue and the cost model.

A client's per-block figures are those a server on the same device would have
(:func:`splitopt.scenario.cluster.server_from_device`: the roofline of one block);
its usable memory is the device memory times ``memory_fraction`` (ours: a client
device also runs its operating system, apps, the embeddings and the LM head).
"""

from __future__ import annotations

from splitopt.joint.model import ClientDevice
from splitopt.scenario.architectures import Architecture
from splitopt.scenario.cluster import server_from_device
from splitopt.scenario.devices import Device

#: Fraction of a client device's memory the model may use (ours).
CLIENT_MEMORY_FRACTION = 0.5


def client_device(
    device: str | Device,
    arch: str | Architecture,
    dtype: str = "fp16",
    *,
    memory_fraction: float = CLIENT_MEMORY_FRACTION,
    efficiency: float | None = None,
    l_in: int = 20,
    l_out: int = 128,
) -> ClientDevice:
    """The :class:`ClientDevice` of catalogue ``device`` running blocks of ``arch``."""
    s = server_from_device(
        "client",
        device,
        arch,
        dtype,
        efficiency=efficiency,
        memory_fraction=memory_fraction,
        l_in=l_in,
        l_out=l_out,
    )
    return ClientDevice(
        memory_bytes=s.memory_bytes,
        decode_s=s.decode_s,
        prefill_s0=s.prefill_s0,
        prefill_s1=s.prefill_s1,
    )


__all__ = ["CLIENT_MEMORY_FRACTION", "client_device"]
