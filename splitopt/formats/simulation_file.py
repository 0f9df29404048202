"""``splitopt-simulation`` v1 documents (``splitopt simulate --json``): write, read back.

A document::

    {"format": "splitopt-simulation", "version": 1, "cluster": "paper-clustered",
     "splitopt_version": "...",
     "workload": {"arrival_rate_per_s": 0.1, "num_requests": 100,
                  "classes": [{"client": "c0", "l_in": 20, "l_out": 64}]},
     "seeds": [0, 1, 2], "authors_delays": false,
     "policies": {"cg-bp+ws-rr": {"seeds": 3, "per_token_mean": 0.41,
                                  "per_token_mean_ci": 0.02, ...}},
     "runs": [{"policy": "cg-bp+ws-rr", "seed": 0, "served": 1.0, ..., "R": 4}]}

Strict JSON: a figure that is not a finite number (a mean over no served request is
infinite; a confidence interval of one seed is undefined) is written as ``null`` and
the object that holds it gets a ``null_reasons`` object saying why, field by field.
Every figure is in seconds except ``served`` (a fraction), ``seeds`` and
``max_in_system`` (counts).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from splitopt._version import __version__
from splitopt.formats.errors import (
    InputError,
    check_fields,
    check_header,
    dumps,
    get_number,
    get_string,
    load_json,
    write_text_atomic,
)

FORMAT = "splitopt-simulation"
VERSION = 1

#: The per-run figures of :meth:`splitopt.placement.simulate.SimRun.metrics`, with
#: their descriptions (the schema's); ``*_pNN`` are percentiles over served requests.
METRICS: dict[str, str] = {
    "served": "fraction of the requests that were served (0..1)",
    "remaining_per_token_mean": "mean decode time per generated token after the first, s",
    "max_in_system": "most requests in the system at once (count)",
    "client_blocks_mean": "mean blocks a served request ran on its own client (count; only "
    "when the cluster's clients name devices)",
    "swarm_blocks_mean": "mean blocks a served request ran on the swarm: swarm work in blocks "
    "(count; only when the cluster's clients name devices)",
}
for _name, _what in (
    ("per_token", "per-token time (wait + service) / l_out, s"),
    ("ttft", "time to first token (wait + prefill), s"),
    ("wait", "wait from arrival to admission, s"),
    ("response", "response time (wait + service), s"),
):
    METRICS[f"{_name}_mean"] = f"mean {_what}"
    for _p in (50, 95, 99):
        METRICS[f"{_name}_p{_p}"] = f"{_p}th percentile of the {_what}"

#: Policy-level options a run records (besides the metrics).
RUN_INFO: dict[str, str] = {
    "R": "design concurrency of the cg-bp placement (requests)",
    "c": "cache reservation of gbp-cr (requests per chain)",
    "chains": "chains of a gbp-cr placement (count)",
    "slots": "request slots over the chains of a gbp-cr placement (count)",
    "blocks_hosted": "blocks hosted over all servers (count)",
}

DOCUMENT_FIELDS = (
    ("format", "version", "cluster", "workload", "seeds", "policies", "runs"),
    ("authors_delays", "splitopt_version", "notes", "semantics", "clients"),
)


def _reason(key: str, value: float) -> str:
    if key.endswith("_ci"):
        return (
            "no confidence interval: fewer than 2 seeds, or the figure is not finite in every seed"
        )
    if value == math.inf:
        return "infinite: no request was served in a run (a mean or percentile of nothing)"
    return "not a number"


def strict(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` with every non-finite number as ``None`` and a ``null_reasons`` entry
    for it (only when there is one)."""
    out: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    for k, v in row.items():
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = None
            reasons[k] = _reason(k, v)
        else:
            out[k] = v
    if reasons:
        out["null_reasons"] = reasons
    return out


def simulation_to_dict(
    cluster: Any,
    workload: Any,
    seeds: Sequence[int],
    authors_delays: bool,
    table: Mapping[str, Mapping[str, float]],
    runs: Sequence[Any],
    notes: Mapping[str, str] | None = None,
    semantics: str = "splitopt",
    clients: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The document of one ``simulate`` call: the per-policy table of
    :func:`~splitopt.placement.simulate.summarise`, every run's figures and, per policy
    that left requests unserved, why (``notes``); ``clients``: how clients that run
    blocks were simulated (only when the cluster's clients name devices)."""
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "cluster": cluster.name,
        "splitopt_version": __version__,
        "workload": {
            "arrival_rate_per_s": workload.rate_per_s,
            "num_requests": workload.num_requests,
            "classes": [
                {"client": cluster.clients[j.client], "l_in": j.l_in, "l_out": j.l_out}
                for j in workload.classes
            ],
        },
        "seeds": [int(s) for s in seeds],
        "authors_delays": bool(authors_delays),
        "semantics": str(semantics),
        "policies": {name: strict(row) for name, row in table.items()},
        "runs": [
            strict(
                {
                    "policy": r.policy,
                    "seed": r.seed,
                    **r.metrics(),
                    **{k: v for k, v in r.info.items() if isinstance(v, (int, float, str))},
                }
            )
            for r in runs
        ],
    }
    if notes:
        doc["notes"] = {str(k): str(v) for k, v in notes.items()}
    if clients is not None:  # the cluster's clients run blocks (splitopt.joint.online)
        doc["clients"] = strict(dict(clients))
    return doc


def simulation_dumps(doc: Mapping[str, Any]) -> str:
    """Strict JSON text of a document (a non-finite number left in it is an error)."""
    return dumps(doc)


def write_simulation(doc: Mapping[str, Any], file: str | os.PathLike) -> None:
    write_text_atomic(file, simulation_dumps(doc))


def _row(file: Any, row: Any, path: list[str | int], text: tuple[str, ...]) -> None:
    if not isinstance(row, dict):
        raise InputError(file, path, "must be a JSON object")
    reasons = row.get("null_reasons", {})
    if not isinstance(reasons, dict):
        raise InputError(file, [*path, "null_reasons"], "must be a JSON object")
    for k, v in row.items():
        if k == "null_reasons" or k in text or isinstance(v, str):
            continue
        if v is None:
            if k not in reasons:
                raise InputError(file, [*path, k], "is null without a reason in null_reasons")
            continue
        get_number(file, v, [*path, k], nonneg=False)


def simulation_from_dict(doc: Any, file: str | os.PathLike | None = None) -> dict[str, Any]:
    """Check a parsed ``splitopt-simulation`` document (shape and strict numbers); the
    document itself is returned (a record of figures: nothing in it is re-scored)."""
    check_header(file, doc, FORMAT, VERSION)
    check_fields(file, doc, [], *DOCUMENT_FIELDS)
    get_string(file, doc["cluster"], ["cluster"])
    wl = doc["workload"]
    check_fields(file, wl, ["workload"], ("arrival_rate_per_s", "num_requests", "classes"))
    get_number(file, wl["arrival_rate_per_s"], ["workload", "arrival_rate_per_s"], positive=True)
    get_number(file, wl["num_requests"], ["workload", "num_requests"], integer=True)
    if not isinstance(wl["classes"], list):
        raise InputError(file, ["workload", "classes"], "must be an array")
    for i, c in enumerate(wl["classes"]):
        check_fields(file, c, ["workload", "classes", i], ("client", "l_in", "l_out"))
    if not isinstance(doc["seeds"], list):
        raise InputError(file, ["seeds"], "must be an array of seeds")
    for i, s in enumerate(doc["seeds"]):
        get_number(file, s, ["seeds", i], integer=True)
    if not isinstance(doc["policies"], dict):
        raise InputError(file, ["policies"], "must be an object (policy -> figures)")
    for name, row in doc["policies"].items():
        _row(file, row, ["policies", name], ())
    if not isinstance(doc["runs"], list):
        raise InputError(file, ["runs"], "must be an array of runs")
    for i, row in enumerate(doc["runs"]):
        _row(file, row, ["runs", i], ("policy",))
        if isinstance(row, dict):
            check_fields(file, row, ["runs", i], ("policy", "seed"), tuple(row))
    return doc


def read_simulation(file: str | os.PathLike) -> dict[str, Any]:
    """Read and check a ``splitopt-simulation`` file."""
    return simulation_from_dict(load_json(file), file)


__all__ = [
    "FORMAT",
    "METRICS",
    "RUN_INFO",
    "VERSION",
    "read_simulation",
    "simulation_dumps",
    "simulation_from_dict",
    "simulation_to_dict",
    "strict",
    "write_simulation",
]
