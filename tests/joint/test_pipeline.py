"""PipeEdge's partitioning DP against brute force, scored by one evaluator."""

from __future__ import annotations

import math

import numpy as np

from splitopt.joint.pipeline import (
    DeviceType,
    PipelineModel,
    Stage,
    bottleneck,
    brute_pipeline,
    pipeedge,
)


def _instance(seed: int):
    rng = np.random.default_rng(seed)
    L = int(rng.integers(1, 8))
    w = np.exp(rng.uniform(np.log(1e3), np.log(1e9), L))
    out = np.exp(rng.uniform(np.log(1e2), np.log(1e8), L))
    model = PipelineModel(w, out, in_bytes=float(out[0]), buffers_in=2, buffers_out=2)
    types = []
    for t in range(int(rng.integers(1, 4))):
        types.append(
            DeviceType(
                name=f"t{t}",
                count=int(rng.integers(0, 3)),
                memory_bytes=float(w.sum() * rng.uniform(0.05, 1.5) + 6 * out.max()),
                bandwidth_bps=float(np.exp(rng.uniform(np.log(1e6), np.log(1e11)))),
                layer_time_s=np.exp(rng.uniform(np.log(1e-5), np.log(1e1), L)),
            )
        )
    return model, types


def test_dp_equals_brute_force() -> None:
    feasible = 0
    for seed in range(400):
        model, types = _instance(seed)
        stages, b = pipeedge(model, types)
        ref_stages, ref = brute_pipeline(model, types)
        if math.isinf(ref):
            assert math.isinf(b) and stages == (), seed
            continue
        feasible += 1
        assert math.isclose(bottleneck(model, types, stages), b, rel_tol=1e-12), seed
        assert math.isclose(b, ref, rel_tol=1e-12), (seed, stages, ref_stages)
    assert 100 < feasible < 400


def test_evaluator_rejects_too_many_devices_and_gaps() -> None:
    model = PipelineModel(np.ones(4), np.ones(4))
    one = [DeviceType("a", 1, 100.0, 1e9, np.ones(4))]
    assert bottleneck(model, one, (Stage(0, 1, 4),)) == 4.0
    assert math.isinf(bottleneck(model, one, (Stage(0, 1, 2), Stage(0, 3, 4))))
    assert math.isinf(bottleneck(model, one, (Stage(0, 1, 2),)))
    assert math.isinf(bottleneck(model, one, (Stage(0, 2, 4),)))


def test_memory_rule_is_strict_and_counts_buffers() -> None:
    model = PipelineModel(np.array([10.0, 10.0]), np.array([1.0, 1.0]), in_bytes=1.0)
    # one stage: weights 20 + out buffers 2 x 1 + processing in 1 + out 1 = 24
    tight = [DeviceType("a", 1, 24.0, 1e9, np.ones(2))]
    assert math.isinf(pipeedge(model, tight)[1])
    roomy = [DeviceType("a", 1, 24.0 + 1e-9, 1e9, np.ones(2))]
    assert pipeedge(model, roomy)[1] == 2.0
