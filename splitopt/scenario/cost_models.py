"""Which cost model costs a scenario: the calibrated model (the default) or the
pre-calibration uncalibrated roofline, **kept only for comparison**.

``calibrated`` (default): the device figures of the catalogue and of engine
profiles as they are (separate compute and bandwidth efficiencies, fixed costs
per forward pass, real bits per weight of the block-quantised formats; see
:mod:`splitopt.scenario.devices` and ``python -m splitopt.experiments.calibration``).

``uncalibrated-roofline``: the model splitopt used before its
calibration, which the registered SplitLLM protocol (``paper/PROTOCOL.md``) and
the README's earlier tables were computed with. It is the same roofline with
other device figures, not a second code path: every device (client and
server) is costed with one efficiency of its kind for both compute and
bandwidth (:data:`UNCALIBRATED_EFFICIENCY`; 0.5 for any other kind) and no
per-pass overheads, and the block-quantised weight formats count at their
nominal bits (:data:`NOMINAL_BYTES`). For the catalogue devices this gives
exactly the pre-calibration figures (tested against arrays compiled by that
code). Engine profiles and explicit efficiency/overhead figures are replaced
too (the old model had neither); a measured ``splitopt-profile`` is a
measurement, not a figure of the model, and is used as given under both.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from splitopt.scenario.costmodel import Precision
from splitopt.scenario.devices import Device

#: The default cost model.
CALIBRATED = "calibrated"
#: The pre-calibration model, kept only for comparison.
UNCALIBRATED = "uncalibrated-roofline"
#: Every cost model's name, default first.
COST_MODELS: tuple[str, ...] = (CALIBRATED, UNCALIBRATED)
#: One line per cost model (CLI help, docs).
COST_MODEL_HELP: dict[str, str] = {
    CALIBRATED: "the calibrated model (default)",
    UNCALIBRATED: "the pre-calibration uncalibrated roofline (one efficiency per device kind, "
    "no per-pass overheads, nominal quantised bits), kept only for comparison",
}

#: The pre-calibration catalogue's one efficiency per device kind (compute and
#: bandwidth); kinds not listed had the default 0.5 (consumer GPUs, laptops).
UNCALIBRATED_EFFICIENCY: dict[str, float] = {
    "datacenter-gpu": 0.6,
    "edge-board": 0.4,
    "sbc": 0.4,
    "phone": 0.3,
}
#: Efficiency of a kind not in :data:`UNCALIBRATED_EFFICIENCY` (the old ``Device`` default).
UNCALIBRATED_DEFAULT_EFFICIENCY = 0.5
#: Bytes per weight at nominal bits (q4 formats 4 bits, q8_0 8 bits), as the
#: pre-calibration model would have counted these formats (scales left out).
NOMINAL_BYTES: dict[str, float] = {"q8_0": 1.0, "q4_0": 0.5, "q4_k_m": 0.5, "q4f16": 0.5}


def check_cost_model(name: str) -> str:
    """``name`` if it is a cost model, else :class:`ValueError` listing the valid ones."""
    if name not in COST_MODELS:
        raise ValueError(f"unknown cost model {name!r}; valid: {', '.join(COST_MODELS)}")
    return name


@cache
def figures_id(cost_model: str = CALIBRATED) -> str:
    """8 hex digits that change when the figures behind ``cost_model`` change: a
    hash of its name, the shipped device and engine catalogues (hardware figures
    and calibrated ones) and, for ``uncalibrated-roofline``, its fixed figures.
    Result rows carry it, so tables can tell rows of different figures apart."""
    h = hashlib.sha256(check_cost_model(cost_model).encode())
    for name in ("devices.json", "engines.json"):
        h.update((resources.files("splitopt") / "data" / name).read_bytes())
    if cost_model == UNCALIBRATED:
        h.update(
            repr((sorted(UNCALIBRATED_EFFICIENCY.items()), sorted(NOMINAL_BYTES.items()))).encode()
        )
    return h.hexdigest()[:8]


def uncalibrated_device(device: Device) -> Device:
    """``device`` with the pre-calibration figures of its kind (one efficiency, no
    overheads, the compute dtype's own peak and no dequantise pass)."""
    e = UNCALIBRATED_EFFICIENCY.get(device.kind, UNCALIBRATED_DEFAULT_EFFICIENCY)
    return dataclasses.replace(
        device,
        efficiency=e,
        compute_efficiency=e,
        bandwidth_efficiency=e,
        prefill_overhead_s=0.0,
        step_overhead_s=0.0,
        matmul_peak="",
        dequant_pass=False,
    )


@dataclass(frozen=True)
class NominalPrecision(Precision):
    """A :class:`Precision` whose block-quantised weights count at nominal bits."""

    @property
    def weight_bytes(self) -> float:
        return NOMINAL_BYTES.get(self.weights, super().weight_bytes)


def nominal_precision(prec: Precision) -> Precision:
    """``prec`` with block-quantised weights at nominal bits (others unchanged)."""
    if prec.weights in NOMINAL_BYTES:
        return NominalPrecision(prec.weights, prec.compute)
    return prec


def costed(
    cost_model: str, client: Device, server: Device, prec: Precision
) -> tuple[Device, Device, Precision]:
    """The (client, server, precision) the cost model ``cost_model`` costs with."""
    if check_cost_model(cost_model) == UNCALIBRATED:
        return uncalibrated_device(client), uncalibrated_device(server), nominal_precision(prec)
    return client, server, prec
