"""The compiler :class:`~splitopt.scenario.cluster_spec.ClusterSpec` ->
:class:`~splitopt.placement.model.Cluster`, and back (:func:`cluster_spec`).

Compiling resolves what a cluster file names: model and server presets
(``splitopt/data/cluster_presets.json``), catalogue architectures and devices (the
cost model: :func:`~splitopt.scenario.cluster.block_model`,
:func:`~splitopt.scenario.cluster.server_from_device`), expands ``count`` entries to
``id-0 .. id-(count-1)``, and builds the round trips (for ``matrix`` and ``clustered``
networks the one formula :func:`~splitopt.scenario.cluster.network_round_trips` of
every generated cluster, the site RTTs by :func:`~splitopt.scenario.cluster.clustered_rtt`).
Sizes were bounded by the spec's constructors before this expands anything. An error
raises :class:`~splitopt.errors.SpecError` with the cluster file's field path.

:func:`cluster_spec` is the inverse for writing: the explicit spec (numbers for the
model, servers and round trips) whose compilation equals the cluster.
"""

from __future__ import annotations

import numpy as np

from splitopt.errors import DataError, SpecError
from splitopt.joint.model import NO_DEVICE, ClientDevice, JointCluster
from splitopt.placement.model import Arrivals, BlockModel, Cluster, Job, Server
from splitopt.scenario import cluster as presets
from splitopt.scenario.client_devices import client_device
from splitopt.scenario.cluster import (
    Overheads,
    block_model,
    clustered_rtt,
    network_round_trips,
    server_from_device,
)
from splitopt.scenario.cluster_spec import (
    CLIENT_DEVICE_NUMBERS,
    ClusterClientSpec,
    ClusterModelSpec,
    ClusterServerSpec,
    ClusterSpec,
    JobSpec,
    Matrix,
    NetworkSpec,
    WorkloadSpec,
)

P = list[str | int]

#: Server figures an explicit server entry carries (besides id and max_blocks).
SERVER_NUMBERS = ("memory_bytes", "decode_s", "prefill_s0", "prefill_s1")
SERVER_RPS = ("forward_rps", "network_rps", "inference_rps")


def _data(exc: DataError, path: P) -> SpecError:
    sub: P = [exc.field] if exc.field else []
    if exc.index is not None:
        sub.append(exc.index)
    return SpecError([*path, *sub], exc.reason)


def _choice(value: str, known: dict, path: P) -> None:
    if value not in known:
        raise SpecError(path, f"unknown value {value!r}; valid values: {', '.join(known)}")


def compile_model(spec: ClusterModelSpec) -> BlockModel:
    if spec.kind == "preset":
        _choice(spec.preset, presets.MODEL_PRESETS, ["model", "preset"])  # type: ignore[arg-type]
        return presets.MODEL_PRESETS[spec.preset]  # type: ignore[index]
    if spec.kind == "architecture":
        try:
            return block_model(
                spec.architecture,  # type: ignore[arg-type]
                spec.dtype or "fp16",
                spec.cache_dtype or "fp16",
            )
        except DataError as exc:
            raise _data(exc, ["model"]) from None
    try:
        return BlockModel(
            spec.num_blocks,  # type: ignore[arg-type]
            spec.block_bytes,  # type: ignore[arg-type]
            spec.cache_bytes_per_token,  # type: ignore[arg-type]
            spec.name or "",
            spec.hidden_size or 0,
        )
    except DataError as exc:
        raise _data(exc, ["model"]) from None


def _names(entry: ClusterServerSpec | ClusterClientSpec) -> list[str]:
    if entry.count is None:
        return [entry.id]
    return [f"{entry.id}-{i}" for i in range(entry.count)]


def _server(entry: ClusterServerSpec, name: str, model: ClusterModelSpec, path: P) -> Server:
    if entry.kind == "preset":
        _choice(entry.preset, presets.SERVER_PRESETS, [*path, "preset"])  # type: ignore[arg-type]
        kw = dict(presets.SERVER_PRESETS[entry.preset])  # type: ignore[index]
        if entry.max_blocks is not None:
            kw["max_blocks"] = entry.max_blocks
        return Server(name, **kw)
    if entry.kind == "device":
        if model.kind != "architecture":
            raise SpecError(
                [*path, "device"], "needs a model given by its architecture (model.architecture)"
            )
        kw = {
            k: getattr(entry, k)
            for k in ("efficiency", "memory_fraction", "l_in", "l_out")
            if getattr(entry, k) is not None
        }
        try:
            return server_from_device(
                name,
                entry.device,  # type: ignore[arg-type]
                model.architecture,  # type: ignore[arg-type]
                model.dtype or "fp16",
                max_blocks=entry.max_blocks,
                **kw,
            )
        except DataError as exc:
            raise _data(exc, path) from None
    nums = {k: getattr(entry, k) or 0.0 for k in SERVER_NUMBERS}
    rps = {k: getattr(entry, k) for k in SERVER_RPS if getattr(entry, k) is not None}
    try:
        return Server(name, max_blocks=entry.max_blocks, **nums, **rps)
    except DataError as exc:
        raise _data(exc, path) from None


def _matrix(
    value: Matrix, path: P, shape: tuple[int, int], rows: str = "client"
) -> np.ndarray:
    C, S = shape
    if len(value) != C:
        raise SpecError(path, f"has {len(value)} rows, expected {C} (one per {rows})")
    for c, row in enumerate(value):
        if len(row) != S:
            raise SpecError([*path, c], f"has length {len(row)}, expected {S} (servers)")
    out = np.array(value, dtype=np.float64).reshape(shape)
    bad = ~(out >= 0)
    if bad.any():
        c, j = (int(i) for i in np.argwhere(bad)[0])
        raise SpecError([*path, c, j], f"must be non-negative, got {value[c][j]!r}")
    return out


def _overheads(net: NetworkSpec) -> Overheads:
    ov = net.overheads
    if ov is None:
        return Overheads()
    if ov.preset is not None:
        return presets.OVERHEAD_PRESETS[ov.preset]
    return Overheads(
        token_s=ov.token_s or 0.0,
        prefill_s=ov.prefill_s or 0.0,
        prefill_per_token_s=ov.prefill_per_token_s or 0.0,
    )


def compile_network(
    net: NetworkSpec,
    shape: tuple[int, int],
    server_sites: list[str | None],
    client_sites: list[str | None],
    site_paths: tuple[list[P], list[P]],
) -> dict[str, np.ndarray]:
    """The round-trip matrices (keyword arguments of :class:`Cluster`)."""
    path: P = ["network"]
    S = shape[1]
    server_rtt: np.ndarray | None = None
    if net.server_rtt_s is not None:
        server_rtt = _matrix(net.server_rtt_s, [*path, "server_rtt_s"], (S, S), "server")
    if net.kind == "explicit":
        out = {
            k: _matrix(getattr(net, k), [*path, k], shape)
            for k in ("rtt_s", "prefill_rtt_s", "prefill_rtt_per_token_s", "network_rtt_s")
            if getattr(net, k) is not None
        }
        if server_rtt is not None:
            out["server_rtt_s"] = server_rtt
        return out
    if net.kind == "matrix":
        rtt = _matrix(net.network_rtt_s, [*path, "network_rtt_s"], shape)  # type: ignore[arg-type]
    else:
        for sites, paths in zip((server_sites, client_sites), site_paths, strict=True):
            if None in sites:
                i = sites.index(None)
                raise SpecError(
                    [*paths[i], "site"], "missing field (a clustered network needs every site)"
                )
        intra, inter = net.intra_rtt_s, net.inter_rtt_s
        rtt = clustered_rtt(server_sites, client_sites, intra, inter)  # type: ignore[arg-type]
        # the servers' own pings by the same rule (PETALS's server-to-server hops)
        server_rtt = clustered_rtt(server_sites, server_sites, intra, inter)  # type: ignore[arg-type]
    out = network_round_trips(rtt, _overheads(net))
    if server_rtt is not None:
        out["server_rtt_s"] = server_rtt
    return out


def _jobs(spec: WorkloadSpec, clients: list[str]) -> list[Job]:
    index = {c: i for i, c in enumerate(clients)}
    jobs: list[Job] = []
    for i, j in enumerate(spec.jobs):
        jp: P = ["workload", "jobs", i]
        if isinstance(j.client, str):
            if j.client not in index:
                raise SpecError([*jp, "client"], f"unknown client {j.client!r}")
            c = index[j.client]
        else:
            c = j.client
            if c >= len(clients):
                raise SpecError(
                    [*jp, "client"], f"client index {c} out of range ({len(clients)} clients)"
                )
        jid = j.id or ""
        for k in range(j.size):
            jobs.append(Job(c, j.l_in, j.l_out, f"{jid}-{k}" if jid and j.size > 1 else jid))
    return jobs


def compile_cluster(spec: ClusterSpec) -> Cluster:
    """The :class:`Cluster` of ``spec`` (presets resolved, devices costed, counts expanded)."""
    model = compile_model(spec.model)
    servers: list[Server] = []
    ssites: list[str | None] = []
    spaths: list[P] = []
    seen: set[str] = set()
    for i, entry in enumerate(spec.servers):
        path: P = ["servers", i]
        for name in _names(entry):
            if name in seen:
                raise SpecError([*path, "id"], f"duplicate server id {name!r}")
            seen.add(name)
            servers.append(_server(entry, name, spec.model, path))
            ssites.append(entry.site)
            spaths.append(path)
    clients: list[str] = []
    csites: list[str | None] = []
    cpaths: list[P] = []
    known: set[str] = set()
    for i, c in enumerate(spec.clients):
        for name in _names(c):
            if name in known:
                raise SpecError(["clients", i], f"duplicate client id {name!r}")
            known.add(name)
            clients.append(name)
            csites.append(c.site)
            cpaths.append(["clients", i])
    shape = (len(clients), len(servers))
    net = compile_network(spec.network, shape, ssites, csites, (spaths, cpaths))
    jobs = _jobs(spec.workload, clients)
    meta = dict(spec.meta)
    if any(s is not None for s in ssites):
        meta.setdefault("server_sites", ssites)
        meta.setdefault("client_sites", csites)
    wl = spec.workload
    try:
        return Cluster(
            spec.name,
            model,
            tuple(servers),
            tuple(clients),
            jobs=tuple(jobs),
            meta=meta,
            arrivals=Arrivals(wl.arrival_rate_per_s, wl.num_requests, wl.seed),
            **net,
        )
    except DataError as exc:  # pragma: no cover - the checks above come first
        raise _data(exc, []) from None


def _client_device(entry: ClusterClientSpec, model: ClusterModelSpec, path: P) -> ClientDevice:
    if entry.kind == "none":
        return NO_DEVICE
    if entry.kind == "device":
        if model.kind != "architecture":
            raise SpecError(
                [*path, "device"], "needs a model given by its architecture (model.architecture)"
            )
        kw = {
            k: getattr(entry, k)
            for k in ("efficiency", "memory_fraction", "l_in", "l_out")
            if getattr(entry, k) is not None
        }
        try:
            return client_device(
                entry.device,  # type: ignore[arg-type]
                model.architecture,  # type: ignore[arg-type]
                model.dtype or "fp16",
                **kw,
            )
        except DataError as exc:
            raise _data(exc, path) from None
    try:
        return ClientDevice(**{k: getattr(entry, k) or 0.0 for k in CLIENT_DEVICE_NUMBERS})
    except DataError as exc:  # pragma: no cover - the spec checked the numbers
        raise _data(exc, path) from None


def compile_client_devices(spec: ClusterSpec) -> tuple[ClientDevice, ...]:
    """Each client's device, in the cluster's client order (``count`` expanded;
    :data:`~splitopt.joint.model.NO_DEVICE` for a client that names none)."""
    out: list[ClientDevice] = []
    for i, entry in enumerate(spec.clients):
        dev = _client_device(entry, spec.model, ["clients", i])
        out.extend([dev] * entry.size)
    return tuple(out)


def compile_joint(spec: ClusterSpec) -> JointCluster:
    """The :class:`~splitopt.joint.model.JointCluster` of ``spec``: its
    :class:`Cluster` (exactly :func:`compile_cluster`'s) and the clients' devices."""
    devices = compile_client_devices(spec)  # device errors first: cheaper than the network
    return JointCluster(compile_cluster(spec), devices)


def _rows(a: np.ndarray) -> Matrix:
    return tuple(tuple(float(v) for v in row) for row in a)


def _client_entry(name: str, dev: ClientDevice) -> ClusterClientSpec:
    if dev == NO_DEVICE:
        return ClusterClientSpec(name, short=True)
    return ClusterClientSpec(name, **{k: getattr(dev, k) for k in CLIENT_DEVICE_NUMBERS})


def cluster_spec(cluster: Cluster, devices: tuple[ClientDevice, ...] | None = None) -> ClusterSpec:
    """The explicit spec of ``cluster``: numbers for the model, every server and the
    round trips; runs of identical jobs as one entry with a ``count``. Compiling it
    gives a cluster equal to ``cluster``. ``devices`` (one per client, as in a
    :class:`~splitopt.joint.model.JointCluster`) are written as explicit client
    figures; compiling with :func:`compile_joint` gives them back."""
    m = cluster.model
    model = ClusterModelSpec(
        num_blocks=m.num_blocks,
        block_bytes=m.block_bytes,
        cache_bytes_per_token=m.cache_bytes_per_token,
        name=m.name,
        hidden_size=m.hidden_size,
    )
    servers = tuple(
        ClusterServerSpec(
            s.id,
            max_blocks=s.max_blocks,
            **{k: getattr(s, k) for k in (*SERVER_NUMBERS, *SERVER_RPS)},
        )
        for s in cluster.servers
    )
    if devices is None:
        devices = (NO_DEVICE,) * cluster.num_clients
    if len(devices) != cluster.num_clients:
        raise DataError(
            "devices", f"has {len(devices)} entries, the cluster has {cluster.num_clients} clients"
        )
    clients = tuple(_client_entry(c, d) for c, d in zip(cluster.clients, devices, strict=True))
    network = NetworkSpec(
        "explicit",
        rtt_s=_rows(cluster.rtt_s),
        prefill_rtt_s=_rows(cluster.prefill_rtt_s),
        prefill_rtt_per_token_s=_rows(cluster.prefill_rtt_per_token_s),
        network_rtt_s=(
            None
            if np.array_equal(cluster.network_rtt_s, cluster.rtt_s)
            else _rows(cluster.network_rtt_s)
        ),
        server_rtt_s=None if cluster.server_rtt_s is None else _rows(cluster.server_rtt_s),
    )
    jobs: list[JobSpec] = []
    for j in cluster.jobs:
        row = JobSpec(cluster.clients[j.client], j.l_in, j.l_out, id=j.id or None)
        last = jobs[-1] if jobs else None
        if (
            last is not None
            and not j.id
            and last.id is None
            and ((last.client, last.l_in, last.l_out) == (row.client, row.l_in, row.l_out))
        ):
            jobs[-1] = JobSpec(last.client, last.l_in, last.l_out, count=last.size + 1)
        else:
            jobs.append(row)
    a = cluster.arrivals
    workload = WorkloadSpec(tuple(jobs), a.rate_per_s, a.num_requests, a.seed)
    return ClusterSpec(cluster.name, model, servers, clients, network, workload, cluster.meta)


__all__ = [
    "SERVER_NUMBERS",
    "SERVER_RPS",
    "cluster_spec",
    "compile_client_devices",
    "compile_cluster",
    "compile_joint",
    "compile_model",
]
