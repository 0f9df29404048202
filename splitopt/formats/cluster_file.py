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

``count`` expands an entry into ``id-0 .. id-(count-1)``. ``site`` (server and
client entries) places them in the sites of a ``clustered`` network. Overheads:
``{"token_s", "prefill_s", "prefill_per_token_s"}`` seconds (default 0) or
``{"preset": "paper"}`` (100 ms; 67 ms + 0.7049 ms x l_in). Round trips are
exact: :func:`write_cluster` writes numbers (``explicit`` model, servers and
network), and reading that file gives the same cluster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from splitopt.errors import DataError
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
from splitopt.placement.model import BlockModel, Cluster, Job, Server
from splitopt.scenario.cluster import (
    MODEL_PRESETS,
    PAPER_OVERHEADS,
    SERVER_PRESETS,
    Overheads,
    block_model,
    server_from_device,
)

FORMAT = "splitopt-cluster"
VERSION = 1
NETWORK_KINDS = ("explicit", "matrix", "clustered", "topology")
SERVER_NUMBERS = ("memory_bytes", "decode_s", "prefill_s0", "prefill_s1")
SERVER_RPS = ("forward_rps", "network_rps", "inference_rps")

P = list[str | int]


def _int(file: Any, value: Any, path: P, minimum: int = 0) -> int:
    x = get_number(file, value, path, integer=True)
    if x < minimum:
        raise InputError(file, path, f"must be >= {minimum}, got {value!r}")
    return int(x)


def _data_error(file: Any, path: P, exc: DataError) -> InputError:
    sub: P = [exc.field] if exc.field and exc.field not in ("id", "preset") else []
    if exc.field in ("id", "preset"):
        sub = [exc.field]
    if exc.index is not None:
        sub.append(exc.index)
    return InputError(file, [*path, *sub], exc.reason)


# -- model -------------------------------------------------------------------------------------
def _model(file: Any, obj: Any) -> tuple[BlockModel, str | None, str]:
    path: P = ["model"]
    if isinstance(obj, dict) and "preset" in obj:
        check_fields(file, obj, path, ("preset",))
        name = get_string(file, obj["preset"], [*path, "preset"], tuple(MODEL_PRESETS))
        return MODEL_PRESETS[name], None, "fp16"
    if isinstance(obj, dict) and "architecture" in obj:
        check_fields(file, obj, path, ("architecture",), ("dtype", "cache_dtype"))
        arch = get_string(file, obj["architecture"], [*path, "architecture"])
        dtype = get_string(file, obj.get("dtype", "fp16"), [*path, "dtype"])
        cache = get_string(file, obj.get("cache_dtype", "fp16"), [*path, "cache_dtype"])
        try:
            return block_model(arch, dtype, cache), arch, dtype
        except DataError as exc:
            raise InputError(file, [*path, exc.field], exc.reason) from None
    check_fields(
        file,
        obj,
        path,
        ("num_blocks", "block_bytes", "cache_bytes_per_token"),
        ("name", "hidden_size"),
    )
    L = _int(file, obj["num_blocks"], [*path, "num_blocks"], 1)
    s_m = get_number(file, obj["block_bytes"], [*path, "block_bytes"])
    c = get_number(file, obj["cache_bytes_per_token"], [*path, "cache_bytes_per_token"])
    name = get_string(file, obj.get("name", ""), [*path, "name"])
    d = _int(file, obj.get("hidden_size", 0), [*path, "hidden_size"])
    return BlockModel(L, s_m, c, name, d), None, "fp16"


# -- servers and clients -----------------------------------------------------------------------
def _site(file: Any, obj: dict, path: P) -> str | None:
    if "site" not in obj:
        return None
    v = obj["site"]
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise InputError(file, [*path, "site"], "must be a string or a whole number")
    return str(v)


def _expand(file: Any, obj: dict, path: P, base: str) -> list[str]:
    if "count" not in obj:
        return [base]
    k = _int(file, obj["count"], [*path, "count"], 1)
    return [f"{base}-{i}" for i in range(k)]


def _servers(
    file: Any, arr: Any, arch: str | None, dtype: str
) -> tuple[list[Server], list[str | None], list[P]]:
    if not isinstance(arr, list):
        raise InputError(file, ["servers"], "must be an array of server objects")
    if not arr:
        raise InputError(file, ["servers"], "must hold at least one server")
    out: list[Server] = []
    sites: list[str | None] = []
    paths: list[P] = []
    for i, obj in enumerate(arr):
        path: P = ["servers", i]
        if not isinstance(obj, dict):
            raise InputError(file, path, f"must be a JSON object, got {type(obj).__name__}")
        common = ("id", "site", "count", "max_blocks")
        if "preset" in obj:
            check_fields(file, obj, path, ("id", "preset"), common)
        elif "device" in obj:
            check_fields(
                file,
                obj,
                path,
                ("id", "device"),
                (*common, "efficiency", "memory_fraction", "l_in", "l_out"),
            )
        else:
            check_fields(
                file,
                obj,
                path,
                ("id", "memory_bytes", "decode_s", "prefill_s0"),
                (*common, "prefill_s1", *SERVER_RPS),
            )
        sid = get_string(file, obj["id"], [*path, "id"])
        if not sid:
            raise InputError(file, [*path, "id"], "must be a non-empty string")
        cap = obj.get("max_blocks")
        cap = None if cap is None else _int(file, cap, [*path, "max_blocks"])
        site = _site(file, obj, path)
        for name in _expand(file, obj, path, sid):
            if "preset" in obj:
                pre = get_string(file, obj["preset"], [*path, "preset"], tuple(SERVER_PRESETS))
                kw = dict(SERVER_PRESETS[pre])
                if "max_blocks" in obj:
                    kw["max_blocks"] = cap
                srv = Server(name, **kw)
            elif "device" in obj:
                if arch is None:
                    raise InputError(
                        file,
                        [*path, "device"],
                        "needs a model given by its architecture (model.architecture)",
                    )
                dev = get_string(file, obj["device"], [*path, "device"])
                kw = {}
                if "efficiency" in obj:
                    eff = get_number(file, obj["efficiency"], [*path, "efficiency"], positive=True)
                    if eff > 1:
                        raise InputError(file, [*path, "efficiency"], "must be in (0, 1]")
                    kw["efficiency"] = eff
                if "memory_fraction" in obj:
                    kw["memory_fraction"] = get_number(
                        file, obj["memory_fraction"], [*path, "memory_fraction"], positive=True
                    )
                for k in ("l_in", "l_out"):
                    if k in obj:
                        kw[k] = _int(file, obj[k], [*path, k], 1)
                try:
                    srv = server_from_device(name, dev, arch, dtype, max_blocks=cap, **kw)
                except DataError as exc:
                    raise InputError(file, [*path, exc.field], exc.reason) from None
            else:
                nums = {k: get_number(file, obj.get(k, 0.0), [*path, k]) for k in SERVER_NUMBERS}
                rps = {
                    k: get_number(file, obj[k], [*path, k], positive=True)
                    for k in SERVER_RPS
                    if obj.get(k) is not None
                }
                srv = Server(name, max_blocks=cap, **nums, **rps)
            out.append(srv)
            sites.append(site)
            paths.append(path)
    seen: dict[str, int] = {}
    for j, s in enumerate(out):
        if s.id in seen:
            raise InputError(file, [*paths[j], "id"], f"duplicate server id {s.id!r}")
        seen[s.id] = j
    return out, sites, paths


def _clients(file: Any, arr: Any) -> tuple[list[str], list[str | None], list[P]]:
    if not isinstance(arr, list):
        raise InputError(file, ["clients"], "must be an array of client ids or objects")
    if not arr:
        raise InputError(file, ["clients"], "must hold at least one client")
    ids: list[str] = []
    sites: list[str | None] = []
    paths: list[P] = []
    for i, obj in enumerate(arr):
        path: P = ["clients", i]
        if isinstance(obj, str):
            names, site = [obj], None
        else:
            check_fields(file, obj, path, ("id",), ("site", "count"))
            cid = get_string(file, obj["id"], [*path, "id"])
            names, site = _expand(file, obj, path, cid), _site(file, obj, path)
        for n in names:
            if not n:
                raise InputError(file, path, "client id must be a non-empty string")
            if n in ids:
                raise InputError(file, path, f"duplicate client id {n!r}")
            ids.append(n)
            sites.append(site)
            paths.append(path)
    return ids, sites, paths


# -- network -------------------------------------------------------------------------------------
def _matrix(
    file: Any, value: Any, path: P, shape: tuple[int, int], rows: str = "client"
) -> np.ndarray:
    C, S = shape
    if not isinstance(value, list):
        raise InputError(file, path, f"must be an array of {C} rows ({rows}s)")
    if len(value) != C:
        raise InputError(file, path, f"has {len(value)} rows, expected {C} (one per {rows})")
    out = np.empty(shape)
    for c, row in enumerate(value):
        if not isinstance(row, list):
            raise InputError(file, [*path, c], f"must be an array of {S} numbers (servers)")
        if len(row) != S:
            raise InputError(file, [*path, c], f"has length {len(row)}, expected {S} (servers)")
        for j, v in enumerate(row):
            out[c, j] = get_number(file, v, [*path, c, j])
    return out


def _overheads(file: Any, obj: Any, path: P) -> Overheads:
    if obj is None:
        return Overheads()
    if isinstance(obj, dict) and "preset" in obj:
        check_fields(file, obj, path, ("preset",))
        get_string(file, obj["preset"], [*path, "preset"], ("paper",))
        return PAPER_OVERHEADS
    check_fields(file, obj, path, (), ("token_s", "prefill_s", "prefill_per_token_s"))
    return Overheads(
        **{
            k: get_number(file, obj.get(k, 0.0), [*path, k])
            for k in ("token_s", "prefill_s", "prefill_per_token_s")
        }
    )


def _network(
    file: Any,
    obj: Any,
    shape: tuple[int, int],
    ssites: list,
    csites: list,
    entry_paths: tuple[list[P], list[P]],
) -> dict[str, np.ndarray]:
    path: P = ["network"]
    if not isinstance(obj, dict):
        raise InputError(file, path, "must be a JSON object")
    if "kind" not in obj:
        raise InputError(
            file, [*path, "kind"], f"missing field (one of {', '.join(NETWORK_KINDS)})"
        )
    kind = get_string(file, obj["kind"], [*path, "kind"], NETWORK_KINDS)
    if kind == "topology":
        raise InputError(
            file,
            [*path, "kind"],
            "topology networks (Topology Zoo graphs) are not supported in this version yet",
        )
    if kind == "explicit":
        check_fields(
            file,
            obj,
            path,
            ("kind", "rtt_s", "prefill_rtt_s"),
            ("prefill_rtt_per_token_s", "network_rtt_s", "server_rtt_s"),
        )
        out = {k: _matrix(file, obj[k], [*path, k], shape) for k in ("rtt_s", "prefill_rtt_s")}
        for k in ("prefill_rtt_per_token_s", "network_rtt_s"):
            if k in obj:
                out[k] = _matrix(file, obj[k], [*path, k], shape)
        if "server_rtt_s" in obj:
            sq = (shape[1], shape[1])
            out["server_rtt_s"] = _matrix(
                file, obj["server_rtt_s"], [*path, "server_rtt_s"], sq, "server"
            )
        return out
    server_rtt = None
    if kind == "matrix":
        check_fields(file, obj, path, ("kind", "network_rtt_s"), ("overheads", "server_rtt_s"))
        net = _matrix(file, obj["network_rtt_s"], [*path, "network_rtt_s"], shape)
        if "server_rtt_s" in obj:
            sq = (shape[1], shape[1])
            server_rtt = _matrix(file, obj["server_rtt_s"], [*path, "server_rtt_s"], sq, "server")
    else:
        check_fields(
            file,
            obj,
            path,
            ("kind", "intra_rtt_s", "inter_rtt_s"),
            ("overheads", "intra_bandwidth_bps", "inter_bandwidth_bps"),
        )
        intra = get_number(file, obj["intra_rtt_s"], [*path, "intra_rtt_s"])
        inter = get_number(file, obj["inter_rtt_s"], [*path, "inter_rtt_s"])
        for k in ("intra_bandwidth_bps", "inter_bandwidth_bps"):
            if k in obj:
                get_number(file, obj[k], [*path, k], positive=True)
        for sites, paths in zip((ssites, csites), entry_paths, strict=True):
            if None in sites:
                i = sites.index(None)
                raise InputError(
                    file,
                    [*paths[i], "site"],
                    "missing field (a clustered network needs every site)",
                )
        s = np.array(ssites, dtype=object)[None, :]
        c = np.array(csites, dtype=object)[:, None]
        net = np.where(s == c, intra, inter).astype(np.float64)
        # the servers' own pings by the same rule (PETALS's server-to-server hops)
        server_rtt = np.where(s == s.T, intra, inter).astype(np.float64)
    ov = _overheads(file, obj.get("overheads"), [*path, "overheads"])
    out = {
        "rtt_s": net + ov.token_s,
        "prefill_rtt_s": net + ov.prefill_s,
        "prefill_rtt_per_token_s": np.full(shape, ov.prefill_per_token_s),
        "network_rtt_s": net,
    }
    if server_rtt is not None:
        out["server_rtt_s"] = server_rtt
    return out


# -- workload ------------------------------------------------------------------------------------
def _workload(file: Any, obj: Any, clients: list[str]) -> tuple[list[Job], dict]:
    path: P = ["workload"]
    check_fields(file, obj, path, (), ("jobs", "arrival_rate_per_s", "num_requests", "seed"))
    extra: dict = {}
    if "arrival_rate_per_s" in obj:
        extra["arrival_rate_per_s"] = get_number(
            file, obj["arrival_rate_per_s"], [*path, "arrival_rate_per_s"], positive=True
        )
    if "num_requests" in obj:
        extra["num_requests"] = _int(file, obj["num_requests"], [*path, "num_requests"], 1)
    if "seed" in obj:
        extra["seed"] = _int(file, obj["seed"], [*path, "seed"])
    arr = obj.get("jobs", [])
    if not isinstance(arr, list):
        raise InputError(file, [*path, "jobs"], "must be an array of job objects")
    jobs: list[Job] = []
    for i, j in enumerate(arr):
        jp: P = [*path, "jobs", i]
        check_fields(file, j, jp, ("client", "l_in", "l_out"), ("count", "id"))
        cl = j["client"]
        if isinstance(cl, str):
            if cl not in clients:
                raise InputError(file, [*jp, "client"], f"unknown client {cl!r}")
            c = clients.index(cl)
        else:
            c = _int(file, cl, [*jp, "client"])
            if c >= len(clients):
                raise InputError(
                    file, [*jp, "client"], f"client index {c} out of range ({len(clients)} clients)"
                )
        l_in = _int(file, j["l_in"], [*jp, "l_in"], 1)
        l_out = _int(file, j["l_out"], [*jp, "l_out"], 1)
        count = _int(file, j.get("count", 1), [*jp, "count"], 1)
        jid = get_string(file, j.get("id", ""), [*jp, "id"])
        for k in range(count):
            jobs.append(Job(c, l_in, l_out, f"{jid}-{k}" if jid and count > 1 else jid))
    return jobs, extra


# -- the document --------------------------------------------------------------------------------
def cluster_from_dict(doc: Any, file: str | os.PathLike | None = None) -> Cluster:
    """Validate a parsed ``splitopt-cluster`` document and build the :class:`Cluster`."""
    check_header(file, doc, FORMAT, VERSION)
    check_fields(
        file,
        doc,
        [],
        ("format", "version", "model", "servers", "clients", "network"),
        ("name", "workload", "meta"),
    )
    name = doc.get("name")
    if name is None:
        name = Path(file).stem if file else "cluster"
    name = get_string(file, name, ["name"])
    if not isinstance(doc["model"], dict):
        raise InputError(file, ["model"], "must be a JSON object")
    model, arch, dtype = _model(file, doc["model"])
    servers, ssites, spaths = _servers(file, doc["servers"], arch, dtype)
    clients, csites, cpaths = _clients(file, doc["clients"])
    shape = (len(clients), len(servers))
    net = _network(file, doc["network"], shape, ssites, csites, (spaths, cpaths))
    jobs, extra = _workload(file, doc.get("workload", {}), clients)
    meta = doc.get("meta", {})
    if not isinstance(meta, dict):
        raise InputError(file, ["meta"], "must be a JSON object")
    meta = {**meta, **({"workload": extra} if extra else {})}
    if any(s is not None for s in ssites):
        meta.setdefault("server_sites", ssites)
        meta.setdefault("client_sites", csites)
    try:
        return Cluster(
            name, model, tuple(servers), tuple(clients), jobs=tuple(jobs), meta=meta, **net
        )
    except DataError as exc:  # pragma: no cover - the checks above come first
        raise InputError(file, [exc.field], exc.reason) from None


def read_cluster(file: str | os.PathLike) -> Cluster:
    """Read and validate a cluster file; :class:`InputError` names file, JSON path and reason."""
    return cluster_from_dict(load_json(file), file)


def _num(x: float) -> float | int:
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _rows(a: np.ndarray) -> list[list[float | int]]:
    return [[_num(v) for v in row] for row in a]


def cluster_to_dict(cluster: Cluster) -> dict:
    """The ``splitopt-cluster`` document of ``cluster`` (explicit numbers; round-trips exactly)."""
    m = cluster.model
    servers = []
    for s in cluster.servers:
        row: dict[str, Any] = {"id": s.id}
        for k in SERVER_NUMBERS:
            row[k] = _num(getattr(s, k))
        if s.max_blocks is not None:
            row["max_blocks"] = s.max_blocks
        for k in SERVER_RPS:
            if getattr(s, k) is not None:
                row[k] = _num(getattr(s, k))
        servers.append(row)
    network: dict[str, Any] = {
        "kind": "explicit",
        "rtt_s": _rows(cluster.rtt_s),
        "prefill_rtt_s": _rows(cluster.prefill_rtt_s),
        "prefill_rtt_per_token_s": _rows(cluster.prefill_rtt_per_token_s),
    }
    if not np.array_equal(cluster.network_rtt_s, cluster.rtt_s):
        network["network_rtt_s"] = _rows(cluster.network_rtt_s)
    if cluster.server_rtt_s is not None:
        network["server_rtt_s"] = _rows(cluster.server_rtt_s)
    jobs: list[dict] = []
    for j in cluster.jobs:
        row = {"client": cluster.clients[j.client], "l_in": j.l_in, "l_out": j.l_out}
        if j.id:
            row["id"] = j.id
        if jobs and not j.id and {k: v for k, v in jobs[-1].items() if k != "count"} == row:
            jobs[-1]["count"] = jobs[-1].get("count", 1) + 1
        else:
            jobs.append(row)
    meta = dict(cluster.meta)
    workload: dict[str, Any] = {"jobs": jobs, **meta.pop("workload", {})}
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": cluster.name,
        "model": {
            "num_blocks": m.num_blocks,
            "block_bytes": _num(m.block_bytes),
            "cache_bytes_per_token": _num(m.cache_bytes_per_token),
            "name": m.name,
            "hidden_size": m.hidden_size,
        },
        "servers": servers,
        "clients": list(cluster.clients),
        "network": network,
        "workload": workload,
    }
    if meta:
        doc["meta"] = meta
    return doc


def write_cluster(cluster: Cluster, file: str | os.PathLike) -> None:
    """Write a cluster file atomically."""
    write_text_atomic(file, dumps(cluster_to_dict(cluster)))


__all__ = [
    "FORMAT",
    "VERSION",
    "cluster_from_dict",
    "cluster_to_dict",
    "read_cluster",
    "write_cluster",
]
