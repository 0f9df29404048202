"""Compile a scenario into a :class:`~splitopt.problem.Problem` (SPEC §5).

Request classes that share a (model, client) are costed together with
vectorised numpy (one (K, L) array per quantity); each class becomes one
:class:`~splitopt.problem.Chain`, and a class with ``count`` k expands to k
requests that share that one chain object (and one ``meta`` mapping), so a
scenario of 100,000 requests holds only as many arrays as it has classes.
"""

from __future__ import annotations

import numpy as np

from splitopt.errors import DataError, SpecError
from splitopt.problem import Chain, Meta, Problem, Request
from splitopt.scenario.cost_models import CALIBRATED, costed
from splitopt.scenario.costmodel import chain_arrays, precision
from splitopt.scenario.spec import Scenario, profile_for


def compile_scenario(scenario: Scenario, cost_model: str = CALIBRATED) -> Problem:
    """The problem of a scenario (one chain per request class); ``cost_model``:
    see :mod:`splitopt.scenario.cost_models` (``uncalibrated-roofline`` is the
    pre-calibration model, kept only for comparison)."""
    return assemble_problem(scenario, class_chains(scenario, cost_model))


def class_chains(scenario: Scenario, cost_model: str = CALIBRATED) -> list[Chain]:
    """The costed :class:`~splitopt.problem.Chain` of each request class, in order
    (SLA ``rc.sla_s``, budget the client's); classes that share a (model, client)
    are costed in one vectorised call, with the device figures of ``cost_model``
    (:mod:`splitopt.scenario.cost_models`)."""
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
        client_dev, server_dev, prec = costed(
            cost_model, client.device, server, precision(model.dtype, model.compute_dtype)
        )
        n = np.array([classes[i].prompt_tokens for i in idx], dtype=np.float64)
        g = np.array([classes[i].output_tokens for i in idx], dtype=np.float64)
        arr = chain_arrays(
            table,
            prec,
            client_dev,
            server_dev,
            client.network,
            n,
            g,
            scenario.work_unit,
            client_profile=profile_for(client.profiles, model),
            server_profile=profile_for(scenario.server.profiles, model),
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
            except DataError as exc:  # a device/network whose numbers break the arrays
                raise _cost_model_error(exc, i, cname, mname) from None
    out = [c for c in chains if c is not None]
    assert len(out) == len(classes)
    return out


def assemble_problem(scenario: Scenario, chains: list[Chain]) -> Problem:
    """The problem whose request class i has chain ``chains[i]``: a class with
    ``count`` k expands to k requests sharing that chain and one ``meta``
    mapping of descriptors; a class with a ``rate`` is one request of that weight.

    The SLA lives in the chain only (``meta`` holds descriptors, not data the
    solvers use, so transforming a chain cannot leave a stale copy behind).
    """
    classes = scenario.requests
    if len(chains) != len(classes):
        raise ValueError(f"need one chain per request class ({len(classes)}), got {len(chains)}")
    server = scenario.server.device
    requests: list[Request] = []
    for i, rc in enumerate(classes):
        model = scenario.models[rc.model]
        client = scenario.clients[rc.client]
        meta = Meta(
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


#: Which scenario field a bad cost-model array comes from: Chain field -> path.
_SOURCE: dict[str, tuple[str, ...]] = {
    "client_time_s": ("clients", "{client}", "device"),
    "client_memory_bytes": ("clients", "{client}", "device"),
    "server_time_s": ("server", "device"),
    "server_work": ("server", "device"),
    "uplink_s": ("clients", "{client}", "network", "uplink_bit_per_s"),
    "downlink_s": ("clients", "{client}", "network", "downlink_bit_per_s"),
    "memory_budget_bytes": ("clients", "{client}", "memory_budget_bytes"),
}


def _cost_model_error(exc: DataError, i: int, client: str, model: str) -> SpecError:
    """A :class:`SpecError` at the scenario field behind a bad array (not at
    ``requests[i]``); file readers add the file name."""
    src = _SOURCE.get(exc.field)
    if src is None:  # a field of the request itself (sla_s, ...)
        return SpecError(["requests", i, exc.field], exc.reason)
    path = [part.format(client=client) for part in src]
    return SpecError(
        path,
        f"the cost model gives {exc} for requests[{i}] (model {model!r}); "
        "the device/network numbers or the model size are out of range",
    )
