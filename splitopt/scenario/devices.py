"""Catalogue of compute devices with vendor-published figures.

The entries are data (``splitopt/data/devices.json``). Each :class:`Device` has
dense peak FLOP/s per dtype (tensor-core figures
*without* structured sparsity: vendors' "with sparsity" numbers are halved),
memory bandwidth (bytes/s), memory size (bytes) and an ``efficiency``: the
fraction of peak the roofline assumes is reached (0 < efficiency <= 1; users
override it per scenario). Each entry cites its source; figures that a vendor
does not publish and that we derive (clock x units x ops) are marked as such
in ``notes``.

Units: FLOP/s, bytes/s, bytes. 1 TFLOP/s = 1e12 FLOP/s, 1 GB = 1e9 bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from splitopt.errors import SpecError
from splitopt.scenario import catalogue, rules

#: Device attributes spelled differently in files (scenario objects, the catalogue).
FILE_NAMES: dict[str, str] = {"memory_bandwidth": "memory_bandwidth_bytes_per_s"}

#: Dtype lookup order when a device lists no figure for the asked dtype.
_FALLBACK: dict[str, tuple[str, ...]] = {
    "fp32": ("fp32",),
    "tf32": ("tf32", "fp32"),
    "bf16": ("bf16", "fp16", "fp32"),
    "fp16": ("fp16", "bf16", "fp32"),
    "int8": ("int8", "fp16", "bf16", "fp32"),
    "int4": ("int4", "int8", "fp16", "bf16", "fp32"),
}

COMPUTE_DTYPES: tuple[str, ...] = tuple(_FALLBACK)


@dataclass(frozen=True)
class Device:
    """A device for the roofline model.

    Attributes:
        name: catalogue name.
        peak_flops: dense peak FLOP/s (or int OP/s) per dtype
            (``fp32``, ``tf32``, ``fp16``, ``bf16``, ``int8``, ``int4``).
        memory_bandwidth: bytes/s.
        memory_bytes: bytes of device (or unified) memory.
        efficiency: fraction of peak compute and bandwidth reached (0, 1].
        kind: ``"datacenter-gpu"``, ``"consumer-gpu"``, ``"laptop"``, ``"phone"``,
            ``"edge-board"``, ``"sbc"``...
        description: a human-readable name.
        source: URL(s) of the figures.
        notes: derivations and caveats.
    """

    name: str
    peak_flops: dict[str, float]
    memory_bandwidth: float
    memory_bytes: float
    efficiency: float = 0.5
    kind: str = ""
    description: str = ""
    source: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        rules.typed_fields(self)
        if not isinstance(self.peak_flops, Mapping) or not self.peak_flops:
            raise SpecError(
                ["peak_flops"], 'must be an object of dtype -> FLOP/s, e.g. {"fp16": 1e14}'
            )
        for k, v in self.peak_flops.items():
            if k not in _FALLBACK:
                raise SpecError(
                    ["peak_flops", k], f"unknown dtype; valid dtypes: {', '.join(_FALLBACK)}"
                )
            rules.positive(v, ["peak_flops", k])
        rules.positive(self.memory_bandwidth, "memory_bandwidth")
        rules.nonneg(self.memory_bytes, "memory_bytes")
        rules.fraction(self.efficiency, "efficiency")
        s = object.__setattr__
        s(self, "peak_flops", {k: float(v) for k, v in self.peak_flops.items()})
        for key in ("memory_bandwidth", "memory_bytes", "efficiency"):
            s(self, key, float(getattr(self, key)))

    def peak(self, dtype: str) -> float:
        """Dense peak FLOP/s for ``dtype``, falling back to the nearest listed dtype."""
        for k in _FALLBACK.get(dtype, (dtype,)):
            if k in self.peak_flops:
                return float(self.peak_flops[k])
        return float(max(self.peak_flops.values()))

    def with_efficiency(self, efficiency: float) -> Device:
        """A copy with another efficiency factor."""
        return dataclasses.replace(self, efficiency=float(efficiency))


#: name -> Device, from ``splitopt/data/devices.json``
DEVICES: dict[str, Device] = catalogue.load("devices", Device, FILE_NAMES)


def get_device(name: str) -> Device:
    """The catalogue entry ``name``; :class:`KeyError` lists the valid names."""
    try:
        return DEVICES[name]
    except KeyError:
        raise KeyError(f"unknown device {name!r}; valid devices: {', '.join(DEVICES)}") from None
