"""The cost-model bridge for many-server clusters (SPEC-PLACEMENT P4).

* :func:`block_model` — s_m, cache bytes per token per block and L of any catalogue
  (decoder) architecture in a weight dtype (``fp16``/``bf16``/``fp32``/``int8``/``int4``
  or ``nf4``: 4.25 bits per value x 1.01, as the authors' simulator counts it).
* :func:`server_from_device` — per-block decode and prefill times of a catalogue
  device from the roofline of :mod:`splitopt.scenario.costmodel`.
* Named presets with the paper's measured constants (Sun, He, Ji, Parag,
  arXiv:2512.21884; the authors' MATLAB ``test_general_case_online.m`` and
  ``throughput_v5.json``): :data:`MODEL_PRESETS`, :data:`SERVER_PRESETS`,
  :data:`PAPER_OVERHEADS`.
* Generators: :func:`paper_clustered` (the paper's clustered scenario) and
  :func:`random_cluster` (a seeded random cluster of the paper's server types).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import numpy as np

from splitopt.errors import DataError
from splitopt.placement.model import Arrivals, BlockModel, Cluster, Job, Server
from splitopt.scenario.architectures import Architecture, get_architecture
from splitopt.scenario.costmodel import DTYPE_BYTES, device_time, precision, workload
from splitopt.scenario.devices import Device, get_device

#: Bytes per weight of NF4 as the authors' simulator counts it (4.25 bits x 1.01).
NF4_BYTES = 4.25 / 8 * 1.01


# -- the paper's constants (data: splitopt/data/cluster_presets.json) ---------------------
def _presets(section: str) -> list[dict[str, Any]]:
    text = (resources.files("splitopt") / "data" / "cluster_presets.json").read_text("utf-8")
    return [
        {k: v for k, v in e.items() if k not in ("source", "notes")}
        for e in json.loads(text)[section]
    ]


def _load_models() -> dict[str, BlockModel]:
    out = {}
    for e in _presets("models"):
        try:
            out[e["name"]] = BlockModel(
                num_blocks=e["num_blocks"],
                block_bytes=e["block_params"] * _weight_bytes(e["weight_dtype"]),
                cache_bytes_per_token=e["cache_bytes_per_token"],
                name=e["name"],
                hidden_size=e["hidden_size"],
            )
        except (DataError, KeyError) as exc:  # pragma: no cover - a broken data file
            raise DataError("cluster_presets.json", f"models[{e.get('name')!r}]: {exc}") from None
    return out


def _load_servers() -> dict[str, dict]:
    out = {}
    for e in _presets("servers"):
        name = e.pop("name")
        Server(name, **e)  # checked as an explicit server entry is
        out[name] = e
    return out


#: BLOOM-176B: 70 blocks of 2,466,437,120 parameters, d = 14336, NF4 weights, fp16 cache.
BLOOM_BLOCK_PARAMS = 2_466_437_120
BLOOM_D = 14336

#: Model presets by name (``cluster_presets.json``, ``models``).
MODEL_PRESETS: dict[str, BlockModel] = {}

#: Server presets by name: the keyword arguments of :class:`Server` besides ``id``
#: (``cluster_presets.json``, ``servers``: the A100-80GB and A100 MIG 1g.10gb as
#: measured by the authors). ``memory_bytes`` takes their "GB" as 1e9 bytes (their
#: CG-BP divides GB by GB; see the README for the GiB reading, under which PETALS's
#: formula gives the 53 / 4 blocks the paper reports). The rps figures are PETALS's
#: own measurements of these devices (``throughput_v5.json``), used only by ``petals``.
SERVER_PRESETS: dict[str, dict] = {}


@dataclass(frozen=True)
class Overheads:
    """Round trips from a network RTT (s): per token ``rtt + token_s``; prefill
    ``rtt + prefill_s + prefill_per_token_s * l_in``."""

    token_s: float = 0.0
    prefill_s: float = 0.0
    prefill_per_token_s: float = 0.0


#: Overhead presets by name (``cluster_presets.json``, ``overheads``).
OVERHEAD_PRESETS: dict[str, Overheads] = {}

#: The authors' measured overheads: 100 ms per token; 0.7049 ms x l_in + 67 ms for prefill.
PAPER_OVERHEADS: Overheads


def network_round_trips(network_rtt_s: np.ndarray, overheads: Overheads) -> dict[str, np.ndarray]:
    """The round trips of a cluster from a (C, S) network RTT (s) plus ``overheads``:
    the keyword arguments ``rtt_s``, ``prefill_rtt_s``, ``prefill_rtt_per_token_s``,
    ``network_rtt_s`` of :class:`Cluster` (the one formula of every cluster built from
    a network RTT: generators and cluster files alike)."""
    net = np.asarray(network_rtt_s, dtype=np.float64)
    return {
        "rtt_s": net + overheads.token_s,
        "prefill_rtt_s": net + overheads.prefill_s,
        "prefill_rtt_per_token_s": np.full(net.shape, overheads.prefill_per_token_s),
        "network_rtt_s": net,
    }


def preset_server(preset: str, id: str) -> Server:
    """A :class:`Server` with the paper's constants ``preset``."""
    if preset not in SERVER_PRESETS:
        raise DataError(
            "preset", f"unknown server preset {preset!r}; valid: {', '.join(SERVER_PRESETS)}"
        )
    return Server(id, **SERVER_PRESETS[preset])


def preset_model(preset: str) -> BlockModel:
    if preset not in MODEL_PRESETS:
        raise DataError(
            "preset", f"unknown model preset {preset!r}; valid: {', '.join(MODEL_PRESETS)}"
        )
    return MODEL_PRESETS[preset]


# -- from the cost model -------------------------------------------------------------------
def _arch(arch: str | Architecture) -> Architecture:
    if isinstance(arch, Architecture):
        return arch
    try:
        return get_architecture(arch)
    except KeyError as exc:
        raise DataError("architecture", str(exc).strip("'\"")) from None


def _weight_bytes(dtype: str) -> float:
    if dtype == "nf4":
        return NF4_BYTES
    if dtype not in DTYPE_BYTES:
        raise DataError("dtype", f"unknown dtype {dtype!r}; valid: nf4, {', '.join(DTYPE_BYTES)}")
    return DTYPE_BYTES[dtype]


MODEL_PRESETS.update(_load_models())
SERVER_PRESETS.update(_load_servers())
OVERHEAD_PRESETS.update({e.pop("name"): Overheads(**e) for e in _presets("overheads")})
PAPER_OVERHEADS = OVERHEAD_PRESETS["paper"]


def block_model(
    arch: str | Architecture, dtype: str = "fp16", cache_dtype: str = "fp16"
) -> BlockModel:
    """s_m = parameters of one transformer block x weight bytes; cache bytes per token
    per block = 2 x kv_heads x head_dim x cache-dtype bytes; L = number of blocks.

    Embeddings and the LM head stay on the client (SPEC-PLACEMENT P1).
    """
    a = _arch(arch)
    if a.kind != "decoder":
        raise DataError("architecture", f"{a.name!r} is a {a.kind} model; only decoders are placed")
    table = a.layers("block")
    rows = [i for i, n in enumerate(table.names) if n.startswith("block")]
    if not rows:
        raise DataError("architecture", f"{a.name!r} has no transformer blocks")
    params = float(np.max(table.params[rows]))
    kv = float(DTYPE_BYTES[cache_dtype]) if cache_dtype in DTYPE_BYTES else None
    if kv is None:
        raise DataError(
            "cache_dtype", f"unknown dtype {cache_dtype!r}; valid: {', '.join(DTYPE_BYTES)}"
        )
    assert a.num_kv_heads is not None and a.head_dim is not None  # set by Architecture
    return BlockModel(
        num_blocks=len(rows),
        block_bytes=params * _weight_bytes(dtype),
        cache_bytes_per_token=2.0 * a.num_kv_heads * a.head_dim * kv,
        name=f"{a.name}-{dtype}",
        hidden_size=a.hidden_size,
    )


def server_from_device(
    id: str,
    device: str | Device,
    arch: str | Architecture,
    dtype: str = "fp16",
    *,
    efficiency: float | None = None,
    memory_fraction: float = 1.0,
    l_in: int = 20,
    l_out: int = 128,
    max_blocks: int | None = None,
) -> Server:
    """A server on catalogue ``device`` serving blocks of ``arch`` in ``dtype``.

    Per-block times from the roofline (:func:`splitopt.scenario.costmodel.device_time`)
    of one block: decode_s = the mean decode step of an (l_in, l_out) request; the
    affine prefill prefill_s0 + prefill_s1 * n is the secant through prompts of 1 and
    ``l_in`` tokens (ours: the roofline is piecewise linear in the prompt length, so
    the secant is exact at both ends).
    memory_bytes = device memory x ``memory_fraction``. ``nf4`` weights run with
    fp16 compute and are read at 4.25 bits x 1.01 per weight (ours).
    """
    if not 0 < memory_fraction <= 1:
        raise DataError("memory_fraction", f"must be in (0, 1], got {memory_fraction!r}")
    if efficiency is not None and not 0 < efficiency <= 1:
        raise DataError("efficiency", f"must be in (0, 1], got {efficiency!r}")
    dev = device if isinstance(device, Device) else _device(device)
    a = _arch(arch)
    wdt = "int4" if dtype == "nf4" else dtype
    _weight_bytes(dtype)
    prec = precision(wdt)
    table = a.layers("block")
    b = next(i for i, n in enumerate(table.names) if n.startswith("block"))
    scale = NF4_BYTES / DTYPE_BYTES["int4"] if dtype == "nf4" else 1.0

    def times(n: int, g: int) -> tuple[float, float]:
        w = workload(table, prec, np.array([n]), np.array([g]))
        if scale != 1.0:  # nf4 reads more bytes than int4
            w = replace(w, prefill_bytes=w.prefill_bytes * scale, step_bytes0=w.step_bytes0 * scale)
        pre = device_time(replace(w, steps=np.zeros_like(w.steps)), dev, prec.compute, efficiency)
        tot = device_time(w, dev, prec.compute, efficiency)
        return float(pre[0, b]), float(tot[0, b] - pre[0, b])

    p1, _ = times(1, 1)
    pn, dec = times(max(l_in, 2), max(l_out, 2))
    n = max(l_in, 2)
    slope = max((pn - p1) / (n - 1), 0.0)
    return Server(
        id,
        memory_bytes=dev.memory_bytes * memory_fraction,
        decode_s=dec / (max(l_out, 2) - 1),
        prefill_s0=max(p1 - slope, 0.0),
        prefill_s1=slope,
        max_blocks=max_blocks,
    )


def _device(name: str) -> Device:
    try:
        return get_device(name)
    except KeyError as exc:
        raise DataError("device", str(exc).strip("'\"")) from None


# -- clusters ------------------------------------------------------------------------------
def cluster_from_network_rtt(
    name: str,
    model: BlockModel,
    servers: Sequence[Server],
    clients: Sequence[str],
    network_rtt_s: np.ndarray,
    overheads: Overheads = PAPER_OVERHEADS,
    jobs: Sequence[Job] = (),
    meta: Mapping[str, Any] | None = None,
    arrivals: Arrivals | None = None,
    server_rtt_s: np.ndarray | None = None,
) -> Cluster:
    """A cluster whose round trips are the network RTT plus ``overheads``;
    ``server_rtt_s``: the servers' own (S, S) network round trips (PETALS's hops)."""
    return Cluster(
        name,
        model,
        tuple(servers),
        tuple(clients),
        jobs=tuple(jobs),
        meta=dict(meta or {}),
        arrivals=arrivals or Arrivals(),
        server_rtt_s=server_rtt_s,
        **network_round_trips(network_rtt_s, overheads),
    )


def clustered_rtt(
    server_sites: Sequence[int | str],
    client_sites: Sequence[int | str],
    intra_s: float,
    inter_s: float,
) -> np.ndarray:
    """(C, S) network RTT: ``intra_s`` within a site, ``inter_s`` between sites."""
    s = np.array(server_sites, dtype=object)[None, :]
    c = np.array(client_sites, dtype=object)[:, None]
    return np.where(s == c, float(intra_s), float(inter_s)).astype(np.float64)


def paper_clustered(
    clients_per_site: Sequence[int] = (1, 1, 1),
    jobs_per_client: int = 2,
    l_in: int = 20,
    l_out: int = 64,
    intra_rtt_s: float = 0.005,
    inter_rtt_s: float = 0.100,
    num_a100: int = 2,
    num_mig: int = 7,
) -> Cluster:
    """The paper's clustered scenario: site 0 = CPU-only clients; site 1 = 2 A100 +
    clients; site 2 = 7 MIG 1g.10gb + clients; 5 ms RTT inside a site, 100 ms
    between (SPEC-PLACEMENT P4; the 1 Gbit/s and 100 Mbit/s links are inside the
    measured overheads, as the authors' scripts model them). ``num_a100`` /
    ``num_mig`` change the server mix (ours, for the sweeps; the paper has 2 and 7)."""
    if num_a100 < 0 or num_mig < 0 or num_a100 + num_mig < 1:
        raise DataError("servers", f"need >= 1 server, got {num_a100} A100 + {num_mig} MIG")
    servers = [preset_server("a100-paper", f"a100-{i}") for i in range(num_a100)]
    servers += [preset_server("mig-1g.10gb-paper", f"mig-{i}") for i in range(num_mig)]
    server_sites = [1] * num_a100 + [2] * num_mig
    clients, client_sites = [], []
    for site, k in enumerate(clients_per_site):
        for i in range(k):
            clients.append(f"site{site}-client{i}")
            client_sites.append(site)
    jobs = [Job(c, l_in, l_out) for c in range(len(clients)) for _ in range(jobs_per_client)]
    net = clustered_rtt(server_sites, client_sites, intra_rtt_s, inter_rtt_s)
    meta = {"server_sites": server_sites, "client_sites": client_sites}
    return cluster_from_network_rtt(
        "paper-clustered",
        MODEL_PRESETS["bloom-176b-nf4"],
        servers,
        clients,
        net,
        PAPER_OVERHEADS,
        jobs,
        meta,
        # the servers' own pings (the authors' script: 5 ms in a site, 100 ms between)
        server_rtt_s=clustered_rtt(server_sites, server_sites, intra_rtt_s, inter_rtt_s),
    )


def random_cluster(
    seed: int,
    num_servers: int = 150,
    num_blocks: int = 70,
    num_clients: int = 10,
    jobs_per_client: int = 2,
    frac_a100: float = 0.2,
    rtt_range_s: tuple[float, float] = (0.005, 0.200),
    l_in: int = 20,
    l_out: int = 128,
) -> Cluster:
    """A seeded random cluster of the paper's server types (A100 with probability
    ``frac_a100``, else MIG 1g.10gb), BLOOM-176B NF4 blocks (``num_blocks`` of them),
    network RTTs uniform in ``rtt_range_s`` plus the paper's overheads (ours: the
    paper's scattered scenarios use Topology Zoo graphs instead)."""
    rng = np.random.default_rng(seed)
    is_a100 = rng.random(num_servers) < frac_a100
    if not is_a100.any():
        is_a100[0] = True
    servers = [
        preset_server("a100-paper" if a else "mig-1g.10gb-paper", f"{'a100' if a else 'mig'}-{j}")
        for j, a in enumerate(is_a100)
    ]
    lo, hi = rtt_range_s
    net = rng.uniform(lo, hi, size=(num_clients, num_servers))
    base = MODEL_PRESETS["bloom-176b-nf4"]
    model = BlockModel(
        num_blocks,
        base.block_bytes,
        base.cache_bytes_per_token,
        f"bloom-176b-nf4-L{num_blocks}",
        base.hidden_size,
    )
    clients = [f"client-{c}" for c in range(num_clients)]
    jobs = [Job(c, l_in, l_out) for c in range(num_clients) for _ in range(jobs_per_client)]
    return cluster_from_network_rtt(
        f"random-s{num_servers}-l{num_blocks}-seed{seed}",
        model,
        servers,
        clients,
        net,
        PAPER_OVERHEADS,
        jobs,
        {"seed": seed},
    )


__all__ = [
    "MODEL_PRESETS",
    "NF4_BYTES",
    "OVERHEAD_PRESETS",
    "PAPER_OVERHEADS",
    "SERVER_PRESETS",
    "Overheads",
    "block_model",
    "cluster_from_network_rtt",
    "clustered_rtt",
    "network_round_trips",
    "paper_clustered",
    "preset_model",
    "preset_server",
    "random_cluster",
    "server_from_device",
]
