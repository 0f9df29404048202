"""The validation table and the calibration: rows cite sources, predictions are
what the cost model says, the shipped figures are what the protocol fits, and
the validation figure stated in the README holds."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from splitopt.errors import DataError
from splitopt.experiments import calibration as C
from splitopt.scenario.architectures import ARCHITECTURES
from splitopt.scenario.costmodel import DTYPE_BYTES, phase_times, precision, workload
from splitopt.scenario.devices import DEVICES
from splitopt.scenario.engines import ENGINES

GIB = 2**30


def test_table_has_enough_cited_rows_over_enough_kinds() -> None:
    rows = C.measurements()
    assert len(rows) >= 60
    assert len({m.kind for m in rows}) >= 6
    for m in rows:
        assert m.source.startswith("https://") and m.locator, m.id
        # the quoted number is the row's value
        assert f"{m.value:g}" in m.locator.replace(",", "") or str(m.value) in m.locator, m.id


def test_a_broken_row_is_refused() -> None:
    m = C.measurements()[0]
    bad = C.Measurement(**{**m.__dict__, "device": "no-such-device"})
    with pytest.raises(DataError, match="unknown device"):
        C._check(bad, "x")


def test_real_bits_per_weight_match_published_gguf_sizes() -> None:
    # llama-bench, RTX 4090 table in ggml-org/llama.cpp PR 4766: llama 7B (6.74 B
    # parameters) F16 12.55 GiB, Q8_0 6.67 GiB, Q4_0 3.56 GiB
    params = ARCHITECTURES["llama-2-7b"].layers().params.sum()
    for dtype, gib in (("fp16", 12.55), ("q8_0", 6.67), ("q4_0", 3.56)):
        assert params * DTYPE_BYTES[dtype] / GIB == pytest.approx(gib, rel=0.02), dtype
    assert DTYPE_BYTES["q4_0"] * 8 == 4.5 and DTYPE_BYTES["q8_0"] * 8 == 8.5


def test_prediction_is_the_cost_model_sum_over_layers() -> None:
    for m in C.measurements()[:40]:
        d = C.shipped_device(m)
        table = ARCHITECTURES[m.model].layers()
        w = workload(table, precision(m.weights), m.prompt_tokens, m.output_tokens)
        pre, dec = phase_times(w, d, precision(m.weights).compute)
        got = C.predict(m, d)
        if m.metric == "prefill_tps":
            assert got == pytest.approx(m.prompt_tokens / pre.sum())
        elif m.metric == "decode_tps":
            assert got == pytest.approx((m.output_tokens - 1) / dec.sum())
        x = [getattr(d, f) for f in C.FIGURES]
        assert C._predict_fast(m, x) == pytest.approx(got, rel=1e-9)


def test_decode_is_bandwidth_bound_with_the_real_weight_bytes() -> None:
    # one 7B fp16 decode step at full bandwidth and no overhead reads ~ the weights
    m = next(r for r in C.measurements() if r.metric == "decode_tps" and r.weights == "fp16")
    x = [1.0, 0.0, 1.0, 0.0]
    step_s = 1 / C._predict_fast(m, x)
    weights = ARCHITECTURES[m.model].layers().params.sum() * 2
    assert step_s == pytest.approx(weights / DEVICES[m.device].memory_bandwidth, rel=0.08)


def test_ratio_direction() -> None:
    m = next(r for r in C.measurements() if r.metric == "ttft_s")
    assert C.ratio(m, m.value / 2) == pytest.approx(2.0)  # predicted too fast -> > 1
    m = next(r for r in C.measurements() if r.metric == "decode_tps")
    assert C.ratio(m, m.value * 2) == pytest.approx(2.0)


def test_protocol_never_fits_a_figure_on_too_few_rows() -> None:
    rows = [m for m in C.measurements() if m.metric == "decode_tps"][:2]
    assert C._fittable(rows) == set()
    three = [m for m in C.measurements() if m.metric == "prefill_tps"][:3]
    assert "compute_efficiency" in C._fittable(three)


@pytest.fixture(scope="module")
def protocol_fit() -> dict[tuple[str, str], dict[str, float]]:
    """``C.calibrate()`` on every row, once for the module (each fit takes seconds)."""
    return C.calibrate()


@pytest.mark.slow
def test_shipped_figures_are_the_protocol_fit(protocol_fit) -> None:
    """devices.json and engines.json hold the rounded output of ``--fit``."""
    figs = protocol_fit
    for d in DEVICES.values():
        key = (d.kind, C.reference(d.kind))
        if key not in figs:  # a kind without rows of its reference engine
            continue
        want = C.rounded(figs[key])
        for f, v in want.items():
            assert getattr(d, f) == pytest.approx(v), (d.name, f)
    text = (resources.files("splitopt") / "data" / "engines.json").read_text()
    for e in json.loads(text)["entries"]:
        for kind, shipped in e["figures"].items():
            want = C.rounded(figs[(kind, e["name"])])
            for f, v in want.items():
                assert shipped[f] == pytest.approx(v), (e["name"], kind, f)
    # every non-reference group with rows has a profile entry
    for kind, eng in figs:
        if eng != C.reference(kind):
            assert kind in ENGINES[eng].figures, (kind, eng)


@pytest.mark.slow
def test_validation_figures_as_stated() -> None:
    """The README's figures, reproduced from measurements.json with the shipped
    figures: rows within x1.5 with the shipped calibration, with each device
    class held out of the fit (the protocol's held-out figure) and with each
    device held out (secondary)."""
    fitted = {m.id for m in C.measurements() if not m.validation_only}
    table = [r for r in C.rows_table() if r["id"] in fitted]
    assert len(table) == 134
    assert sum(C.within(r["ratio"]) for r in table) == 123  # 92 %
    ho = C.held_out()
    assert len(ho) == len(C.measurements())
    assert sum(C.within(r) for i, r in ho.items() if i in fitted) == 108  # 81 % (not nested)
    hd = C.held_out_devices()
    assert sum(C.within(r) for i, r in hd.items() if i in fitted) == 118  # 88 %
    prefill = [m.id for m in C.measurements() if m.phases == ("prefill",) and m.id in fitted]
    assert sum(C.within(ho[i]) for i in prefill) == 47  # of 63
    old = [r for r in C.rows_table(C.old_device, old=True) if r["id"] in fitted]
    assert sum(C.within(r["ratio"]) for r in old) == 93


def test_compute_path_is_the_engines_not_fitted() -> None:
    """llama.cpp on NVIDIA GPUs takes its CUDA path (FP16-accumulate cuBLAS,
    dequantise pass); on Apple GPUs and CPUs it does not."""
    by = {(m.device, m.engine_profile): C.shipped_device(m) for m in C.measurements()}
    for dev in ("rtx-4090", "rtx-3090", "a100-80gb", "h100-pcie", "jetson-agx-orin"):
        d = by[(dev, "llama.cpp")]
        assert d.matmul_peak == "fp16_acc16" and d.dequant_pass, dev
    for dev in ("apple-m2-ultra", "apple-m3-max", "raspberry-pi-5"):
        d = by[(dev, "llama.cpp")]
        assert not d.matmul_peak and not d.dequant_pass, dev
    assert not by[("a100-80gb", "lmdeploy")].dequant_pass


def test_structures_are_the_eight_combinations_simplest_first() -> None:
    assert len(set(C.STRUCTURES)) == 8 and C.SHIPPED in C.STRUCTURES
    assert C.STRUCTURES[0].mechanisms == 0 and C.STRUCTURES[-1] == C.SHIPPED
    assert [s.mechanisms for s in C.STRUCTURES] == sorted(s.mechanisms for s in C.STRUCTURES)


def test_shipped_structure_is_the_cost_model_and_others_differ() -> None:
    """The fast prediction with the shipped structure is :func:`predict` on the
    shipped device; switching a mechanism off changes the rows it concerns."""
    ms = C.measurements()
    m = next(m for m in ms if m.device == "rtx-4090" and m.metric == "prefill_tps")
    d = C.shipped_device(m)
    x = [getattr(d, f) for f in C.FIGURES]
    assert C._predict_fast(m, x) == pytest.approx(C.predict(m, d), rel=1e-9)
    off = C.Structure(fp16_accumulate=False)
    assert C._predict_fast(m, x, off) < C._predict_fast(m, x)  # FP32-accumulate peak is lower
    per_pass = C.Structure(per_block=False)  # a 32-block pass: differs where blocks != 32
    m2 = next(m for m in ms if m.device == "rtx-4090" and C._terms(m)[8] != 32)
    d2 = C.shipped_device(m2)
    x2 = [getattr(d2, f) for f in C.FIGURES]
    assert C._predict_fast(m2, x2, per_pass) != pytest.approx(C._predict_fast(m2, x2))


@pytest.mark.slow
def test_validation_only_rows_enter_no_fit(protocol_fit) -> None:
    ms = C.measurements()
    extra = [m for m in ms if m.validation_only]
    assert {m.device for m in extra} >= {"jetson-orin-nano", "raspberry-pi-5"}
    # protocol_fit is C.calibrate() on every row: C.calibrate(ms), computed once
    assert protocol_fit == C.calibrate([m for m in ms if not m.validation_only])


@pytest.mark.slow
def test_nested_with_one_structure_is_the_plain_held_out() -> None:
    """With a single candidate there is nothing to choose: the nested estimate is
    the held-out one (on a subset of three kinds, to stay fast)."""
    ms = [m for m in C.measurements() if m.kind in ("edge-board", "sbc", "phone", "consumer-gpu")]
    nested, chosen = C.nested_held_out(ms, structures=(C.SHIPPED,))
    plain = C.held_out(ms)
    assert set(chosen.values()) == {C.SHIPPED}
    assert nested == pytest.approx(plain)
