"""Validation and calibration of the cost model against published measurements.

The table ``splitopt/data/measurements.json`` holds published, measured
batch-1 speeds (device, model, weight format, engine, prompt and output tokens,
metric, value, source URL and a quote locating the number). For each row the
cost model predicts the same metric for the whole model on that one device
(:func:`predict`): ``prefill_tps`` = n / prefill seconds, ``decode_tps`` =
decode steps / decode seconds, ``ttft_s`` = prefill seconds, and
``e2e_output_tps`` = g / (prefill + decode seconds).

``ratio`` = predicted speed / measured speed (for ``ttft_s``: measured /
predicted seconds), so ratio > 1 means the model is optimistic; a row is
*within x1.5* when 1/1.5 <= ratio <= 1.5.

Calibration protocol (fixed before looking at the fit results):

* The catalogue figures of a device kind stand for that kind's reference
  engine (:data:`REFERENCE_ENGINE`: lmdeploy on datacenter GPUs, MLC on edge
  boards and phones, llama.cpp elsewhere); an engine profile holds the figures
  of another engine on a kind where it has rows.
* A group (kind, engine) is fitted by robust least squares (soft-L1 on log
  ratios) of four figures: compute efficiency and prefill overhead from the
  rows that involve a prefill, bandwidth efficiency and step overhead from the
  rows that involve decode steps. A figure is fitted on a group only when the
  group has at least :data:`MIN_ROWS` rows for its phase; an overhead, in
  addition, only when those rows span at least two models (otherwise it is not
  identifiable). Otherwise the figure comes from the pooled fit of that engine
  over all kinds, then from the pool of all rows. No figure is ever set from a
  single row.
* Held out (leave-one-device-class-out): for each kind, every figure is fitted
  without any row of that kind (the engine's rows of the other kinds, else all
  rows of the other kinds) and the kind's rows are predicted with it.
* Not fitted: the engine's compute path on a device (``matmul_peak``,
  ``dequant_pass``; llama.cpp's CUDA path, from its source code), which the
  rows are predicted with in every fit, held-out ones included. The overheads
  are per forward pass and transformer block.

Run ``python -m splitopt.experiments.calibration`` (``--rows`` for every row,
``--fit`` for the fitted figures as JSON, ``--old`` for the model before
calibration).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from splitopt.errors import DataError
from splitopt.scenario.architectures import ARCHITECTURES
from splitopt.scenario.cost_models import (
    NOMINAL_BYTES,
    UNCALIBRATED_EFFICIENCY,
    nominal_precision,
    uncalibrated_device,
)
from splitopt.scenario.costmodel import (
    DTYPE_BYTES,
    Precision,
    phase_times,
    precision,
    sum_max_linear,
    workload,
)
from splitopt.scenario.devices import DEVICES, Device
from splitopt.scenario.engines import ENGINES

METRICS: tuple[str, ...] = ("prefill_tps", "decode_tps", "ttft_s", "e2e_output_tps")
#: phases a metric involves
PHASES: dict[str, tuple[str, ...]] = {
    "prefill_tps": ("prefill",),
    "ttft_s": ("prefill",),
    "decode_tps": ("decode",),
    "e2e_output_tps": ("prefill", "decode"),
}
#: the engine the catalogue figures of a device kind stand for
REFERENCE_ENGINE: dict[str, str] = {
    "datacenter-gpu": "lmdeploy",
    "edge-board": "mlc",
    "phone": "mlc",
}
DEFAULT_REFERENCE = "llama.cpp"
#: a figure is fitted on a group only with at least this many rows of its phase
MIN_ROWS = 3
#: a row is within the band when 1/BAND <= ratio <= BAND
BAND = 1.5
#: the device figures before this calibration (one ``efficiency`` per kind, no
#: overheads, nominal bits), for comparison: the ``uncalibrated-roofline`` cost
#: model of :mod:`splitopt.scenario.cost_models`
OLD_EFFICIENCY: dict[str, float] = UNCALIBRATED_EFFICIENCY
OLD_BYTES: dict[str, float] = NOMINAL_BYTES
FIGURES: tuple[str, ...] = (
    "compute_efficiency",
    "prefill_overhead_s",
    "bandwidth_efficiency",
    "step_overhead_s",
)
#: bounds and start of the fit (overheads per forward pass and transformer
#: block: up to 0.5 s and 50 ms per pass of a 32-block model)
_LO = np.array([0.02, 0.0, 0.05, 0.0])
_HI = np.array([1.0, 0.5 / 32, 1.0, 0.05 / 32])
_START = np.array([0.4, 0.01 / 32, 0.7, 0.002 / 32])


@dataclass(frozen=True)
class Measurement:
    """One published measurement (see the module docstring for the metrics)."""

    id: str
    device: str
    model: str
    weights: str
    engine: str
    prompt_tokens: int
    output_tokens: int
    metric: str
    value: float
    source: str
    locator: str
    notes: str = ""
    lengths_approximate: bool = False
    #: added after the confirmatory registration (paper/PROTOCOL.md): predicted,
    #: never fitted (no shipped figure and no held-out fold uses it)
    validation_only: bool = False

    @property
    def kind(self) -> str:
        return DEVICES[self.device].kind

    @property
    def engine_profile(self) -> str:
        """The engine profile's name (aliases resolved)."""
        return ENGINES[self.engine].name

    @property
    def phases(self) -> tuple[str, ...]:
        return PHASES[self.metric]


def _check(m: Measurement, where: str) -> None:
    problems = []
    if m.device not in DEVICES:
        problems.append(f"unknown device {m.device!r}")
    if m.model not in ARCHITECTURES:
        problems.append(f"unknown model {m.model!r}")
    if m.weights not in DTYPE_BYTES:
        problems.append(f"unknown weights {m.weights!r}")
    if m.engine not in ENGINES:
        problems.append(f"unknown engine {m.engine!r}")
    if m.metric not in METRICS:
        problems.append(f"unknown metric {m.metric!r}")
    if not m.value > 0:
        problems.append("value must be > 0")
    if not m.source.startswith("https://") or not m.locator:
        problems.append("needs a source URL and a locator")
    if m.prompt_tokens < 1 or m.output_tokens < 0:
        problems.append("bad token counts")
    if "decode" in m.phases and m.output_tokens < 2:
        problems.append("a decode metric needs output_tokens >= 2")
    if problems:
        raise DataError(where, "; ".join(problems))


@cache
def measurements() -> tuple[Measurement, ...]:
    """The rows of ``splitopt/data/measurements.json`` (checked)."""
    text = (resources.files("splitopt") / "data" / "measurements.json").read_text("utf-8")
    out = []
    for i, e in enumerate(json.loads(text)["entries"]):
        m = Measurement(**e)
        _check(m, f"measurements.json entries[{i}] ({m.id})")
        out.append(m)
    ids = [m.id for m in out]
    if len(set(ids)) != len(ids):
        raise DataError("measurements.json", "duplicate ids")
    return tuple(out)


# -- prediction ------------------------------------------------------------------------


def _precision(m: Measurement, old: bool = False) -> Precision:
    p = precision(m.weights)
    # the model before calibration counted quantised weights at nominal bits
    return nominal_precision(p) if old else p


@cache
def _workload(m: Measurement, old: bool = False):
    table = ARCHITECTURES[m.model].layers("block")
    return workload(table, _precision(m, old), m.prompt_tokens, m.output_tokens)


def predict(m: Measurement, device: Device, old: bool = False) -> float:
    """The cost model's value of ``m.metric`` for ``m`` on ``device``."""
    w = _workload(m, old)
    pre, dec = phase_times(w, device, _precision(m, old).compute)
    tp, td = float(pre.sum()), float(dec.sum())
    steps = max(m.output_tokens - 1, 0)
    if m.metric == "prefill_tps":
        return m.prompt_tokens / tp
    if m.metric == "decode_tps":
        return steps / td
    if m.metric == "ttft_s":
        return tp
    return m.output_tokens / (tp + td)


def ratio(m: Measurement, predicted: float) -> float:
    """Predicted speed / measured speed (> 1: the model is optimistic)."""
    if m.metric == "ttft_s":
        return m.value / predicted
    return predicted / m.value


def shipped_device(m: Measurement) -> Device:
    """The device as splitopt costs it for ``m``: catalogue figures, then the
    engine profile's figures for its kind."""
    return ENGINES[m.engine].apply(DEVICES[m.device])


def old_device(m: Measurement) -> Device:
    """The device as the cost model before this calibration saw it."""
    return uncalibrated_device(DEVICES[m.device])


# -- fitting ---------------------------------------------------------------------------


def _with(d: Device, x: Sequence[float]) -> Device:
    changes: dict[str, Any] = dict(zip(FIGURES, (float(v) for v in x), strict=True))
    return dataclasses.replace(d, **changes)


@dataclass(frozen=True)
class Structure:
    """Which mechanisms the model has (the structures the nested held-out
    estimate chooses among, :func:`nested_held_out`): ``fp16_accumulate``: the
    engine's FP16-accumulate matmul rate where it has one (``matmul_peak``), else
    the compute dtype's own peak; ``dequant_pass``: the engine's dequantise pass
    before a quantised prefill; ``per_block``: fixed costs per transformer block
    (else one per forward pass of the whole model, counted as 32 blocks so that
    the fit's bounds stay the same)."""

    fp16_accumulate: bool = True
    dequant_pass: bool = True
    per_block: bool = True

    @property
    def label(self) -> str:
        parts = [
            n
            for n, on in (
                ("FP16-accumulate", self.fp16_accumulate),
                ("dequantise pass", self.dequant_pass),
                ("per block", self.per_block),
            )
            if on
        ]
        return " + ".join(parts) if parts else "previous (none of the three)"

    @property
    def mechanisms(self) -> int:
        return int(self.fp16_accumulate) + int(self.dequant_pass) + int(self.per_block)


#: The shipped model's structure.
SHIPPED = Structure()
#: Every structure the nested estimate chooses among (the 2^3 combinations of the
#: three mechanisms in the committed code), simplest first: ties in the inner
#: score go to the structure with fewer mechanisms, then to the earlier one here.
STRUCTURES: tuple[Structure, ...] = tuple(
    sorted(
        (Structure(a, b, c) for a in (False, True) for b in (False, True) for c in (False, True)),
        key=lambda st: (st.mechanisms, not st.fp16_accumulate, not st.dequant_pass),
    )
)
#: The blocks a per-pass fixed cost stands for (the bounds are per block of a 32-block pass).
_PASS_BLOCKS = 32


@cache
def _terms(m: Measurement, structure: Structure = SHIPPED) -> tuple[Any, ...]:
    """Per-layer roofline terms of ``m`` at full efficiency (seconds), for fast
    fits; the compute path (``matmul_peak``, ``dequant_pass``) is the engine's
    on that device (:func:`shipped_device`): a property of its code, not fitted
    (``structure`` switches either off)."""
    w = _workload(m)
    d = shipped_device(m)
    if not structure.fp16_accumulate:
        d = dataclasses.replace(d, matmul_peak="")
    pc, pm = d.matmul_rate(_precision(m).compute), d.memory_bandwidth
    deq = float(w.dequant_bytes[0].sum()) / pm if d.dequant_pass and structure.dequant_pass else 0.0
    blocks = w.blocks if structure.per_block else _PASS_BLOCKS
    step_blocks = w.step_blocks if structure.per_block else _PASS_BLOCKS
    return (
        w.prefill_flops[0] / pc,
        w.prefill_bytes[0] / pm,
        w.step_flops0[0] / pc,
        w.step_flops1[0] / pc,
        w.step_bytes0[0] / pm,
        w.step_bytes1[0] / pm,
        w.steps[0],
        deq,
        blocks,
        step_blocks,
    )


def _predict_fast(
    m: Measurement, x: Sequence[float] | np.ndarray, structure: Structure = SHIPPED
) -> float:
    """:func:`predict` on the device with figures ``x`` (order :data:`FIGURES`)."""
    ce, po, be, so = x
    pf, pb, f0, f1, b0, b1, steps, deq, blocks, step_blocks = _terms(m, structure)
    tp = float(np.maximum(pf / ce, pb / be).sum()) + po * blocks + deq / be
    td = float(sum_max_linear(f0 / ce, f1 / ce, b0 / be, b1 / be, steps).sum())
    td += float(steps[0]) * so * step_blocks
    n, g = m.prompt_tokens, m.output_tokens
    if m.metric == "prefill_tps":
        return n / tp
    if m.metric == "decode_tps":
        return max(g - 1, 0) / td
    if m.metric == "ttft_s":
        return tp
    return g / (tp + td)


def _residuals(
    x: np.ndarray, rows: Sequence[Measurement], structure: Structure = SHIPPED
) -> np.ndarray:
    return np.array([np.log(ratio(m, _predict_fast(m, x, structure))) for m in rows])


def fit(
    rows: Sequence[Measurement],
    fixed: dict[str, float] | None = None,
    structure: Structure = SHIPPED,
) -> dict[str, float]:
    """The four figures that best fit ``rows`` (soft-L1 on log ratios); figures
    in ``fixed`` are held at their values."""
    from scipy.optimize import least_squares

    fixed = fixed or {}
    free = [i for i, f in enumerate(FIGURES) if f not in fixed]
    x0 = _START.copy()
    for i, f in enumerate(FIGURES):
        if f in fixed:
            x0[i] = fixed[f]
    if not free or not rows:
        return dict(zip(FIGURES, map(float, x0), strict=True))

    def res(z: np.ndarray) -> np.ndarray:
        x = x0.copy()
        x[free] = z
        return _residuals(x, rows, structure)

    sol = least_squares(
        res, x0[free], bounds=(_LO[free], _HI[free]), loss="soft_l1", f_scale=0.1, x_scale="jac"
    )
    x = x0.copy()
    x[free] = sol.x
    return dict(zip(FIGURES, map(float, x), strict=True))


def _phase_rows(rows: Sequence[Measurement], phase: str) -> list[Measurement]:
    return [m for m in rows if phase in m.phases]


def _fittable(rows: Sequence[Measurement]) -> set[str]:
    """The figures ``rows`` may set under the protocol."""
    out = set()
    for phase, eff, ovh in (
        ("prefill", "compute_efficiency", "prefill_overhead_s"),
        ("decode", "bandwidth_efficiency", "step_overhead_s"),
    ):
        pr = _phase_rows(rows, phase)
        if len(pr) >= MIN_ROWS:
            out.add(eff)
            if len({m.model for m in pr}) >= 2:
                out.add(ovh)
    return out


def fit_group(
    rows: Sequence[Measurement],
    fallbacks: Sequence[Sequence[Measurement]],
    structure: Structure = SHIPPED,
) -> dict[str, float]:
    """Figures for a group: each from ``rows`` where the protocol allows, else
    from the first fallback pool that allows it (a pool fitted on its own)."""
    pools = [list(rows), *map(list, fallbacks)]
    chosen: dict[str, float] = {}
    for pool in reversed(pools):  # widest pool first, narrower pools override
        allowed = _fittable(pool)
        if not allowed:
            continue
        fixed = {k: v for k, v in chosen.items() if k not in allowed}
        figs = fit(pool, fixed, structure)
        chosen.update({k: figs[k] for k in allowed})
    for f, v in zip(FIGURES, _START, strict=True):
        chosen.setdefault(f, float(v))
    return chosen


def reference(kind: str) -> str:
    return REFERENCE_ENGINE.get(kind, DEFAULT_REFERENCE)


def calibrate(
    rows: Sequence[Measurement] | None = None,
) -> dict[tuple[str, str], dict[str, float]]:
    """(kind, engine) -> fitted figures, for every group with rows (validation-only
    rows left out)."""
    rows = [m for m in (measurements() if rows is None else rows) if not m.validation_only]
    out = {}
    for kind, eng in sorted({(m.kind, m.engine_profile) for m in rows}):
        group = [m for m in rows if m.kind == kind and m.engine_profile == eng]
        same_engine = [m for m in rows if m.engine_profile == eng]
        out[(kind, eng)] = fit_group(group, [same_engine, rows])
    return out


def held_out(
    rows: Sequence[Measurement] | None = None, structure: Structure = SHIPPED
) -> dict[str, float]:
    """Row id -> ratio when the row's device kind is left out of the fit."""
    rows = list(measurements() if rows is None else rows)
    out: dict[str, float] = {}
    for kind in sorted({m.kind for m in rows}):
        train = [m for m in rows if m.kind != kind and not m.validation_only]
        cache_: dict[str, dict[str, float]] = {}
        for m in rows:
            if m.kind != kind:
                continue
            eng = m.engine_profile
            if eng not in cache_:
                cache_[eng] = fit_group(
                    [m2 for m2 in train if m2.engine_profile == eng], [train], structure
                )
            out[m.id] = ratio(m, _predict_fast(m, [cache_[eng][f] for f in FIGURES], structure))
    return out


def nested_held_out(
    rows: Sequence[Measurement] | None = None,
    structures: Sequence[Structure] = STRUCTURES,
    band: float = BAND,
) -> tuple[dict[str, float], dict[str, Structure]]:
    """The held-out estimate with the model structure chosen inside each fold.

    For each device kind k (the outer fold): for every structure of
    ``structures``, the inner score is the number of rows of the *other* kinds
    within ``band`` when each of those kinds is in turn left out of a fit on the
    rows without k (leave-one-kind-out on the outer training rows); the structure
    with the highest inner score (ties: the earlier in ``structures``, i.e. fewer
    mechanisms) is fitted on all rows without k and predicts k's rows. No row of
    k is used to choose or fit what predicts it.

    Returns (row id -> ratio, kind -> the structure chosen for it)."""
    rows = list(measurements() if rows is None else rows)
    kinds = sorted({m.kind for m in rows})
    fits: dict[tuple[frozenset[str], str, Structure], dict[str, float]] = {}

    def out_ratio(m: Measurement, excluded: frozenset[str], st: Structure) -> float:
        key = (excluded, m.engine_profile, st)
        if key not in fits:
            train = [t for t in rows if t.kind not in excluded and not t.validation_only]
            same = [t for t in train if t.engine_profile == m.engine_profile]
            fits[key] = fit_group(same, [train], st)
        return ratio(m, _predict_fast(m, [fits[key][f] for f in FIGURES], st))

    out: dict[str, float] = {}
    chosen: dict[str, Structure] = {}
    for k in kinds:
        best: tuple[int, Structure] | None = None
        for st in structures:
            score = sum(
                within(out_ratio(m, frozenset({k, m.kind}), st), band)
                for m in rows
                if m.kind != k and not m.validation_only
            )
            if best is None or score > best[0]:
                best = (score, st)
        assert best is not None
        chosen[k] = best[1]
        for m in rows:
            if m.kind == k:
                out[m.id] = out_ratio(m, frozenset({k}), best[1])
    return out, chosen


#: The client-device classes of the paper-like family: name -> which
#: measurement rows belong to it. Apple's base chips are rows of kind ``laptop``.
CLIENT_CLASSES: dict[str, Callable[[Measurement], bool]] = {
    "Jetson Orin (edge-board)": lambda m: m.kind == "edge-board",
    "Raspberry Pi 5 (sbc)": lambda m: m.kind == "sbc",
    "Snapdragon 8-class (phone)": lambda m: m.kind == "phone",
    "Apple M base chips (laptop)": lambda m: m.device in ("apple-m1", "apple-m2", "apple-m3"),
}


def client_validation(
    nested: dict[str, float] | None = None, chosen: dict[str, Structure] | None = None
) -> tuple[list[dict[str, Any]], str]:
    """The per-class validation table of the client devices (rows within x1.5 of
    the measurement, as counts): shipped figures (in sample), class held out with
    the shipped structure, class held out with the structure chosen inside each
    fold (nested), and the uncalibrated roofline (fitted to no measurement);
    and the headline cost model by the rule registered in ``paper/PROTOCOL.md``
    (calibrated iff its nested share on these rows is strictly greater than the
    uncalibrated one's)."""
    ms = measurements()
    if nested is None or chosen is None:
        nested, chosen = nested_held_out(ms)
    shipped = {r["id"]: r["ratio"] for r in rows_table()}
    old = {r["id"]: r["ratio"] for r in rows_table(old_device, old=True)}
    plain = held_out(ms)
    table: list[dict[str, Any]] = []
    pool: list[Measurement] = []
    for name, pick in [*CLIENT_CLASSES.items(), ("all client classes", None)]:
        rows = [m for m in ms if (pick(m) if pick else any(p(m) for p in CLIENT_CLASSES.values()))]
        if pick is not None:
            pool += rows
        kinds = sorted({m.kind for m in rows})
        table.append(
            {
                "class": name,
                "rows": len(rows),
                "devices": ", ".join(sorted({m.device for m in rows})),
                "shipped": sum(within(shipped[m.id]) for m in rows),
                "class_held_out": sum(within(plain[m.id]) for m in rows),
                "nested_held_out": sum(within(nested[m.id]) for m in rows),
                "uncalibrated": sum(within(old[m.id]) for m in rows),
                "structures": "; ".join(f"{k}: {chosen[k].label}" for k in kinds),
            }
        )
    tot = table[-1]
    model = (
        "calibrated" if tot["nested_held_out"] > tot["uncalibrated"] else "uncalibrated-roofline"
    )
    allrows = {
        "class": "all measurement rows",
        "rows": len(ms),
        "devices": f"{len({m.device for m in ms})} devices",
        "shipped": sum(within(shipped[m.id]) for m in ms),
        "class_held_out": sum(within(plain[m.id]) for m in ms),
        "nested_held_out": sum(within(nested[m.id]) for m in ms),
        "uncalibrated": sum(within(old[m.id]) for m in ms),
        "structures": "; ".join(f"{k}: {v.label}" for k, v in sorted(chosen.items())),
    }
    table.append(allrows)
    return table, model


def write_client_validation(outdir: Any) -> list[Any]:
    """``client_validation.{md,csv,tex}`` into ``outdir`` (the tex holds macros)."""
    import csv
    from pathlib import Path

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    table, model = client_validation()

    def cell(r: dict[str, Any], k: str) -> str:
        return f"{r[k]}/{r['rows']} ({100 * r[k] / r['rows']:.0f} %)" if r["rows"] else "–"

    md = [
        "**Cost model on the paper-like client devices: rows within ×1.5 of the published "
        f"measurement (splitopt/data/measurements.json, {len(measurements())} rows)**",
        "",
        "| client class | rows | devices | calibrated, in sample | calibrated, class held out "
        "| calibrated, class held out, structure chosen in the fold (nested) "
        "| uncalibrated roofline (fitted to none) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in table:
        md.append(
            f"| {r['class']} | {r['rows']} | {r['devices']} | {cell(r, 'shipped')} | "
            f"{cell(r, 'class_held_out')} | {cell(r, 'nested_held_out')} | "
            f"{cell(r, 'uncalibrated')} |"
        )
    md += [
        "",
        "Class held out: every figure refitted without any row of the row's device kind "
        "(Apple's base chips are rows of kind laptop, so their fold leaves out every laptop "
        "row). Nested: in each fold the model structure (FP16-accumulate rate, dequantise "
        "pass, per-block fixed costs: the 8 combinations) is chosen by the same held-out "
        "score computed on the fold's training rows only. Structures chosen per held-out "
        f"kind: {table[-1]['structures']}.",
        "",
        f"Headline cost model by the rule registered in paper/PROTOCOL.md (calibrated iff its "
        f"nested share on the client rows is strictly greater than the uncalibrated one's): "
        f"**{model}**.",
    ]
    tex = ["% generated by python -m splitopt.experiments.calibration --client-table"]
    for r in table:
        tag = "".join(ch for ch in r["class"].title() if ch.isalpha())[:24]
        for k in ("rows", "shipped", "class_held_out", "nested_held_out", "uncalibrated"):
            name = "cv" + tag + "".join(w.title() for w in k.split("_"))
            tex.append(f"\\newcommand{{\\{name}}}{{{r[k]}}}")
    tex.append(f"\\newcommand{{\\cvHeadlineModel}}{{{model}}}")
    made = []
    p = outdir / "client_validation.md"
    p.write_text("\n".join(md) + "\n", encoding="utf-8")
    made.append(p)
    p = outdir / "client_validation.tex"
    p.write_text("\n".join(tex) + "\n", encoding="utf-8")
    made.append(p)
    p = outdir / "client_validation.csv"
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(table[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(table)
    made.append(p)
    return made


def held_out_devices(rows: Sequence[Measurement] | None = None) -> dict[str, float]:
    """Row id -> ratio when the row's *device* is left out of the fit (the other
    devices of its kind stay in): the error for a new device of a known kind.
    A secondary figure; the protocol's held-out figure is :func:`held_out`."""
    rows = list(measurements() if rows is None else rows)
    out: dict[str, float] = {}
    for device in sorted({m.device for m in rows}):
        train = [m for m in rows if m.device != device and not m.validation_only]
        fits: dict[str, dict[str, float]] = {}
        for m in rows:
            if m.device != device:
                continue
            eng = m.engine_profile
            if eng not in fits:
                group = [t for t in train if t.kind == m.kind and t.engine_profile == eng]
                same = [t for t in train if t.engine_profile == eng]
                fits[eng] = fit_group(group, [same, train])
            out[m.id] = ratio(m, _predict_fast(m, [fits[eng][f] for f in FIGURES]))
    return out


def rounded(figs: dict[str, float]) -> dict[str, float]:
    """Figures as shipped: efficiencies to 0.01, overheads (per block) to 1 us."""
    return {k: round(v, 6) if k.endswith("_s") else round(max(v, 0.01), 2) for k, v in figs.items()}


# -- reporting -------------------------------------------------------------------------


def within(r: float, band: float = BAND) -> bool:
    return 1 / band <= r <= band


def rows_table(
    device_of: Callable[[Measurement], Device] = shipped_device, old: bool = False
) -> list[dict[str, Any]]:
    """One dict per measurement: identity, measured, predicted, ratio."""
    out = []
    for m in measurements():
        p = predict(m, device_of(m), old)
        out.append(
            {
                "id": m.id,
                "kind": m.kind,
                "device": m.device,
                "model": m.model,
                "weights": m.weights,
                "engine": m.engine,
                "metric": m.metric,
                "n": m.prompt_tokens,
                "g": m.output_tokens,
                "measured": m.value,
                "predicted": p,
                "ratio": ratio(m, p),
            }
        )
    return out


def summary(ratios: Iterable[tuple[str, str, float]]) -> list[dict[str, Any]]:
    """Share within the band per (kind, phase) and overall from (kind, metric, ratio)."""
    groups: dict[tuple[str, str], list[float]] = {}
    for kind, metric, r in ratios:
        phase = {"prefill_tps": "prefill", "ttft_s": "prefill", "decode_tps": "decode"}.get(
            metric, "end-to-end"
        )
        for key in ((kind, phase), (kind, "all"), ("all", "all")):
            groups.setdefault(key, []).append(r)
    out = []
    for (kind, phase), rs in sorted(groups.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        a = np.array(rs)
        out.append(
            {
                "kind": kind,
                "phase": phase,
                "rows": len(rs),
                "within_1.5": float(np.mean([within(r) for r in rs])),
                "median_ratio": float(np.median(a)),
                "worst_ratio": float(a[np.argmax(np.abs(np.log(a)))]),
            }
        )
    return out


def _print_summary(title: str, rows: list[dict[str, Any]]) -> None:
    print(title)
    print(
        f"  {'kind':16s} {'phase':11s} {'rows':>4s} {'within x1.5':>11s} {'median':>7s} "
        f"{'worst':>7s}"
    )
    for s in rows:
        print(
            f"  {s['kind']:16s} {s['phase']:11s} {s['rows']:4d} {s['within_1.5']:11.0%} "
            f"{s['median_ratio']:7.2f} {s['worst_ratio']:7.2f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m splitopt.experiments.calibration",
        description="Predicted vs measured batch-1 speeds (splitopt/data/measurements.json).",
    )
    ap.add_argument("--rows", action="store_true", help="print every row")
    ap.add_argument("--fit", action="store_true", help="print the fitted figures as JSON")
    ap.add_argument("--old", action="store_true", help="also score the pre-calibration model")
    ap.add_argument("--devices", action="store_true", help="also leave one device (not class) out")
    ap.add_argument("--worst", type=int, default=10, help="list the N worst rows (default 10)")
    ap.add_argument(
        "--client-table",
        metavar="DIR",
        default=None,
        help="write the client devices' validation table with nested held-out figures "
        "(client_validation.{md,csv,tex}) into DIR and stop",
    )
    args = ap.parse_args(argv)

    if args.client_table:
        for p in write_client_validation(args.client_table):
            print(p)
        return 0

    if args.fit:
        figs = calibrate()
        doc = {
            f"{kind} / {eng}" + (" (reference)" if eng == reference(kind) else ""): rounded(f)
            for (kind, eng), f in figs.items()
        }
        json.dump(doc, sys.stdout, indent=1)
        print()
        return 0

    table = rows_table()
    if args.rows:
        print(
            f"{'id':5s} {'device':18s} {'model':12s} {'weights':7s} {'engine':9s} "
            f"{'metric':15s} {'n':>5s} {'g':>5s} {'measured':>9s} {'predicted':>9s} {'ratio':>6s}"
        )
        for r in table:
            print(
                f"{r['id']:5s} {r['device']:18s} {r['model']:12s} {r['weights']:7s} "
                f"{r['engine']:9s} {r['metric']:15s} {r['n']:5d} {r['g']:5d} "
                f"{r['measured']:9.4g} {r['predicted']:9.4g} {r['ratio']:6.2f}"
            )
    _print_summary(
        "All rows, shipped figures (ratio = predicted / measured speed):",
        summary((r["kind"], r["metric"], r["ratio"]) for r in table),
    )
    ho = held_out()
    by_id = {m.id: m for m in measurements()}
    _print_summary(
        "Held out (leave-one-device-class-out fits):",
        summary((by_id[i].kind, by_id[i].metric, r) for i, r in ho.items()),
    )
    if args.devices:
        hd = held_out_devices()
        _print_summary(
            "Held out (leave-one-device-out fits; secondary):",
            summary((by_id[i].kind, by_id[i].metric, r) for i, r in hd.items()),
        )
    if args.old:
        old = rows_table(old_device, old=True)
        _print_summary(
            "Before calibration (one efficiency per kind, no overheads, nominal bits):",
            summary((r["kind"], r["metric"], r["ratio"]) for r in old),
        )
    worst = sorted(table, key=lambda r: -abs(np.log(r["ratio"])))[: args.worst]
    print(f"Worst {len(worst)} rows (shipped figures):")
    for r in worst:
        m = by_id[r["id"]]
        print(
            f"  {r['id']} {r['device']} {r['model']} {r['weights']} {r['engine']} {r['metric']} "
            f"n={r['n']} g={r['g']}: measured {r['measured']:.4g}, predicted "
            f"{r['predicted']:.4g}, ratio {r['ratio']:.2f}  [{m.source}]"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
