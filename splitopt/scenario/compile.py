"""Compile a scenario into a :class:`~splitopt.problem.Problem` (SPEC §5).

Request classes that share a (model, client) are costed together with
vectorised numpy (one (K, L) array per quantity); each class becomes one
:class:`~splitopt.problem.Chain`, and a class with ``count`` k expands to k
requests that share that one chain object (and one ``meta`` mapping), so a
scenario of 100,000 requests holds only as many arrays as it has classes.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import numpy as np

from splitopt.errors import DataError, SpecError
from splitopt.evaluate import min_latency, score
from splitopt.problem import Chain, Problem, Request
from splitopt.scenario.costmodel import chain_arrays, precision
from splitopt.scenario.spec import Scenario


def compile_scenario(scenario: Scenario) -> Problem:
    """The problem of a scenario (one chain per request class)."""
    return assemble_problem(scenario, class_chains(scenario))


def class_chains(scenario: Scenario) -> list[Chain]:
    """The costed :class:`~splitopt.problem.Chain` of each request class, in order
    (SLA ``rc.sla_s``, budget the client's); classes that share a (model, client)
    are costed in one vectorised call."""
    classes = scenario.requests
    groups: dict[tuple[str, str], list[int]] = {}
    for i, rc in enumerate(classes):
        groups.setdefault((rc.model, rc.client), []).append(i)
    chains: list[Chain | None] = [None] * len(classes)
    server = scenario.server.device
    for (mname, cname), idx in groups.items():
        model = scenario.models[mname]
        client = scenario.clients[cname]
        table = model.architecture.layers(model.granularity)
        prec = precision(model.dtype, model.compute_dtype)
        n = np.array([classes[i].prompt_tokens for i in idx], dtype=np.float64)
        g = np.array([classes[i].output_tokens for i in idx], dtype=np.float64)
        arr = chain_arrays(
            table, prec, client.device, server, client.network, n, g, scenario.work_unit
        )
        for row, i in enumerate(idx):
            rc = classes[i]
            try:
                chains[i] = Chain(
                    client_time_s=_frozen(arr.client_time_s[row]),
                    server_time_s=_frozen(arr.server_time_s[row]),
                    server_work=_frozen(arr.server_work[row]),
                    uplink_s=_frozen(arr.uplink_s[row]),
                    downlink_s=_frozen(arr.downlink_s[row]),
                    client_memory_bytes=_frozen(arr.client_memory_bytes[row]),
                    sla_s=rc.sla_s,
                    memory_budget_bytes=client.memory_budget_bytes,
                    start=rc.start,
                    end=rc.end,
                )
            except DataError as exc:  # pragma: no cover - the specs' checks come first
                raise SpecError(["requests", i], f"cost model: {exc}") from None
    out = [c for c in chains if c is not None]
    assert len(out) == len(classes)
    return out


def assemble_problem(scenario: Scenario, chains: list[Chain]) -> Problem:
    """The problem whose request class i has chain ``chains[i]``: a class with
    ``count`` k expands to k requests sharing that chain and one ``meta``
    mapping; a class with a ``rate`` is one request of that weight."""
    classes = scenario.requests
    if len(chains) != len(classes):
        raise ValueError(f"need one chain per request class ({len(classes)}), got {len(chains)}")
    server = scenario.server.device
    requests: list[Request] = []
    for i, rc in enumerate(classes):
        model = scenario.models[rc.model]
        client = scenario.clients[rc.client]
        meta = MappingProxyType(
            {
                "model": model.architecture.name,
                "model_family": model.architecture.family,
                "client": client.device.name,
                "client_name": client.name,
                "network": client.network.name,
                "server": server.name,
                "prompt_tokens": rc.prompt_tokens,
                "output_tokens": rc.output_tokens,
                "class": rc.name,
                "dtype": model.dtype,
                "granularity": model.granularity,
                "sla_s": rc.sla_s,
            }
        )
        chain = chains[i]
        if rc.rate is not None:
            requests.append(Request(id=rc.name, chain=chain, weight=rc.rate, meta=meta))
        elif rc.count == 1:
            requests.append(Request(id=rc.name, chain=chain, weight=1.0, meta=meta))
        else:
            requests.extend(
                Request(id=f"{rc.name}/{k}", chain=chain, weight=1.0, meta=meta)
                for k in range(rc.count)
            )
    return Problem(name=scenario.name, requests=tuple(requests), work_unit=scenario.work_unit)


def _frozen(row: np.ndarray) -> np.ndarray:
    a = np.array(row, dtype=np.float64)  # own copy, contiguous
    a.setflags(write=False)
    return a


def latency_bounds(chain: Chain) -> tuple[float, float, float]:
    """(least latency of any placement, all-client latency, all-server latency), seconds.

    Memory is ignored; the least latency is a two-state shortest path.
    """
    L = chain.num_layers
    return (
        min_latency(chain),
        score(chain, "C" * L).latency_s,
        score(chain, "S" * L).latency_s,
    )


def calibrate_slas(
    scenario: Scenario,
    rng: np.random.Generator,
    *,
    infeasible_frac: float = 0.05,
    generous_frac: float = 0.05,
    binding: tuple[float, float] = (0.02, 0.7),
) -> Scenario:
    """``scenario`` with every request class's ``sla_s`` set so that the SLA binds.

    SLA = T_min + f (T_client - T_min) with f drawn from ``binding`` for most
    classes, where T_min is the least latency of any placement and T_client the
    all-client latency. A fraction ``infeasible_frac`` gets an SLA below T_min
    (infeasible), ``generous_frac`` one above T_client. Where the client alone
    is fastest, SLA = T_min x U(1, 1.5). Where the memory budget rules out
    all-client, the SLA is raised to at least the all-server latency x U(1, 1.5)
    (all-server needs no client memory), so such classes stay feasible (except
    those drawn infeasible). SLAs are rounded to 4 significant digits (up, so
    the drawn class stays as drawn). The SLAs already in ``scenario`` are ignored.
    """
    classes = []
    for rc, chain in zip(scenario.requests, class_chains(scenario), strict=True):
        t_min, t_client, t_server = latency_bounds(chain)
        u = rng.random()
        raise_to = t_server * rng.uniform(1.0, 1.5)
        if u < infeasible_frac:
            sla = t_min * rng.uniform(0.6, 0.95)
        else:
            if t_client <= t_min * (1 + 1e-6):
                sla = t_min * rng.uniform(1.0, 1.5)
            elif u < infeasible_frac + generous_frac:
                sla = t_client * rng.uniform(1.0, 1.2)
            else:
                sla = t_min + rng.uniform(*binding) * (t_client - t_min)
            if chain.client_memory_bytes.sum() > chain.budget:
                sla = max(sla, raise_to)
        sla = float(f"{sla * 1.00005:.4g}") if sla > 0 else 1e-6
        classes.append(dataclasses.replace(rc, sla_s=sla))
    return scenario.replace(requests=tuple(classes))
