"""``splitopt-cluster`` v1 files (SPEC-PLACEMENT P5): read, validate, write.

A document::

    {"format": "splitopt-cluster", "version": 1, "name": "...",
     "model":   {"preset": "bloom-176b-nf4"}
              | {"architecture": "llama-2-70b", "dtype": "nf4", "cache_dtype": "fp16"}
              | {"num_blocks": L, "block_bytes": s_m, "cache_bytes_per_token": c,
                 "name": "...", "hidden_size": d},
     "servers": [{"id": "a100", "preset": "a100-paper", "site": 1, "count": 2}
               | {"id": "h", "device": "h100-sxm", "efficiency": 0.5, "memory_fraction": 0.9}
               | {"id": "x", "memory_bytes": M, "decode_s": tau, "prefill_s0": t0,
                  "prefill_s1": t1, "max_blocks": 4, "forward_rps": ..., ...}],
     "clients": ["c0", {"id": "c1", "site": 2, "count": 3}],
     "network": {"kind": "explicit", "rtt_s": [[...]], "prefill_rtt_s": [[...]],
                 "prefill_rtt_per_token_s": [[...]], "network_rtt_s": [[...]]}
              | {"kind": "matrix", "network_rtt_s": [[...]], "overheads": ...}
              | {"kind": "clustered", "intra_rtt_s": 0.005, "inter_rtt_s": 0.1,
                 "overheads": {"preset": "paper"}}
              | {"kind": "topology", ...}   (reserved: Topology Zoo graphs, next issue),
     "workload": {"jobs": [{"client": "c0", "l_in": 20, "l_out": 64, "count": 2}],
                  "arrival_rate_per_s": 0.1, "num_requests": 100, "seed": 1},
     "meta": {...}}

This module converts JSON <-> :class:`~splitopt.scenario.cluster_spec.ClusterSpec`
(checking JSON types and naming file and field); the rules live in the spec types'
constructors and compiling (presets, devices, cost model, round trips) in
:mod:`splitopt.scenario.cluster_compile`. ``count`` expands an entry into
``id-0 .. id-(count-1)`` (bounded before expansion). ``site`` (server and
client entries) places them in the sites of a ``clustered`` network. Overheads:
``{"token_s", "prefill_s", "prefill_per_token_s"}`` seconds (default 0) or
``{"preset": "paper"}`` (100 ms; 67 ms + 0.7049 ms x l_in). Round trips are
exact: :func:`write_cluster` writes numbers (``explicit`` model, servers and
network), and reading that file gives an equal cluster; :func:`write_cluster_spec`
writes a spec back as it was read (:func:`read_cluster_spec`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from splitopt.errors import SpecError
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
from splitopt.joint.model import JointCluster
from splitopt.placement.model import Cluster
from splitopt.scenario.cluster_compile import (
    SERVER_NUMBERS,
    SERVER_RPS,
    cluster_spec,
    compile_cluster,
    compile_joint,
)
from splitopt.scenario.cluster_spec import (
    CLIENT_DEVICE_NUMBERS,
    NETWORK_KINDS,
    ClusterClientSpec,
    ClusterModelSpec,
    ClusterServerSpec,
    ClusterSpec,
    JobSpec,
    NetworkSpec,
    OverheadsSpec,
    WorkloadSpec,
)

FORMAT = "splitopt-cluster"
VERSION = 1

#: Fields per object kind: (required, optional); the schema is built from these.
MODEL_FIELDS = {
    "preset": (("preset",), ()),
    "architecture": (("architecture",), ("dtype", "cache_dtype")),
    "explicit": (("num_blocks", "block_bytes", "cache_bytes_per_token"), ("name", "hidden_size")),
}
SERVER_COMMON = ("id", "site", "count", "max_blocks")
SERVER_FIELDS = {
    "preset": (("id", "preset"), ("site", "count", "max_blocks")),
    "device": (
        ("id", "device"),
        ("site", "count", "max_blocks", "efficiency", "memory_fraction", "l_in", "l_out"),
    ),
    "explicit": (
        ("id", "memory_bytes", "decode_s", "prefill_s0"),
        ("site", "count", "max_blocks", "prefill_s1", *SERVER_RPS),
    ),
}
#: The order of a server entry's fields as the writer writes them.
SERVER_ORDER = (
    "id",
    "preset",
    "device",
    *SERVER_NUMBERS,
    "site",
    "count",
    "max_blocks",
    "efficiency",
    "memory_fraction",
    "l_in",
    "l_out",
    *SERVER_RPS,
)
#: Client entries per kind (``none``: runs no block; ``device``: a catalogue device;
#: ``explicit``: the device's figures), (required, optional).
CLIENT_FIELDS = {
    "none": (("id",), ("site", "count")),
    "device": (
        ("id", "device"),
        ("site", "count", "memory_fraction", "efficiency", "l_in", "l_out"),
    ),
    "explicit": (
        ("id", "memory_bytes", "decode_s", "prefill_s0"),
        ("site", "count", "prefill_s1"),
    ),
}
#: The order of a client entry's fields as the writer writes them.
CLIENT_ORDER = (
    "id",
    "device",
    *CLIENT_DEVICE_NUMBERS,
    "site",
    "count",
    "memory_fraction",
    "efficiency",
    "l_in",
    "l_out",
)
NETWORK_FIELDS = {
    "explicit": (
        ("kind", "rtt_s", "prefill_rtt_s"),
        ("prefill_rtt_per_token_s", "network_rtt_s", "server_rtt_s"),
    ),
    "matrix": (("kind", "network_rtt_s"), ("overheads", "server_rtt_s")),
    "clustered": (
        ("kind", "intra_rtt_s", "inter_rtt_s"),
        ("overheads", "intra_bandwidth_bps", "inter_bandwidth_bps"),
    ),
}
OVERHEAD_FIELDS = ("token_s", "prefill_s", "prefill_per_token_s")
JOB_FIELDS = (("client", "l_in", "l_out"), ("count", "id"))
WORKLOAD_FIELDS = ("jobs", "arrival_rate_per_s", "num_requests", "seed")
DOCUMENT_FIELDS = (
    ("format", "version", "model", "servers", "clients", "network"),
    ("name", "workload", "meta"),
)
#: Fields holding whole numbers (the rest of the numeric fields are real numbers).
INTEGER_FIELDS = frozenset(
    {"num_blocks", "hidden_size", "count", "max_blocks", "l_in", "l_out", "num_requests", "seed"}
)
#: Fields holding strings.
STRING_FIELDS = frozenset(
    {"preset", "architecture", "dtype", "cache_dtype", "name", "id", "device", "kind"}
)

P = list[str | int]


def _value(file: Any, obj: dict, key: str, path: P) -> Any:
    """A field's JSON value checked for its JSON type (``None`` where absent)."""
    if key not in obj:
        return None
    v = obj[key]
    if key in STRING_FIELDS:
        return get_string(file, v, [*path, key])
    if key == "site":
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise InputError(file, [*path, "site"], "must be a string or a whole number")
        return str(v)
    if key == "max_blocks" and v is None:
        return None
    x = get_number(file, v, [*path, key], nonneg=False, integer=key in INTEGER_FIELDS)
    return int(x) if key in INTEGER_FIELDS else x


def _build(file: Any, path: P, cls: Any, obj: dict, keys: tuple[str, ...], **extra: Any) -> Any:
    kw = {k: _value(file, obj, k, path) for k in keys if k in obj}
    try:
        return cls(**kw, **extra)
    except SpecError as exc:
        raise InputError(file, [*path, *exc.path], exc.reason) from None


def _kind(obj: dict, kinds: tuple[str, ...], default: str) -> str:
    return next((k for k in kinds if k in obj), default)


def _model(file: Any, obj: Any) -> ClusterModelSpec:
    path: P = ["model"]
    if not isinstance(obj, dict):
        raise InputError(file, path, "must be a JSON object")
    kind = _kind(obj, ("preset", "architecture"), "explicit")
    check_fields(file, obj, path, *MODEL_FIELDS[kind])
    return _build(file, path, ClusterModelSpec, obj, sum(MODEL_FIELDS[kind], ()))


def _servers(file: Any, arr: Any) -> tuple[ClusterServerSpec, ...]:
    if not isinstance(arr, list):
        raise InputError(file, ["servers"], "must be an array of server objects")
    out = []
    for i, obj in enumerate(arr):
        path: P = ["servers", i]
        if not isinstance(obj, dict):
            raise InputError(file, path, f"must be a JSON object, got {type(obj).__name__}")
        kind = _kind(obj, ("preset", "device"), "explicit")
        check_fields(file, obj, path, *SERVER_FIELDS[kind])
        if obj.get("id") == "":
            raise InputError(file, [*path, "id"], "must be a non-empty string")
        out.append(_build(file, path, ClusterServerSpec, obj, sum(SERVER_FIELDS[kind], ())))
    return tuple(out)


def _clients(file: Any, arr: Any) -> tuple[ClusterClientSpec, ...]:
    if not isinstance(arr, list):
        raise InputError(file, ["clients"], "must be an array of client ids or objects")
    out = []
    for i, obj in enumerate(arr):
        path: P = ["clients", i]
        if isinstance(obj, str):
            if not obj:
                raise InputError(file, path, "client id must be a non-empty string")
            out.append(ClusterClientSpec(obj, short=True))
            continue
        kind = _client_kind(obj) if isinstance(obj, dict) else "none"
        check_fields(file, obj, path, *CLIENT_FIELDS[kind])
        if obj.get("id") == "":
            raise InputError(file, path, "client id must be a non-empty string")
        out.append(_build(file, path, ClusterClientSpec, obj, sum(CLIENT_FIELDS[kind], ())))
    return tuple(out)


def _client_kind(obj: dict) -> str:
    if "device" in obj:
        return "device"
    return "explicit" if any(k in obj for k in CLIENT_DEVICE_NUMBERS) else "none"


def _matrix(file: Any, value: Any, path: P) -> tuple[tuple[float, ...], ...]:
    if not isinstance(value, list):
        raise InputError(file, path, "must be an array of rows (one per client)")
    rows = []
    for c, row in enumerate(value):
        if not isinstance(row, list):
            raise InputError(file, [*path, c], "must be an array of numbers (one per server)")
        rows.append(
            tuple(get_number(file, v, [*path, c, j], nonneg=False) for j, v in enumerate(row))
        )
    return tuple(rows)


def _overheads(file: Any, obj: Any, path: P) -> OverheadsSpec | None:
    if obj is None:
        return None
    if isinstance(obj, dict) and "preset" in obj:
        check_fields(file, obj, path, ("preset",))
        get_string(file, obj["preset"], [*path, "preset"])
        return _build(file, path, OverheadsSpec, obj, ("preset",))
    check_fields(file, obj, path, (), OVERHEAD_FIELDS)
    return _build(file, path, OverheadsSpec, obj, OVERHEAD_FIELDS)


def _network(file: Any, obj: Any) -> NetworkSpec:
    path: P = ["network"]
    if not isinstance(obj, dict):
        raise InputError(file, path, "must be a JSON object")
    if "kind" not in obj:
        raise InputError(
            file, [*path, "kind"], f"missing field (one of {', '.join(NETWORK_KINDS)})"
        )
    kind = get_string(file, obj["kind"], [*path, "kind"], NETWORK_KINDS)
    if kind == "topology":
        return _build(file, path, NetworkSpec, obj, ("kind",))
    check_fields(file, obj, path, *NETWORK_FIELDS[kind])
    kw: dict[str, Any] = {}
    for k in ("rtt_s", "prefill_rtt_s", "prefill_rtt_per_token_s", "network_rtt_s", "server_rtt_s"):
        if k in obj:
            kw[k] = _matrix(file, obj[k], [*path, k])
    for k in ("intra_rtt_s", "inter_rtt_s", "intra_bandwidth_bps", "inter_bandwidth_bps"):
        if k in obj:
            kw[k] = get_number(file, obj[k], [*path, k], nonneg=False)
    if "overheads" in obj:
        kw["overheads"] = _overheads(file, obj["overheads"], [*path, "overheads"])
    try:
        return NetworkSpec(kind, **kw)
    except SpecError as exc:
        raise InputError(file, [*path, *exc.path], exc.reason) from None


def _workload(file: Any, obj: Any) -> WorkloadSpec:
    path: P = ["workload"]
    check_fields(file, obj, path, (), WORKLOAD_FIELDS)
    arr = obj.get("jobs", [])
    if not isinstance(arr, list):
        raise InputError(file, [*path, "jobs"], "must be an array of job objects")
    jobs = []
    for i, j in enumerate(arr):
        jp: P = [*path, "jobs", i]
        check_fields(file, j, jp, *JOB_FIELDS)
        cl = j["client"]
        client = (
            cl if isinstance(cl, str) else int(get_number(file, cl, [*jp, "client"], integer=True))
        )
        jobs.append(_build(file, jp, JobSpec, j, ("l_in", "l_out", "count", "id"), client=client))
    return _build(
        file, path, WorkloadSpec, obj, ("arrival_rate_per_s", "num_requests", "seed"), jobs=jobs
    )


# -- the document --------------------------------------------------------------------------------
def cluster_spec_from_dict(doc: Any, file: str | os.PathLike | None = None) -> ClusterSpec:
    """Check the JSON types of a parsed ``splitopt-cluster`` document and build its
    :class:`ClusterSpec` (whose constructors check the rules and the sizes)."""
    check_header(file, doc, FORMAT, VERSION)
    check_fields(file, doc, [], *DOCUMENT_FIELDS)
    name = doc.get("name")
    if name is None:
        name = Path(file).stem if file else "cluster"
    name = get_string(file, name, ["name"])
    model = _model(file, doc["model"])
    servers = _servers(file, doc["servers"])
    clients = _clients(file, doc["clients"])
    network = _network(file, doc["network"])
    workload = _workload(file, doc.get("workload", {}))
    meta = doc.get("meta", {})
    if not isinstance(meta, dict):
        raise InputError(file, ["meta"], "must be a JSON object")
    try:
        return ClusterSpec(name, model, servers, clients, network, workload, meta)
    except SpecError as exc:
        raise InputError(file, exc.path, exc.reason) from None


def cluster_from_dict(doc: Any, file: str | os.PathLike | None = None) -> Cluster:
    """Validate a parsed ``splitopt-cluster`` document and compile its :class:`Cluster`."""
    spec = cluster_spec_from_dict(doc, file)
    try:
        return compile_cluster(spec)
    except SpecError as exc:
        raise InputError(file, exc.path, exc.reason) from None


def joint_cluster_from_dict(doc: Any, file: str | os.PathLike | None = None) -> JointCluster:
    """Validate a parsed ``splitopt-cluster`` document and compile its
    :class:`~splitopt.joint.model.JointCluster` (the cluster and its clients' devices)."""
    spec = cluster_spec_from_dict(doc, file)
    try:
        return compile_joint(spec)
    except SpecError as exc:
        raise InputError(file, exc.path, exc.reason) from None


def read_joint_cluster(file: str | os.PathLike) -> JointCluster:
    """Read a cluster file with its client devices (a client naming none runs nothing)."""
    return joint_cluster_from_dict(load_json(file), file)


def read_cluster_spec(file: str | os.PathLike) -> ClusterSpec:
    """Read a cluster file into its spec (nothing resolved or expanded)."""
    return cluster_spec_from_dict(load_json(file), file)


def read_cluster(file: str | os.PathLike) -> Cluster:
    """Read and validate a cluster file; :class:`InputError` names file, JSON path and reason."""
    return cluster_from_dict(load_json(file), file)


def _num(x: float) -> float | int:
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _put(out: dict, obj: Any, keys: tuple[str, ...]) -> dict:
    for k in keys:
        v = getattr(obj, k)
        if v is not None:
            out[k] = _num(v) if isinstance(v, float) else v
    return out


def _rows(m: tuple[tuple[float, ...], ...]) -> list[list[float | int]]:
    return [[_num(v) for v in row] for row in m]


def cluster_spec_to_dict(spec: ClusterSpec) -> dict:
    """The ``splitopt-cluster`` document of ``spec`` (what it holds, as it was read)."""
    kind = spec.model.kind
    model = _put({}, spec.model, sum(MODEL_FIELDS[kind], ()))
    servers = []
    for s in spec.servers:
        servers.append(_put({}, s, SERVER_ORDER))
    clients: list[Any] = [c.id if c.short else _put({}, c, CLIENT_ORDER) for c in spec.clients]
    n = spec.network
    network: dict[str, Any] = {"kind": n.kind}
    if n.kind != "topology":
        for k in sum(NETWORK_FIELDS[n.kind], ())[1:]:
            v = getattr(n, k)
            if v is None:
                continue
            if k == "overheads":
                network[k] = _put({}, v, ("preset", *OVERHEAD_FIELDS))
            elif isinstance(v, tuple):
                network[k] = _rows(v)
            else:
                network[k] = _num(v)
    wl = spec.workload
    workload: dict[str, Any] = {"jobs": [_put({}, j, sum(JOB_FIELDS, ())) for j in wl.jobs]}
    _put(workload, wl, WORKLOAD_FIELDS[1:])
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": spec.name,
        "model": model,
        "servers": servers,
        "clients": clients,
        "network": network,
        "workload": workload,
    }
    if spec.meta:
        doc["meta"] = spec.meta.to_dict()  # type: ignore[attr-defined]
    return doc


def cluster_to_dict(cluster: Cluster) -> dict:
    """The ``splitopt-cluster`` document of ``cluster`` (explicit numbers; reading it
    back gives an equal cluster)."""
    return cluster_spec_to_dict(cluster_spec(cluster))


def joint_cluster_to_dict(jc: JointCluster) -> dict:
    """The document of a joint cluster: :func:`cluster_to_dict`'s, with each client's
    device as explicit figures (a client running nothing stays a bare id)."""
    return cluster_spec_to_dict(cluster_spec(jc.cluster, jc.devices))


def write_cluster(cluster: Cluster | JointCluster, file: str | os.PathLike) -> None:
    """Write a cluster file atomically (a :class:`JointCluster` with its devices)."""
    doc = (
        joint_cluster_to_dict(cluster)
        if isinstance(cluster, JointCluster)
        else (cluster_to_dict(cluster))
    )
    write_text_atomic(file, dumps(doc))


def write_cluster_spec(spec: ClusterSpec, file: str | os.PathLike) -> None:
    """Write a cluster spec atomically (presets, counts and sites kept as they are)."""
    write_text_atomic(file, dumps(cluster_spec_to_dict(spec)))


__all__ = [
    "FORMAT",
    "VERSION",
    "cluster_from_dict",
    "cluster_spec_from_dict",
    "cluster_spec_to_dict",
    "cluster_to_dict",
    "joint_cluster_from_dict",
    "joint_cluster_to_dict",
    "read_cluster",
    "read_cluster_spec",
    "read_joint_cluster",
    "write_cluster",
    "write_cluster_spec",
]
