"""Catalogue of compute devices with vendor-published figures.

The entries are data (``splitopt/data/devices.json``). Each :class:`Device` has
dense peak FLOP/s per dtype (tensor-core figures
*without* structured sparsity: vendors' "with sparsity" numbers are halved),
memory bandwidth (bytes/s), memory size (bytes) and the figures of a tuned
batch-1 engine on it: the fraction of peak compute (``compute_efficiency``) and
of memory bandwidth (``bandwidth_efficiency``) the roofline assumes is reached,
and a fixed cost per forward pass and transformer block (``prefill_overhead_s``
once per request, ``step_overhead_s`` per decode step: kernel launches,
sampling, synchronisation; a model of B blocks pays B times it per pass).
``efficiency`` is the shorthand that sets both efficiencies (users override
any of them per scenario). The engine's compute path, where it differs from
the weights' compute dtype: ``matmul_peak`` names the ``peak_flops`` entry its
fp16 matrix products run at (``fp16_acc16``: the FP16 tensor rate with FP16
accumulation, twice the FP32-accumulate rate on GeForce GPUs), and
``dequant_pass`` says quantised weights are expanded to fp16 in a separate pass
before each prefill matrix product (see :mod:`splitopt.scenario.costmodel`). Each entry cites its
source; figures that a vendor does not publish and that we derive (clock x
units x ops) are marked as such in ``notes``; the efficiencies and overheads
are calibrated on published measurements (``splitopt/data/measurements.json``,
``python -m splitopt.experiments.calibration``).

Units: FLOP/s, bytes/s, bytes. 1 TFLOP/s = 1e12 FLOP/s, 1 GB = 1e9 bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
    "fp16_acc16": ("fp16_acc16", "fp16", "bf16", "fp32"),
    "int8": ("int8", "fp16", "bf16", "fp32"),
    "int4": ("int4", "int8", "fp16", "bf16", "fp32"),
}

#: keys of ``peak_flops``
PEAK_KEYS: tuple[str, ...] = tuple(_FALLBACK)
COMPUTE_DTYPES: tuple[str, ...] = tuple(k for k in _FALLBACK if k != "fp16_acc16")
#: The figures of the engine that runs on a device (set by engine profiles).
ENGINE_FIGURES: tuple[str, ...] = (
    "efficiency",
    "compute_efficiency",
    "bandwidth_efficiency",
    "prefill_overhead_s",
    "step_overhead_s",
)
#: The engine's compute path on a device (set by engine profiles; not numbers).
ENGINE_PATHS: tuple[str, ...] = ("matmul_peak", "dequant_pass")
#: Number fields stored as floats.
NUMBERS: tuple[str, ...] = ("memory_bandwidth", "memory_bytes", *ENGINE_FIGURES)


@dataclass(frozen=True)
class Device:
    """A device for the roofline model.

    Attributes:
        name: catalogue name.
        peak_flops: dense peak FLOP/s (or int OP/s) per dtype
            (``fp32``, ``tf32``, ``fp16``, ``bf16``, ``int8``, ``int4``; and
            ``fp16_acc16``, the FP16 tensor rate with FP16 accumulation where
            it differs from ``fp16``'s FP32-accumulate rate).
        memory_bandwidth: bytes/s.
        memory_bytes: bytes of device (or unified) memory.
        efficiency: shorthand: the default of both efficiencies below (0, 1].
        compute_efficiency: fraction of peak FLOP/s reached (0, 1]; default ``efficiency``.
        bandwidth_efficiency: fraction of memory bandwidth reached (0, 1];
            default ``efficiency``.
        prefill_overhead_s: fixed seconds per prefill pass and transformer block (>= 0).
        step_overhead_s: fixed seconds per decode step and transformer block (>= 0).
        matmul_peak: the ``peak_flops`` entry fp16 matrix products run at
            (``""``: the compute dtype's own).
        dequant_pass: quantised weights are expanded to fp16 in a separate
            pass before each prefill matrix product (llama.cpp's CUDA path).
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
    compute_efficiency: float | None = None
    bandwidth_efficiency: float | None = None
    prefill_overhead_s: float = 0.0
    step_overhead_s: float = 0.0
    matmul_peak: str = ""
    dequant_pass: bool = False
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
        for key in ("compute_efficiency", "bandwidth_efficiency"):
            if getattr(self, key) is None:
                s(self, key, self.efficiency)
            rules.fraction(getattr(self, key), key)
        rules.nonneg(self.prefill_overhead_s, "prefill_overhead_s")
        rules.nonneg(self.step_overhead_s, "step_overhead_s")
        if self.matmul_peak:
            rules.choice(self.matmul_peak, PEAK_KEYS, "matmul_peak")
        s(self, "peak_flops", {k: float(v) for k, v in self.peak_flops.items()})
        for key in NUMBERS:
            s(self, key, float(getattr(self, key)))

    def peak(self, dtype: str) -> float:
        """Dense peak FLOP/s for ``dtype``, falling back to the nearest listed dtype."""
        for k in _FALLBACK.get(dtype, (dtype,)):
            if k in self.peak_flops:
                return float(self.peak_flops[k])
        return float(max(self.peak_flops.values()))

    def matmul_rate(self, compute_dtype: str) -> float:
        """Peak FLOP/s of the matrix products in ``compute_dtype`` on this
        device's engine path (``matmul_peak`` applies to fp16 compute)."""
        if self.matmul_peak and compute_dtype == "fp16":
            return self.peak(self.matmul_peak)
        return self.peak(compute_dtype)

    def with_efficiency(self, efficiency: float) -> Device:
        """A copy whose efficiency (compute and bandwidth) is ``efficiency``."""
        e = float(efficiency)
        return dataclasses.replace(
            self, efficiency=e, compute_efficiency=e, bandwidth_efficiency=e
        )

    def tuned(self, **figures: float | str | bool) -> Device:
        """A copy with some engine figures changed (``efficiency`` sets both
        efficiencies unless they are given too); keys: :data:`ENGINE_FIGURES`
        and :data:`ENGINE_PATHS`."""
        unknown = set(figures) - set(ENGINE_FIGURES) - set(ENGINE_PATHS)
        if unknown:
            raise SpecError(
                [sorted(unknown)[0]],
                f"unknown; valid: {', '.join(ENGINE_FIGURES + ENGINE_PATHS)}",
            )
        if "efficiency" in figures:
            for key in ("compute_efficiency", "bandwidth_efficiency"):
                figures.setdefault(key, figures["efficiency"])
        changes: dict[str, Any] = dict(figures)
        return dataclasses.replace(self, **changes)


#: name -> Device, from ``splitopt/data/devices.json``
DEVICES: dict[str, Device] = catalogue.load("devices", Device, FILE_NAMES)


def get_device(name: str) -> Device:
    """The catalogue entry ``name``; :class:`KeyError` lists the valid names."""
    try:
        return DEVICES[name]
    except KeyError:
        raise KeyError(f"unknown device {name!r}; valid devices: {', '.join(DEVICES)}") from None
