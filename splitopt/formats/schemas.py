"""JSON Schemas (draft 2020-12) of every file format, generated from the readers.

The schemas are built from the field tables the readers and writers use
(:mod:`~splitopt.formats.problem_file`, :mod:`~splitopt.formats.solution_file`,
:mod:`~splitopt.formats.scenario_file`) and from the value tables of the types
(dtypes, kinds, locations, catalogue names), so there is one definition of each
format. A field in a table without a JSON type here fails the generation. The
shipped copies live in ``splitopt/data/schemas/``; regenerate them with::

    python -m splitopt.formats.schemas

(``tests/formats/test_schemas.py`` regenerates and compares.) A schema checks the
shape of a document; the readers check more (array lengths against the number
of layers, cross references, context lengths) and give the error messages.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any

from splitopt.formats import (
    cluster_file,
    placement_file,
    problem_file,
    profile_file,
    scenario_file,
    simulation_file,
    solution_file,
)
from splitopt.formats.descriptions import describe
from splitopt.formats.errors import dumps
from splitopt.placement.model import MAX_BLOCKS as MAX_BLOCKS_L
from splitopt.placement.model import MAX_CLIENTS, MAX_JOBS, MAX_REQUESTS, MAX_SERVERS
from splitopt.placement.result import STATUSES as PLACEMENT_STATUSES
from splitopt.problem import BOUNDARY_FIELDS, LAYER_FIELDS, LOCATIONS, WORK_UNITS
from splitopt.scenario import cluster
from splitopt.scenario.architectures import (
    ARCHITECTURES,
    GRANULARITIES,
    HEADS,
    KINDS,
    MAX_BLOCKS,
    MLPS,
    NONNEG_INTS,
    NORMS,
    POSITIVE_INTS,
)
from splitopt.scenario.costmodel import COMPUTE_DTYPES, WEIGHT_DTYPES
from splitopt.scenario.devices import DEVICES
from splitopt.scenario.devices import PEAK_KEYS as PEAK_DTYPES
from splitopt.scenario.engines import ENGINES
from splitopt.scenario.networks import NETWORKS
from splitopt.solution import STATUSES

DRAFT = "https://json-schema.org/draft/2020-12/schema"
NAMES: tuple[str, ...] = (
    "problem",
    "solution",
    "scenario",
    "profile",
    "cluster",
    "placement",
    "simulation",
)

NUMBER: dict = {"type": "number"}
NONNEG: dict = {"type": "number", "minimum": 0}
POSITIVE: dict = {"type": "number", "exclusiveMinimum": 0}
STRING: dict = {"type": "string"}
OBJECT: dict = {"type": "object"}


def _nullable(s: dict) -> dict:
    return {**s, "type": [s["type"], "null"]}


def _object(
    types: dict[str, dict], required: tuple[str, ...] = (), optional: tuple[str, ...] = ()
) -> dict:
    """A closed object of ``required`` and ``optional`` fields typed by ``types``."""
    out: dict[str, Any] = {"type": "object"}
    if required:
        out["required"] = list(required)
    out["properties"] = {k: types[k] for k in (*required, *optional)}
    out["additionalProperties"] = False
    return out


def _header(fmt: str, version: int, title: str) -> dict:
    return {
        "$schema": DRAFT,
        "$id": f"https://splitopt.invalid/schemas/{fmt}.schema.json",
        "title": f"{fmt} v{version}",
        "description": title,
    }


# -- splitopt-problem -----------------------------------------------------------------


def problem_schema() -> dict:
    pf = problem_file
    types: dict[str, dict] = {
        "id": {"type": "string", "minLength": 1},
        "sla_s": POSITIVE,
        "memory_budget_bytes": _nullable(NONNEG),
        "weight": NONNEG,
        "start": {"enum": list(LOCATIONS)},
        "end": {"enum": list(LOCATIONS)},
        "meta": OBJECT,
    }
    for name in LAYER_FIELDS + BOUNDARY_FIELDS:
        types[name] = {"type": "array", "items": NONNEG, "minItems": 1}
    doc_types: dict[str, dict] = {
        "format": {"const": pf.FORMAT},
        "version": {"const": pf.VERSION},
        "name": STRING,
        "work_unit": {"enum": list(WORK_UNITS)},
        "meta": OBJECT,
        "requests": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/request"}},
    }
    return {
        **_header(
            pf.FORMAT,
            pf.VERSION,
            "Split problems: per request, per-layer arrays "
            "(L layers, L + 1 boundaries), an SLA and an optional memory budget.",
        ),
        **_object(doc_types, ("format", "version", "requests"), ("name", "work_unit", "meta")),
        "$defs": {
            "request": _object(types, pf.REQUIRED_REQUEST_FIELDS, pf.OPTIONAL_REQUEST_FIELDS)
        },
    }


# -- splitopt-solution ----------------------------------------------------------------


def solution_schema() -> dict:
    sf = solution_file
    kinds: dict[str, dict] = {
        "string": STRING,
        "integer": {"type": "integer"},
        "number": NUMBER,
        "number?": _nullable(NUMBER),
        "boolean": {"type": "boolean"},
        "object": OBJECT,
        "status": {"enum": list(STATUSES)},
        "placement": {"type": ["string", "null"], "pattern": "^[CS]*$"},
        "summary": {"$ref": "#/$defs/summary"},
        "requests": {"type": "array", "items": {"$ref": "#/$defs/request"}},
    }

    def typed(table: dict[str, str]) -> dict[str, dict]:
        return {k: kinds[v] for k, v in table.items()}

    doc = typed(sf.DOCUMENT_FIELDS)
    doc["format"], doc["version"] = {"const": sf.FORMAT}, {"const": sf.VERSION}
    req = sf.REQUIRED_DOCUMENT_FIELDS
    rreq = sf.REQUIRED_REQUEST_FIELDS
    document = _object(doc, req, tuple(k for k in sf.DOCUMENT_FIELDS if k not in req))
    return {
        **_header(
            sf.FORMAT,
            sf.VERSION,
            "Solutions (what `splitopt solve --json` writes): one "
            "document, or an array of documents for several solvers or files.",
        ),
        "oneOf": [
            {"$ref": "#/$defs/document"},
            {"type": "array", "items": {"$ref": "#/$defs/document"}},
        ],
        "$defs": {
            "document": document,
            "summary": _object(typed(sf.SUMMARY_FIELDS), tuple(sf.SUMMARY_FIELDS)),
            "request": _object(
                typed(sf.REQUEST_FIELDS),
                rreq,
                tuple(k for k in sf.REQUEST_FIELDS if k not in rreq),
            ),
        },
    }


# -- splitopt-scenario ----------------------------------------------------------------


def _named_or_object(catalogue: dict, ref: str) -> dict:
    return {"anyOf": [{"enum": list(catalogue)}, {"$ref": f"#/$defs/{ref}"}]}


def _explicit(types: dict[str, dict], required: tuple[str, ...], fields: tuple[str, ...]) -> dict:
    """An explicit object: every field optional with ``base``, else ``required`` needed."""
    out = _object(types, (), fields)
    out["anyOf"] = [{"required": ["base"]}, {"required": list(required)}]
    return out


def _architecture_types() -> dict[str, dict]:
    choices = {"kind": KINDS, "mlp": MLPS, "norm": NORMS, "head": HEADS}
    types: dict[str, dict] = {"base": {"enum": list(ARCHITECTURES)}}
    for key, kind in scenario_file.ARCH_TYPES.items():
        if kind == "str":
            types[key] = {"enum": list(choices[key])} if key in choices else STRING
        elif kind == "bool":
            types[key] = {"type": "boolean"}
        elif kind == "number":
            types[key] = _nullable(POSITIVE)
        else:
            assert key in POSITIVE_INTS or key in NONNEG_INTS, key
            types[key] = {"type": "integer", "minimum": 1 if key in POSITIVE_INTS else 0}
            if key in ("num_layers", "num_decoder_layers"):
                types[key]["maximum"] = MAX_BLOCKS
    return types


def scenario_schema() -> dict:
    sf = scenario_file
    efficiency = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
    figures = {
        k: (NONNEG if k.endswith("_s") else efficiency) for k in sf.ENGINE_FIELDS
    }
    engine = {"enum": list(ENGINES)}
    device_types = {
        "base": {"enum": list(DEVICES)},
        "peak_flops": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"enum": list(PEAK_DTYPES)},
            "additionalProperties": POSITIVE,
        },
        "memory_bandwidth_bytes_per_s": POSITIVE,
        "memory_bytes": NONNEG,
        **figures,
        "matmul_peak": {"enum": list(PEAK_DTYPES)},
        "dequant_pass": {"type": "boolean"},
        **{k: STRING for k in sf.DEVICE_STRINGS},
    }
    network_types = {
        "base": {"enum": list(NETWORKS)},
        "uplink_bit_per_s": POSITIVE,
        "downlink_bit_per_s": POSITIVE,
        "one_way_delay_s": NONNEG,
        **{k: STRING for k in sf.NETWORK_STRINGS},
    }
    profiles = {
        "type": "array",
        "items": {"oneOf": [{"type": "string", "minLength": 1}, profile_schema_body()]},
    }
    server_types = {
        "device": {"$ref": "#/$defs/device"},
        "engine": engine,
        "profiles": profiles,
        **figures,
    }
    client_types = {
        "device": {"$ref": "#/$defs/device"},
        "network": _named_or_object(NETWORKS, "explicit_network"),
        "memory_budget_bytes": _nullable(NONNEG),
        "engine": engine,
        "profiles": profiles,
        **figures,
    }
    model_types = {
        "architecture": _named_or_object(ARCHITECTURES, "explicit_architecture"),
        "dtype": {"enum": list(WEIGHT_DTYPES)},
        "compute_dtype": {"enum": list(COMPUTE_DTYPES)},
        "granularity": {"enum": list(GRANULARITIES)},
    }
    request_types = {
        "class": {"type": "string", "minLength": 1, "pattern": "^[^/]*$"},
        "client": STRING,
        "model": STRING,
        "sla_s": POSITIVE,
        "prompt_tokens": {"type": "integer", "minimum": 1},
        "output_tokens": {"type": "integer", "minimum": 0},
        "count": {"type": "integer", "minimum": 1},
        "rate": POSITIVE,
        "start": {"enum": list(LOCATIONS)},
        "end": {"enum": list(LOCATIONS)},
    }
    request = _object(request_types, *sf.REQUEST_FIELDS)
    request["not"] = {"required": ["count", "rate"]}

    def names_of(ref: str) -> dict:
        return {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"$ref": f"#/$defs/{ref}"},
        }

    doc_types: dict[str, dict] = {
        "format": {"const": sf.FORMAT},
        "version": {"const": sf.VERSION},
        "name": STRING,
        "description": {"type": "string", "pattern": "^[^\\n]*$"},
        "work_unit": {"enum": list(WORK_UNITS)},
        "meta": OBJECT,
        "server": {"$ref": "#/$defs/server"},
        "clients": names_of("client"),
        "models": names_of("model"),
        "requests": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/request"}},
    }
    return {
        **_header(
            sf.FORMAT,
            sf.VERSION,
            "Scenarios: a server, clients (device, network, memory "
            "budget), models (architecture, dtype, granularity) and request classes; "
            "catalogue names or explicit objects.",
        ),
        **_object(doc_types, sf.DOCUMENT_REQUIRED, sf.DOCUMENT_OPTIONAL),
        "$defs": {
            "device": _named_or_object(DEVICES, "explicit_device"),
            "explicit_device": _explicit(device_types, sf.DEVICE_REQUIRED, sf.DEVICE_FIELDS),
            "explicit_network": _explicit(network_types, sf.NETWORK_REQUIRED, sf.NETWORK_FIELDS),
            "explicit_architecture": _explicit(
                _architecture_types(), sf.ARCH_REQUIRED, ("base", *sf.ARCH_TYPES)
            ),
            "server": _object(server_types, *sf.SERVER_FIELDS),
            "client": _object(client_types, *sf.CLIENT_FIELDS),
            "model": _object(model_types, *sf.MODEL_FIELDS),
            "request": request,
        },
    }


def profile_schema_body() -> dict:
    """The ``splitopt-profile`` object (without the schema header)."""
    pf = profile_file
    grid = {
        "type": "array",
        "minItems": 2,
        "items": {"type": "integer", "minimum": 1},
    }
    times = {"type": "array", "minItems": 2, "items": NONNEG}
    layer = _object(
        {"name": STRING, "prefill_s": times, "decode_step_s": times, "weight_bytes": NONNEG},
        pf.LAYER_REQUIRED,
        pf.LAYER_OPTIONAL,
    )
    types: dict[str, dict] = {
        "format": {"const": pf.FORMAT},
        "version": {"const": pf.VERSION},
        "model": STRING,
        "dtype": {"enum": list(WEIGHT_DTYPES)},
        "granularity": {"enum": list(GRANULARITIES)},
        "prompt_tokens": grid,
        "contexts": grid,
        "layers": {"type": "array", "minItems": 1, "items": layer},
        **{k: STRING for k in ("name", "device", "engine", "source", "notes")},
        "meta": OBJECT,
    }
    return _object(types, pf.REQUIRED, pf.OPTIONAL)


def profile_schema() -> dict:
    pf = profile_file
    return {
        **_header(
            pf.FORMAT,
            pf.VERSION,
            "Measured profiles: per-layer prefill seconds at a grid of prompt lengths, "
            "decode-step seconds at a grid of contexts, and weight bytes, of one model "
            "on one device.",
        ),
        **profile_schema_body(),
    }


# -- splitopt-cluster -----------------------------------------------------------------


def _int(minimum: int, maximum: int | None = None) -> dict:
    out: dict[str, Any] = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        out["maximum"] = maximum
    return out


def cluster_schema() -> dict:
    cf = cluster_file
    fraction = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
    matrix = {"type": "array", "items": {"type": "array", "items": NONNEG}}
    types: dict[str, dict] = {
        "format": {"const": cf.FORMAT},
        "version": {"const": cf.VERSION},
        "name": STRING,
        "meta": OBJECT,
        "model": {
            "anyOf": [
                {"$ref": "#/$defs/model_preset"},
                {"$ref": "#/$defs/model_architecture"},
                {"$ref": "#/$defs/model_explicit"},
            ]
        },
        "servers": {
            "type": "array",
            "minItems": 1,
            "items": {
                "anyOf": [
                    {"$ref": "#/$defs/server_preset"},
                    {"$ref": "#/$defs/server_device"},
                    {"$ref": "#/$defs/server_explicit"},
                ]
            },
        },
        "clients": {
            "type": "array",
            "minItems": 1,
            "items": {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {"$ref": "#/$defs/client"},
                    {"$ref": "#/$defs/client_device"},
                    {"$ref": "#/$defs/client_explicit"},
                ]
            },
        },
        "network": {
            "anyOf": [
                {"$ref": "#/$defs/network_explicit"},
                {"$ref": "#/$defs/network_matrix"},
                {"$ref": "#/$defs/network_clustered"},
            ]
        },
        "workload": {"$ref": "#/$defs/workload"},
        # model
        "preset": STRING,
        "architecture": {"enum": list(ARCHITECTURES)},
        "dtype": {"enum": ["nf4", *WEIGHT_DTYPES]},
        "cache_dtype": {"enum": list(WEIGHT_DTYPES)},
        "num_blocks": _int(1, MAX_BLOCKS_L),
        "block_bytes": NONNEG,
        "cache_bytes_per_token": NONNEG,
        "hidden_size": _int(0),
        # servers and clients
        "id": {"type": "string", "minLength": 1},
        "count": _int(1, MAX_SERVERS),
        "site": {"type": ["string", "integer"]},
        "max_blocks": {"type": ["integer", "null"], "minimum": 0},
        "device": {"enum": list(DEVICES)},
        "efficiency": fraction,
        "memory_fraction": fraction,
        "l_in": _int(1),
        "l_out": _int(1),
        **{k: NONNEG for k in cf.SERVER_NUMBERS},
        **{k: POSITIVE for k in cf.SERVER_RPS},
        # network
        "rtt_s": matrix,
        "prefill_rtt_s": matrix,
        "prefill_rtt_per_token_s": matrix,
        "network_rtt_s": matrix,
        "server_rtt_s": matrix,
        "intra_rtt_s": NONNEG,
        "inter_rtt_s": NONNEG,
        "intra_bandwidth_bps": POSITIVE,
        "inter_bandwidth_bps": POSITIVE,
        "overheads": {
            "anyOf": [{"$ref": "#/$defs/overheads_preset"}, {"$ref": "#/$defs/overheads"}]
        },
        **{k: NONNEG for k in cf.OVERHEAD_FIELDS},
        # workload
        "jobs": {"type": "array", "items": {"$ref": "#/$defs/job"}},
        "arrival_rate_per_s": POSITIVE,
        "num_requests": _int(1, MAX_REQUESTS),
        "seed": _int(0),
        "client": {"anyOf": [{"type": "string", "minLength": 1}, _int(0)]},
    }

    def obj(fields: tuple[tuple[str, ...], tuple[str, ...]], **override: dict) -> dict:
        t = {**types, **override}
        return _object(t, *fields)

    def network(kind: str) -> dict:
        return obj(cf.NETWORK_FIELDS[kind], kind={"const": kind})

    return {
        **_header(
            cf.FORMAT,
            cf.VERSION,
            "Clusters: a model of L identical blocks, servers (presets, catalogue "
            "devices or numbers), clients, the round trips between them, and a workload. "
            "Sizes are checked before expansion (servers, clients <= 100,000; jobs <= "
            "1,000,000; clients x servers <= 10,000,000).",
        ),
        **_object(types, *cf.DOCUMENT_FIELDS),
        "$defs": {
            "model_preset": obj(
                cf.MODEL_FIELDS["preset"], preset={"enum": list(cluster.MODEL_PRESETS)}
            ),
            "model_architecture": obj(cf.MODEL_FIELDS["architecture"]),
            "model_explicit": obj(cf.MODEL_FIELDS["explicit"]),
            "server_preset": obj(
                cf.SERVER_FIELDS["preset"], preset={"enum": list(cluster.SERVER_PRESETS)}
            ),
            "server_device": obj(cf.SERVER_FIELDS["device"]),
            "server_explicit": obj(cf.SERVER_FIELDS["explicit"]),
            "client": obj(cf.CLIENT_FIELDS["none"], count=_int(1, MAX_CLIENTS)),
            "client_device": obj(cf.CLIENT_FIELDS["device"], count=_int(1, MAX_CLIENTS)),
            "client_explicit": obj(cf.CLIENT_FIELDS["explicit"], count=_int(1, MAX_CLIENTS)),
            "network_explicit": network("explicit"),
            "network_matrix": network("matrix"),
            "network_clustered": network("clustered"),
            "overheads_preset": obj(
                (("preset",), ()), preset={"enum": list(cluster.OVERHEAD_PRESETS)}
            ),
            "overheads": obj(((), cf.OVERHEAD_FIELDS)),
            "workload": obj(((), cf.WORKLOAD_FIELDS)),
            "job": obj(cf.JOB_FIELDS, count=_int(1, MAX_JOBS), id=STRING),
        },
    }


# -- splitopt-placement ---------------------------------------------------------------


def placement_schema() -> dict:
    pf = placement_file
    nnum = _nullable(NUMBER)
    types: dict[str, dict] = {
        "format": {"const": pf.FORMAT},
        "version": {"const": pf.VERSION},
        "cluster": STRING,
        "splitopt_version": STRING,
        "meta": OBJECT,
        "results": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/result"}},
        "algorithm": STRING,
        "status": {"enum": list(PLACEMENT_STATUSES)},
        "options": OBJECT,
        "runtime_s": NONNEG,
        "message": {"type": ["string", "null"]},
        "servers": {"type": "array", "items": {"$ref": "#/$defs/server"}},
        "routes": {"type": "array", "items": {"type": "array", "items": STRING}},
        "metrics": {"$ref": "#/$defs/metrics"},
        "id": STRING,
        "first": _int(0, pf.MAX_INT),
        "count": _int(0, pf.MAX_INT),
        "bound": nnum,
        "bound_kind": {"enum": ["lower-objective", "upper-per-token", None]},
        "feasible": {"type": "boolean"},
        "reason": {"type": ["string", "null"]},
        "objective_s": nnum,
        "mean_per_token_s": nnum,
        "memory_used_bytes": {"type": "array", "items": NUMBER},
        "jobs": {"type": "array", "items": {"$ref": "#/$defs/job"}},
        "prefill_s": nnum,
        "decode_s": nnum,
        "total_s": nnum,
        "per_token_s": nnum,
        "blocks": {"type": "array", "items": _int(0)},
    }
    result = _object(
        types,
        ("algorithm",),
        ("status", "options", "runtime_s", "message", "servers", "routes", "metrics"),
    )
    result["if"] = {"properties": {"status": {"enum": list(pf.PLACED)}}}
    result["then"] = {"required": ["servers"]}
    return {
        **_header(
            pf.FORMAT,
            pf.VERSION,
            "Placements (what `splitopt place --json` writes): per algorithm run, the "
            "block range of every server, one route per job, and the evaluator's figures "
            "at writing time (a reader re-scores them).",
        ),
        **_object(
            types, ("format", "version", "results"), ("cluster", "splitopt_version", "meta")
        ),
        "$defs": {
            "result": result,
            "server": _object(types, ("id", "first", "count")),
            "metrics": _object(
                types,
                ("bound", "bound_kind"),
                (
                    "feasible",
                    "reason",
                    "objective_s",
                    "mean_per_token_s",
                    "memory_used_bytes",
                    "jobs",
                ),
            ),
            "job": _object(types, ("prefill_s", "decode_s", "total_s", "per_token_s", "blocks")),
        },
    }


# -- splitopt-simulation --------------------------------------------------------------


def simulation_schema() -> dict:
    sf = simulation_file
    figure = _nullable(NUMBER)
    figures = {k: {**figure, "description": v} for k, v in sf.METRICS.items()}
    ci = {
        f"{k}_ci": {**figure, "description": f"95 % CI half-width over seeds of: {v}"}
        for k, v in sf.METRICS.items()
    }
    reasons = {"type": "object", "additionalProperties": STRING}
    types: dict[str, dict] = {
        "format": {"const": sf.FORMAT},
        "version": {"const": sf.VERSION},
        "cluster": STRING,
        "splitopt_version": STRING,
        "workload": {"$ref": "#/$defs/workload"},
        "seeds": {"type": "array", "items": _int(0)},
        "authors_delays": {"type": "boolean"},
        "semantics": STRING,
        "policies": {"type": "object", "additionalProperties": {"$ref": "#/$defs/row"}},
        "runs": {"type": "array", "items": {"$ref": "#/$defs/run"}},
        "arrival_rate_per_s": POSITIVE,
        "num_requests": _int(1),
        "classes": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/class"}},
        "client": STRING,
        "l_in": _int(1),
        "l_out": _int(1),
        "policy": STRING,
        "seed": _int(0),
        "null_reasons": reasons,
        "notes": reasons,
        "clients": {
            "type": "object",
            "description": "how clients that run blocks were simulated (only when the "
            "cluster's clients name devices with memory): instances (per-request: each "
            "request its own client device), route_choice (waits: chosen at each arrival "
            "with the servers' waits; static: once per request class), objective (time or "
            "swarm-work), sla_s or sla_factor, clients_with_devices (count)",
        },
        **figures,
        **ci,
        **{k: NUMBER for k in sf.RUN_INFO},
    }
    row = _object(
        {**types, "seeds": _int(1)}, ("seeds",), (*figures, *ci, "null_reasons")
    )
    return {
        **_header(
            sf.FORMAT,
            sf.VERSION,
            "Simulations (what `splitopt simulate --json` writes): per policy, each "
            "figure's mean and 95 % CI over seeds; per run, its figures. Strict JSON: a "
            "figure that is not a finite number is null, and the object's null_reasons "
            "says why. Seconds unless said otherwise.",
        ),
        **_object(types, *sf.DOCUMENT_FIELDS),
        "$defs": {
            "workload": _object(types, ("arrival_rate_per_s", "num_requests", "classes")),
            "class": _object(types, ("client", "l_in", "l_out")),
            "row": row,
            "run": _object(
                types, ("policy", "seed"), (*figures, *sf.RUN_INFO, "null_reasons")
            ),
        },
    }


# -- files ----------------------------------------------------------------------------

_BUILDERS = {
    "problem": problem_schema,
    "solution": solution_schema,
    "scenario": scenario_schema,
    "profile": profile_schema,
    "cluster": cluster_schema,
    "placement": placement_schema,
    "simulation": simulation_schema,
}


def schema(name: str) -> dict:
    """The schema of format ``name`` (one of :data:`NAMES`), every property described
    (:mod:`splitopt.formats.descriptions`)."""
    return describe(name, _BUILDERS[name]())


def schema_text(name: str) -> str:
    """The text of the shipped schema file of format ``name``."""
    return dumps(schema(name), indent=1) + "\n"


def file_name(name: str) -> str:
    return f"splitopt-{name}.schema.json"


def shipped(name: str) -> str:
    """The shipped schema file's text (``splitopt/data/schemas/``)."""
    path = resources.files("splitopt") / "data" / "schemas" / file_name(name)
    return path.read_text(encoding="utf-8")


def write_schemas(directory: str | Path) -> list[Path]:
    """Write the schema files into ``directory``."""
    out = []
    for name in NAMES:
        path = Path(directory) / file_name(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(schema_text(name), encoding="utf-8")
        out.append(path)
    return out


if __name__ == "__main__":  # pragma: no cover - the maintainers' regeneration command
    target = sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[1] / "data" / "schemas"
    for p in write_schemas(target):
        print(p)
