"""The many-server spec types (a ``splitopt-cluster`` file as values), checked in
their constructors.

A :class:`ClusterSpec` says what the file says — presets, catalogue devices, counts,
sites, a network kind — before anything is resolved or expanded;
:func:`splitopt.scenario.cluster_compile.compile_cluster` turns it into the
:class:`~splitopt.placement.model.Cluster` value (presets looked up, devices costed,
``count`` expanded, round trips built). A broken rule raises
:class:`~splitopt.errors.SpecError` whose path is the field's path in the cluster
file (``servers[2].count``), so the file reader (:mod:`splitopt.formats.cluster_file`)
only adds the file name. Every counted entity is bounded here, before any expansion
(:data:`MAX_SERVERS`, :data:`MAX_CLIENTS`, :data:`MAX_JOBS`, :data:`MAX_CELLS`, and
:data:`~splitopt.placement.model.MAX_BLOCKS` on ``num_blocks``).

Units: bytes, seconds, tokens, requests per second.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from splitopt.errors import SpecError
from splitopt.placement.model import (
    MAX_BLOCKS,
    MAX_CELLS,
    MAX_CLIENTS,
    MAX_JOBS,
    MAX_REQUESTS,
    MAX_SERVERS,
)
from splitopt.problem import Meta
from splitopt.scenario import rules

#: Network kinds of a cluster file (``topology`` is reserved, not yet supported).
NETWORK_KINDS = ("explicit", "matrix", "clustered", "topology")
#: The round-trip overheads a network may name instead of numbers.
OVERHEAD_PRESETS = ("paper",)


def _opt(obj: Any, name: str, check: Any, *args: Any) -> None:
    v = getattr(obj, name)
    if v is not None:
        check(v, *args, name)


def _count(value: int | None, limit: int, what: str) -> None:
    if value is None:
        return
    rules.at_least(value, 1, "count")
    if value > limit:
        raise SpecError(["count"], f"at most {limit:,} {what} (our limit), got {rules.show(value)}")


def _under(exc: SpecError, *prefix: str | int) -> SpecError:
    return exc.under(list(prefix))


@dataclass(frozen=True)
class ClusterModelSpec:
    """The model: a preset (``preset``), a catalogue architecture (``architecture``,
    ``dtype``, ``cache_dtype``) or explicit numbers (``num_blocks``, ``block_bytes``
    per block, ``cache_bytes_per_token`` per block, ``name``, ``hidden_size``).
    Fields the file does not give are ``None``."""

    preset: str | None = None
    architecture: str | None = None
    dtype: str | None = None
    cache_dtype: str | None = None
    num_blocks: int | None = None
    block_bytes: float | None = None
    cache_bytes_per_token: float | None = None
    name: str | None = None
    hidden_size: int | None = None

    @property
    def kind(self) -> str:
        """``preset``, ``architecture`` or ``explicit``."""
        if self.preset is not None:
            return "preset"
        return "architecture" if self.architecture is not None else "explicit"

    def __post_init__(self) -> None:
        for k in ("preset", "architecture", "dtype", "cache_dtype", "name"):
            _opt(self, k, rules.string)
        if self.kind == "explicit":
            for k in ("num_blocks", "block_bytes", "cache_bytes_per_token"):
                if getattr(self, k) is None:
                    raise SpecError([k], "missing field")
        _opt(self, "num_blocks", rules.at_least, 1)
        if self.num_blocks is not None and self.num_blocks > MAX_BLOCKS:
            raise SpecError(
                ["num_blocks"],
                f"at most {MAX_BLOCKS:,} blocks (our limit), got {rules.show(self.num_blocks)}",
            )
        _opt(self, "block_bytes", rules.nonneg)
        _opt(self, "cache_bytes_per_token", rules.nonneg)
        _opt(self, "hidden_size", rules.at_least, 0)


@dataclass(frozen=True)
class ClusterServerSpec:
    """One ``servers`` entry: ``count`` servers ``id-0 .. id-(count-1)`` (one named
    ``id`` when ``count`` is absent) of a preset, of a catalogue ``device`` (with its
    ``efficiency`` in (0, 1], ``memory_fraction`` in (0, 1] and the design request
    ``l_in``/``l_out`` tokens), or of explicit figures (``memory_bytes``, ``decode_s`` s
    per token per block, ``prefill_s0`` + ``prefill_s1`` x l_in s per block, and
    PETALS's throughputs in requests/s); ``site`` places them in a clustered network;
    ``max_blocks`` caps the blocks each may host."""

    id: str
    count: int | None = None
    site: str | None = None
    max_blocks: int | None = None
    preset: str | None = None
    device: str | None = None
    efficiency: float | None = None
    memory_fraction: float | None = None
    l_in: int | None = None
    l_out: int | None = None
    memory_bytes: float | None = None
    decode_s: float | None = None
    prefill_s0: float | None = None
    prefill_s1: float | None = None
    forward_rps: float | None = None
    network_rps: float | None = None
    inference_rps: float | None = None

    @property
    def kind(self) -> str:
        """``preset``, ``device`` or ``explicit``."""
        if self.preset is not None:
            return "preset"
        return "device" if self.device is not None else "explicit"

    @property
    def size(self) -> int:
        """The number of servers this entry expands to."""
        return 1 if self.count is None else self.count

    def __post_init__(self) -> None:
        rules.string(self.id, "id")
        if not self.id:
            raise SpecError(["id"], "must be a non-empty string")
        _count(self.count, MAX_SERVERS, "servers")
        for k in ("site", "preset", "device"):
            _opt(self, k, rules.string)
        _opt(self, "max_blocks", rules.at_least, 0)
        _opt(self, "efficiency", rules.fraction)
        _opt(self, "memory_fraction", rules.fraction)
        _opt(self, "l_in", rules.at_least, 1)
        _opt(self, "l_out", rules.at_least, 1)
        for k in ("memory_bytes", "decode_s", "prefill_s0", "prefill_s1"):
            _opt(self, k, rules.nonneg)
        for k in ("forward_rps", "network_rps", "inference_rps"):
            _opt(self, k, rules.positive)
        if self.kind == "explicit":
            for k in ("memory_bytes", "decode_s", "prefill_s0"):
                if getattr(self, k) is None:
                    raise SpecError([k], "missing field")


#: The figures of an explicit client device (besides ``id``, ``site``, ``count``).
CLIENT_DEVICE_NUMBERS = ("memory_bytes", "decode_s", "prefill_s0", "prefill_s1")


@dataclass(frozen=True)
class ClusterClientSpec:
    """One ``clients`` entry: ``count`` clients ``id-0 ..`` (one named ``id`` when
    ``count`` is absent) in ``site``. ``short``: the file spelled it as a bare id.

    A client may name the device it runs blocks on (the joint model): a catalogue
    ``device`` (with ``memory_fraction`` and ``efficiency`` in (0, 1] and the design
    request ``l_in``/``l_out`` tokens), or explicit figures (``memory_bytes`` usable,
    ``decode_s`` s per token per block, ``prefill_s0`` + ``prefill_s1`` x l_in s per
    block). A client naming no device runs no block (the many-server model)."""

    id: str
    count: int | None = None
    site: str | None = None
    short: bool = False
    device: str | None = None
    memory_fraction: float | None = None
    efficiency: float | None = None
    l_in: int | None = None
    l_out: int | None = None
    memory_bytes: float | None = None
    decode_s: float | None = None
    prefill_s0: float | None = None
    prefill_s1: float | None = None

    @property
    def size(self) -> int:
        return 1 if self.count is None else self.count

    @property
    def kind(self) -> str:
        """``device`` (a catalogue device), ``explicit`` (numbers) or ``none`` (runs
        no block)."""
        if self.device is not None:
            return "device"
        if any(getattr(self, k) is not None for k in CLIENT_DEVICE_NUMBERS):
            return "explicit"
        return "none"

    def __post_init__(self) -> None:
        rules.string(self.id, "id")
        if not self.id:
            raise SpecError(["id"], "client id must be a non-empty string")
        _count(self.count, MAX_CLIENTS, "clients")
        _opt(self, "site", rules.string)
        _opt(self, "device", rules.string)
        _opt(self, "memory_fraction", rules.fraction)
        _opt(self, "efficiency", rules.fraction)
        _opt(self, "l_in", rules.at_least, 1)
        _opt(self, "l_out", rules.at_least, 1)
        for k in CLIENT_DEVICE_NUMBERS:
            _opt(self, k, rules.nonneg)
        kind = self.kind
        if kind == "device":
            for k in CLIENT_DEVICE_NUMBERS:
                if getattr(self, k) is not None:
                    raise SpecError(
                        [k], "give either a catalogue device or explicit figures, not both"
                    )
        else:
            for k in ("memory_fraction", "efficiency", "l_in", "l_out"):
                if getattr(self, k) is not None:
                    raise SpecError([k], "applies only with a catalogue device (field device)")
        if kind == "explicit":
            for k in ("memory_bytes", "decode_s", "prefill_s0"):
                if getattr(self, k) is None:
                    raise SpecError([k], "missing field (an explicit client device)")
        if self.short and kind != "none":  # pragma: no cover - a bare id holds nothing else
            raise SpecError(["id"], "a bare client id names no device")


@dataclass(frozen=True)
class OverheadsSpec:
    """Round-trip overheads added to a network RTT (s): per token ``token_s``; prefill
    ``prefill_s + prefill_per_token_s x l_in``; or ``preset`` (``paper``)."""

    preset: str | None = None
    token_s: float | None = None
    prefill_s: float | None = None
    prefill_per_token_s: float | None = None

    def __post_init__(self) -> None:
        if self.preset is not None:
            rules.choice(self.preset, OVERHEAD_PRESETS, "preset")
        for k in ("token_s", "prefill_s", "prefill_per_token_s"):
            _opt(self, k, rules.nonneg)


Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class NetworkSpec:
    """The network: ``explicit`` round trips (clients x servers matrices, s),
    a ``matrix`` of network RTTs plus ``overheads``, or ``clustered`` (``intra_rtt_s``
    inside a site, ``inter_rtt_s`` between sites, plus ``overheads``). ``server_rtt_s``
    (explicit and matrix; servers x servers, s): the servers' own network round trips,
    which PETALS's router costs a server-to-server hop by (clustered networks derive
    them from the sites)."""

    kind: str
    rtt_s: Matrix | None = None
    prefill_rtt_s: Matrix | None = None
    prefill_rtt_per_token_s: Matrix | None = None
    network_rtt_s: Matrix | None = None
    intra_rtt_s: float | None = None
    inter_rtt_s: float | None = None
    intra_bandwidth_bps: float | None = None
    inter_bandwidth_bps: float | None = None
    overheads: OverheadsSpec | None = None
    server_rtt_s: Matrix | None = None

    def __post_init__(self) -> None:
        rules.choice(self.kind, NETWORK_KINDS, "kind")
        if self.kind == "topology":
            raise SpecError(
                ["kind"],
                "topology networks (Topology Zoo graphs) are not supported in this version yet",
            )
        need = {
            "explicit": ("rtt_s", "prefill_rtt_s"),
            "matrix": ("network_rtt_s",),
            "clustered": ("intra_rtt_s", "inter_rtt_s"),
        }[self.kind]
        for k in need:
            if getattr(self, k) is None:
                raise SpecError([k], "missing field")
        _opt(self, "intra_rtt_s", rules.nonneg)
        _opt(self, "inter_rtt_s", rules.nonneg)
        _opt(self, "intra_bandwidth_bps", rules.positive)
        _opt(self, "inter_bandwidth_bps", rules.positive)


@dataclass(frozen=True)
class JobSpec:
    """One ``workload.jobs`` entry: ``count`` requests of client ``client`` (id, or
    index) with ``l_in`` prompt and ``l_out`` generated tokens."""

    client: str | int
    l_in: int
    l_out: int
    count: int | None = None
    id: str | None = None

    @property
    def size(self) -> int:
        return 1 if self.count is None else self.count

    def __post_init__(self) -> None:
        if not isinstance(self.client, str):
            rules.at_least(self.client, 0, "client")
        rules.at_least(self.l_in, 1, "l_in")
        rules.at_least(self.l_out, 1, "l_out")
        _count(self.count, MAX_JOBS, "jobs")
        _opt(self, "id", rules.string)


@dataclass(frozen=True)
class WorkloadSpec:
    """The workload: the offline request set ``jobs``, and for the online simulator
    the Poisson ``arrival_rate_per_s`` (requests/s), ``num_requests`` per run and the
    ``seed`` of the first run (``simulate --seed`` overrides it)."""

    jobs: tuple[JobSpec, ...] = ()
    arrival_rate_per_s: float | None = None
    num_requests: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "jobs", tuple(self.jobs))
        _opt(self, "arrival_rate_per_s", rules.positive)
        _opt(self, "num_requests", rules.at_least, 1)
        if self.num_requests is not None and self.num_requests > MAX_REQUESTS:
            raise SpecError(
                ["num_requests"],
                f"at most {MAX_REQUESTS:,} per run (our limit), got {self.num_requests:,}",
            )
        _opt(self, "seed", rules.at_least, 0)
        total = 0
        for i, j in enumerate(self.jobs):
            total += j.size
            if total > MAX_JOBS:
                raise SpecError(
                    ["jobs", i, "count"], f"more than {MAX_JOBS:,} jobs in all (our limit)"
                )


@dataclass(frozen=True)
class ClusterSpec:
    """A cluster file as values: name, model, server and client entries, network,
    workload and free-form ``meta`` (deep-frozen). The totals after expansion are
    bounded here, before anything is expanded."""

    name: str
    model: ClusterModelSpec
    servers: tuple[ClusterServerSpec, ...]
    clients: tuple[ClusterClientSpec, ...]
    network: NetworkSpec
    workload: WorkloadSpec = field(default_factory=WorkloadSpec)
    meta: Mapping[str, Any] = field(default_factory=Meta)

    def __post_init__(self) -> None:
        rules.string(self.name, "name")
        object.__setattr__(self, "servers", tuple(self.servers))
        object.__setattr__(self, "clients", tuple(self.clients))
        if not self.servers:
            raise SpecError(["servers"], "must hold at least one server")
        if not self.clients:
            raise SpecError(["clients"], "must hold at least one client")
        if not isinstance(self.meta, Meta):
            object.__setattr__(self, "meta", Meta(self.meta))
        S = _total(self.servers, MAX_SERVERS, "servers")
        C = _total(self.clients, MAX_CLIENTS, "clients")
        if S * C > MAX_CELLS:
            raise SpecError(
                ["clients"],
                f"{C:,} clients x {S:,} servers = {S * C:,} round trips, more than "
                f"{MAX_CELLS:,} (our limit)",
            )

    @property
    def num_servers(self) -> int:
        return sum(s.size for s in self.servers)

    @property
    def num_clients(self) -> int:
        return sum(c.size for c in self.clients)

    @property
    def has_client_devices(self) -> bool:
        """Whether some client entry names a device (the joint model applies)."""
        return any(c.kind != "none" for c in self.clients)

    def replace(self, **changes: Any) -> ClusterSpec:
        return dataclasses.replace(self, **changes)


def _total(entries: tuple, limit: int, what: str) -> int:
    total = 0
    for i, e in enumerate(entries):
        total += e.size
        if total > limit:
            where: list[str | int] = [what, i, *(["count"] if e.count is not None else [])]
            raise SpecError(where, f"more than {limit:,} {what} in all (our limit)")
    return total


__all__ = [
    "CLIENT_DEVICE_NUMBERS",
    "NETWORK_KINDS",
    "OVERHEAD_PRESETS",
    "ClusterClientSpec",
    "ClusterModelSpec",
    "ClusterServerSpec",
    "ClusterSpec",
    "JobSpec",
    "NetworkSpec",
    "OverheadsSpec",
    "WorkloadSpec",
]
