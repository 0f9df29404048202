"""Catalogue of compute devices with vendor-published figures.

Each :class:`Device` has dense peak FLOP/s per dtype (tensor-core figures
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
from splitopt.scenario import rules

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

    def peak(self, dtype: str) -> float:
        """Dense peak FLOP/s for ``dtype``, falling back to the nearest listed dtype."""
        for k in _FALLBACK.get(dtype, (dtype,)):
            if k in self.peak_flops:
                return float(self.peak_flops[k])
        return float(max(self.peak_flops.values()))

    def with_efficiency(self, efficiency: float) -> Device:
        """A copy with another efficiency factor."""
        return dataclasses.replace(self, efficiency=float(efficiency))


T = 1e12
G = 1e9

_NV_H100 = "https://www.nvidia.com/en-us/data-center/h100/ (H100 SXM datasheet table)"
_NV_A100 = (
    "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/"
    "nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf"
)
_NV_L4 = "https://www.nvidia.com/en-us/data-center/l4/ (L4 datasheet table)"
_NV_ADA = (
    "https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-architecture.pdf "
    "(Ada whitepaper, Appendix A, GeForce RTX 4090)"
)
_NV_AMPERE = (
    "https://www.nvidia.com/content/PDF/nvidia-ampere-ga-102-gpu-architecture-whitepaper-v2.pdf "
    "(GA10x per-SM rates); https://www.nvidia.com/en-us/geforce/graphics-cards/30-series/"
    "rtx-3060-3060ti/ (RTX 3060 specs: 3584 CUDA cores, 1.78 GHz boost, 12 GB, 192-bit 15 Gbps)"
)
_NV_JETSON = (
    "https://www.nvidia.com/en-us/autonomous-machines/embedded-systems/jetson-orin/ "
    "(Jetson Orin modules technical specifications)"
)

_CATALOGUE: list[Device] = [
    Device(
        name="h100-sxm",
        description="NVIDIA H100 SXM5 80GB",
        kind="datacenter-gpu",
        peak_flops={
            "fp32": 67 * T,
            "tf32": 494.5 * T,
            "bf16": 989.5 * T,
            "fp16": 989.5 * T,
            "int8": 1979 * T,
        },
        memory_bandwidth=3.35e12,
        memory_bytes=80 * G,
        efficiency=0.6,
        source=_NV_H100,
        notes="tensor-core figures are the datasheet's 'with sparsity' values halved",
    ),
    Device(
        name="a100-80gb",
        description="NVIDIA A100 80GB SXM",
        kind="datacenter-gpu",
        peak_flops={
            "fp32": 19.5 * T,
            "tf32": 156 * T,
            "bf16": 312 * T,
            "fp16": 312 * T,
            "int8": 624 * T,
            "int4": 1248 * T,
        },
        memory_bandwidth=2.039e12,
        memory_bytes=80 * G,
        efficiency=0.6,
        source=_NV_A100,
        notes="dense figures (the datasheet's starred values are with sparsity)",
    ),
    Device(
        name="l4",
        description="NVIDIA L4 24GB",
        kind="datacenter-gpu",
        peak_flops={
            "fp32": 30.3 * T,
            "tf32": 60 * T,
            "bf16": 121 * T,
            "fp16": 121 * T,
            "int8": 242.5 * T,
        },
        memory_bandwidth=300 * G,
        memory_bytes=24 * G,
        efficiency=0.6,
        source=_NV_L4,
        notes="tensor-core figures are the datasheet's 'with sparsity' values halved",
    ),
    Device(
        name="rtx-4090",
        description="NVIDIA GeForce RTX 4090 24GB",
        kind="consumer-gpu",
        peak_flops={
            "fp32": 82.6 * T,
            "bf16": 165.2 * T,
            "fp16": 165.2 * T,
            "int8": 660.6 * T,
            "int4": 1321.2 * T,
        },
        memory_bandwidth=1008 * G,
        memory_bytes=24 * G,
        efficiency=0.5,
        source=_NV_ADA,
        notes="FP16/BF16 tensor rate with FP32 accumulate (what frameworks use), dense",
    ),
    Device(
        name="rtx-3060",
        description="NVIDIA GeForce RTX 3060 12GB",
        kind="consumer-gpu",
        peak_flops={
            "fp32": 12.7 * T,
            "bf16": 25.5 * T,
            "fp16": 25.5 * T,
            "int8": 101.9 * T,
            "int4": 203.8 * T,
        },
        memory_bandwidth=360 * G,
        memory_bytes=12 * G,
        efficiency=0.5,
        source=_NV_AMPERE,
        notes="derived: 28 SMs x 1.777 GHz x GA10x dense per-SM rates (FP16 with FP32 "
        "accumulate 512 FLOP/clk, INT8 2048 OP/clk); 192-bit x 15 Gbps = 360 GB/s",
    ),
    Device(
        name="apple-m2",
        description="Apple M2 (MacBook Air, 10-core GPU, 16 GB unified memory)",
        kind="laptop",
        peak_flops={"fp32": 3.6 * T, "fp16": 3.6 * T},
        memory_bandwidth=100 * G,
        memory_bytes=16 * G,
        efficiency=0.5,
        source="https://www.apple.com/newsroom/2022/06/apple-unveils-m2-with-breakthrough-"
        "performance-and-capabilities/ (100 GB/s unified memory, up to 24 GB, 10-core GPU)",
        notes="GPU FP32 derived: 10 cores x 128 ALUs x 2 x 1.398 GHz = 3.6 TFLOP/s; the "
        "GPU runs FP16 at the FP32 rate; Neural Engine (15.8 TOPS) not modelled",
    ),
    Device(
        name="apple-m3",
        description="Apple M3 (MacBook Pro 14-inch, 10-core GPU, 16 GB unified memory)",
        kind="laptop",
        peak_flops={"fp32": 4.1 * T, "fp16": 4.1 * T},
        memory_bandwidth=100 * G,
        memory_bytes=16 * G,
        efficiency=0.5,
        source="https://www.apple.com/newsroom/2023/10/apple-unveils-m3-m3-pro-and-m3-max-"
        "the-most-advanced-chips-for-a-personal-computer/ (M3: 100 GB/s, up to 24 GB)",
        notes="GPU FP32 derived: 10 cores x 128 ALUs x 2 x ~1.6 GHz; FP16 at the FP32 rate",
    ),
    Device(
        name="apple-m3-max",
        description="Apple M3 Max (MacBook Pro, 40-core GPU, 64 GB unified memory)",
        kind="laptop",
        peak_flops={"fp32": 16.4 * T, "fp16": 16.4 * T},
        memory_bandwidth=400 * G,
        memory_bytes=64 * G,
        efficiency=0.5,
        source="https://www.apple.com/newsroom/2023/10/apple-unveils-m3-m3-pro-and-m3-max-"
        "the-most-advanced-chips-for-a-personal-computer/ (M3 Max: 400 GB/s, up to 128 GB)",
        notes="GPU FP32 derived: 40 cores x 128 ALUs x 2 x ~1.6 GHz",
    ),
    Device(
        name="jetson-orin-nano",
        description="NVIDIA Jetson Orin Nano 8GB",
        kind="edge-board",
        peak_flops={"fp32": 1.28 * T, "fp16": 10 * T, "bf16": 10 * T, "int8": 20 * T},
        memory_bandwidth=68 * G,
        memory_bytes=8 * G,
        efficiency=0.4,
        source=_NV_JETSON,
        notes="40 TOPS (sparse INT8) -> 20 dense INT8, 10 dense FP16; FP32 = 1024 CUDA "
        "cores x 2 x 625 MHz; 128-bit LPDDR5 68 GB/s (original, non-'Super' clocks)",
    ),
    Device(
        name="jetson-agx-orin",
        description="NVIDIA Jetson AGX Orin 64GB",
        kind="edge-board",
        peak_flops={"fp32": 5.3 * T, "fp16": 42.5 * T, "bf16": 42.5 * T, "int8": 85 * T},
        memory_bandwidth=204.8 * G,
        memory_bytes=64 * G,
        efficiency=0.4,
        source=_NV_JETSON,
        notes="GPU 170 sparse INT8 TOPS of the module's 275 (rest: DLAs) -> 85 dense INT8, "
        "42.5 dense FP16; FP32 = 2048 CUDA cores x 2 x 1.3 GHz; 256-bit LPDDR5 204.8 GB/s",
    ),
    Device(
        name="snapdragon-8-gen-3",
        description="Phone with Qualcomm Snapdragon 8 Gen 3 (Adreno 750 GPU, 12 GB LPDDR5X)",
        kind="phone",
        peak_flops={"fp32": 4.6 * T, "fp16": 9.2 * T},
        memory_bandwidth=76.8 * G,
        memory_bytes=12 * G,
        efficiency=0.3,
        source="https://www.qualcomm.com/products/mobile/snapdragon/smartphones/"
        "snapdragon-8-series-mobile-platforms/snapdragon-8-gen-3-mobile-platform "
        "(LPDDR5X up to 4800 MHz)",
        notes="bandwidth derived: 4800 MHz (9600 MT/s) x 64-bit = 76.8 GB/s; Adreno 750 "
        "FP32 ~4.6 TFLOP/s is a widely reported estimate (Qualcomm publishes none), FP16 "
        "at twice that; Hexagon NPU not modelled; 12 GB as in e.g. Galaxy S24 Ultra",
    ),
    Device(
        name="raspberry-pi-5",
        description="Raspberry Pi 5 8GB (4x Cortex-A76 @ 2.4 GHz, CPU inference)",
        kind="sbc",
        peak_flops={"fp32": 153.6 * G, "fp16": 307.2 * G, "int8": 614.4 * G},
        memory_bandwidth=17.1 * G,
        memory_bytes=8 * G,
        efficiency=0.4,
        source="https://datasheets.raspberrypi.com/rpi5/raspberry-pi-5-product-brief.pdf "
        "(2.4 GHz quad-core Cortex-A76, LPDDR4X-4267)",
        notes="derived: 4 cores x 2.4 GHz x 2 NEON FMA pipes x 4 lanes x 2 = 153.6 GFLOP/s "
        "FP32, twice for FP16, 4x for INT8 dot products; 32-bit LPDDR4X-4267 = 17.1 GB/s",
    ),
]

#: name -> Device
DEVICES: dict[str, Device] = {d.name: d for d in _CATALOGUE}


def get_device(name: str) -> Device:
    """The catalogue entry ``name``; :class:`KeyError` lists the valid names."""
    try:
        return DEVICES[name]
    except KeyError:
        raise KeyError(f"unknown device {name!r}; valid devices: {', '.join(DEVICES)}") from None
