"""Instances of the experiments: the family instance cache, sub-instances
(one group of requests) and the sweep transforms (SLA, uplink, memory).

Runners regenerate their instance from (family, seed, size) so that tasks stay
tiny; the per-process caches here avoid regenerating the same instance for
every row.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from splitopt.problem import Chain, Problem


@lru_cache(maxsize=16)
def instance(family: str, seed: int, size: str, options: str = "") -> Problem:
    """The family's seeded instance; ``options`` is a JSON object of generator options."""
    from splitopt.families import generate

    opts = json.loads(options) if options else {}
    override = opts.pop("override", None)
    if override:
        return overridden_instance(family, seed, size, override)
    setting = opts.pop("setting", None)
    if setting is not None:
        return setting_instance(family, seed, size, **setting)
    return generate(family, seed, size, **opts)


#: Budget given to every client while SLAs are calibrated for "no memory budget"
#: (removed afterwards): larger than any model's memory, so no SLA is raised for
#: memory, and drawn like any budget so every other draw stays the same.
_NO_BUDGET_BYTES = 1e18


def setting_instance(
    family: str,
    seed: int,
    size: str,
    memory: bool = False,
    work_unit: str = "FLOP",
    decode: bool = True,
    sla_anchor: str = "bounds",
    slack: float = 0.0,
    cost_model: str = "calibrated",
    token_lengths: str | None = None,
) -> Problem:
    """An instance of the SplitLLM protocol (``paper/PROTOCOL.md``), one factor at a time.

    ``memory``: keep the family's client memory budgets (ours; the sources state
    none) or, False (the protocol's setting P), calibrate SLAs without a budget and
    leave every request unbudgeted. ``work_unit``: ``FLOP`` (P) or ``s`` (server
    seconds). ``decode``: the family's output tokens (P) or none (prefill only).
    ``sla_anchor``: ``bounds`` (P: the family's SLA rule, between the fastest and
    the all-client latency) or ``server``: SLA = (1 + ``slack``) x the request's
    all-server latency (seconds), replacing the drawn SLA. ``cost_model``:
    ``calibrated`` or ``uncalibrated-roofline`` (the pre-calibration model the
    protocol was registered with, kept only for comparison; same draws, SLAs
    from that model's latencies). ``token_lengths``: ``None`` (P: the family's
    token ranges) or ``azure-conv`` / ``azure-code`` (each text class's tokens from
    the Azure LLM inference trace 2023; a different random stream, so not the
    same instance otherwise).
    """
    import dataclasses

    from splitopt.evaluate import score
    from splitopt.families import get_scenario_family

    fam = get_scenario_family(family)
    changes: dict[str, Any] = {"work_unit": work_unit, "cost_model": cost_model}
    if token_lengths is not None:
        changes["token_lengths"] = token_lengths
    if not decode:
        changes["output_tokens"] = 0
    if not memory:
        changes["clients"] = {
            name: dataclasses.replace(e, budget_bytes=(_NO_BUDGET_BYTES, _NO_BUDGET_BYTES))
            for name, e in fam.clients.items()
        }
    p = fam.replace(**changes).generate(seed, size)
    chains = list(p.chains)
    if not memory:
        chains = [c.replace(memory_budget_bytes=None) for c in chains]
    if sla_anchor == "server":
        if slack < 0:
            raise ValueError(f"slack must be >= 0, got {slack}")
        chains = [
            c.replace(sla_s=(1.0 + slack) * score(c, "S" * c.num_layers).latency_s) for c in chains
        ]
    elif sla_anchor != "bounds":
        raise ValueError(f"unknown SLA anchor {sla_anchor!r}: bounds or server")
    return p.with_chains(chains)


def overridden_instance(family: str, seed: int, size: str, override: dict[str, Any]) -> Problem:
    """A family instance with every request class's ``prompt_tokens``,
    ``output_tokens`` or ``client`` set to one value, SLAs recalibrated.

    The override is a typed change of the family's table
    (:meth:`~splitopt.families.scenario_family.ScenarioFamily.replace`): the
    instance is drawn as usual, the override applied to every class, and the
    SLAs drawn from one fixed stream (``sla_stream``), so each class keeps where
    its SLA sits between its fastest and its all-client latency: only the
    overridden quantity changes. Token counts are capped by the model's context.
    """
    from splitopt.families import get_scenario_family

    return get_scenario_family(family).replace(sla_stream=7919, **override).generate(seed, size)


def _group_indices(problem: Problem, group_by: str, group: str) -> list[int]:
    if not group_by or group == "all":
        return list(range(len(problem)))
    return [
        i
        for i, r in enumerate(problem.requests)
        if r.meta is not None and str(r.meta.get(group_by)) == group
    ]


def group_values(problem: Problem, key: str) -> list[str]:
    """Distinct ``meta[key]`` values of an instance, as strings, sorted (numbers numerically)."""
    vals = {r.meta.get(key) for r in problem.requests if r.meta is not None and key in r.meta}
    vals.discard(None)

    def sort_key(v: Any) -> tuple[int, float, str]:
        return (0, float(v), "") if isinstance(v, (int, float)) else (1, 0.0, str(v))

    return [str(v) for v in sorted(vals, key=sort_key)]


def _transform(chain: Chain, sla_scale: float, uplink_scale: float, memory_frac: float) -> Chain:
    changes: dict[str, object] = {}
    if sla_scale != 1.0:
        changes["sla_s"] = chain.sla_s * sla_scale
    if uplink_scale != 1.0:
        changes["uplink_s"] = chain.uplink_s * uplink_scale
    if memory_frac >= 0:
        changes["memory_budget_bytes"] = float(memory_frac * chain.client_memory_bytes.sum())
    return chain.replace(**changes) if changes else chain


@lru_cache(maxsize=16)
def sub_instance(
    family: str,
    seed: int,
    size: str,
    options: str = "",
    group_by: str = "",
    group: str = "all",
    sla_scale: float = 1.0,
    uplink_scale: float = 1.0,
    memory_frac: float = -1.0,
) -> Problem:
    """The requests of one group of an instance, with the sweep transforms applied.

    ``sla_scale`` multiplies each SLA; ``uplink_scale`` multiplies each uplink
    transfer time (bandwidth divided by it, when delays are negligible);
    ``memory_frac`` ≥ 0 sets each client memory budget to that fraction of the
    memory all layers would need on the client (−1: keep the instance's budgets).
    """
    base = instance(family, seed, size, options)
    idx = _group_indices(base, group_by, group)
    if not idx:
        raise ValueError(f"no request of {family} seed {seed} has {group_by} = {group!r}")
    p = base.subset(idx, name=f"{base.name}[{group_by}={group}]" if group_by else base.name)
    if sla_scale != 1.0 or uplink_scale != 1.0 or memory_frac >= 0:
        p = p.with_chains([_transform(c, sla_scale, uplink_scale, memory_frac) for c in p.chains])
    return p


def family_groups(family: str, seed: int, size: str, key: str) -> list[str]:
    """The distinct ``meta[key]`` values of the family's instance (:func:`group_values`)."""
    return group_values(instance(family, seed, size), key)
