"""The online-policy registry (:mod:`splitopt.placement.policies`) and the one display
table (:mod:`splitopt.experiments.policy_display`)."""

from __future__ import annotations

import contextlib
import itertools

import numpy as np
import pytest

from splitopt.errors import SolverError
from splitopt.experiments.bprr_policies import POLICIES as EXPERIMENT_POLICIES
from splitopt.experiments.policy_display import DISPLAY
from splitopt.placement import online, policies, sim_kernel
from splitopt.placement.policies import POLICIES, Policy, get_policy
from splitopt.placement.simulate import Workload
from tests.placement.test_algorithms import CLUSTERS


def _accepted_by_the_simulator() -> set[str]:
    """Every canonical name ``online.parse_policy`` accepts over its placements x routings."""
    out = set()
    for pl, rt in itertools.product(online.PLACEMENTS, online.ROUTINGS):
        with contextlib.suppress(SolverError):
            out.add(online.canonical(f"{pl}+{rt}"))
    return out


def test_registry_covers_every_policy_the_simulator_accepts() -> None:
    accepted = _accepted_by_the_simulator()
    assert accepted == set(POLICIES.names())
    assert len(accepted) == 25  # 8 placements x 3 routings + gbp-cr+jffc
    for name in online.DEFAULT_POLICIES:
        assert get_policy(name).name == online.canonical(name)
    # a placement alone is its default routing, as before
    assert {p: get_policy(p).routing for p in online.PLACEMENTS} == online.DEFAULT_ROUTING
    with pytest.raises(SolverError, match="jffc routes over gbp-cr"):
        online.canonical("cg-bp+jffc")
    with pytest.raises(SolverError, match="unknown placement 'nope'"):
        online.canonical("nope+ws-rr")


def test_routing_modes_are_the_kernel_modes() -> None:
    modes = {r: policies.ROUTINGS.get(r).mode for r in policies.ROUTINGS}
    assert modes == {
        "ws-rr": sim_kernel.MODE_WS_RR,
        "petals": sim_kernel.MODE_PETALS,
        "shortest": sim_kernel.MODE_SHORTEST,
        "jffc": None,
    }
    assert get_policy("gbp-cr+jffc").mode is None
    assert get_policy("cg-bp").mode == sim_kernel.MODE_WS_RR


def test_typed_options_reject_typos_and_bad_values() -> None:
    from splitopt.formats.cluster_file import read_cluster

    cluster = read_cluster(CLUSTERS / "tiny.json")
    wl = Workload.from_cluster(cluster, rate_per_s=1.0, num_requests=20)
    with pytest.raises(SolverError, match="unknown option 'r'"):
        online.run_policy(cluster, wl, "cg-bp", 0, {"r": 3})
    with pytest.raises(SolverError, match="'R' must be a whole number >= 1"):
        online.run_policy(cluster, wl, "cg-bp", 0, {"R": 0})
    # one mapping for a comparison: an option another policy reads is not an error
    run = online.run_policy(cluster, wl, "petals", 0, {"R": 2, "c": 3})
    assert run.policy == "petals+petals"


def _r1_builder(cluster, workload, policy, seed, options):  # type: ignore[no-untyped-def]
    """A new policy's builder: CG-BP with R = 1 whatever the options."""
    prep = online.prepare(cluster, workload, "cg-bp+ws-rr", seed, {**options, "R": 1})
    prep.name = policy
    return prep


def test_a_policy_registered_at_run_time_simulates_end_to_end() -> None:
    from splitopt.formats.cluster_file import read_cluster

    cluster = read_cluster(CLUSTERS / "tiny.json")
    wl = Workload.from_cluster(cluster, rate_per_s=1.0, num_requests=50)
    policies.register(Policy("cg-bp-r1", "ws-rr", build=f"{__name__}:_r1_builder", default=True))
    try:
        runs = online.simulate_many(cluster, wl, ["cg-bp-r1"], 2)
        ref = online.simulate_many(cluster, wl, ["cg-bp"], 2, {"R": 1})
    finally:
        POLICIES.unregister("cg-bp-r1+ws-rr")
    assert [r.policy for r in runs] == ["cg-bp-r1+ws-rr"] * 2
    for a, b in zip(runs, ref, strict=True):
        assert np.array_equal(a.admit, b.admit) and np.array_equal(a.service, b.service)
    with pytest.raises(SolverError):
        online.canonical("cg-bp-r1")


def test_display_rows_are_registered_policies_and_cover_the_experiments() -> None:
    assert set(DISPLAY) <= set(POLICIES.names())
    assert set(EXPERIMENT_POLICIES) <= set(DISPLAY)
    assert {online.canonical(p) for p in online.DEFAULT_POLICIES} <= set(DISPLAY)
    assert len({d.colour for d in DISPLAY.values()}) == len(DISPLAY)
    assert len({d.marker for d in DISPLAY.values()}) == len(DISPLAY)
