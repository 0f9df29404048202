"""The many-server model (SPEC-PLACEMENT P1): blocks, servers, clients, jobs, placements.

Everything here is immutable and validated once, at construction. Units: bytes,
seconds, tokens. Server and client indices are 0-based positions in
:attr:`Cluster.servers` / :attr:`Cluster.clients`; block numbers are 1-based
(blocks ``1..L``), as in the paper (Sun, He, Ji, Parag, arXiv:2512.21884, Sec. III).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from splitopt.errors import DataError
from splitopt.problem import Meta

#: A request's route: server indices ``j_1 .. j_k`` in processing order.
Route = tuple[int, ...]

# Size limits (ours), checked before anything of that size is built: a cluster file's
# counts are checked against them before expansion (splitopt.scenario.cluster_spec).
#: Most blocks of a model (real models have ~100; placements and PETALS hold O(L) per server).
MAX_BLOCKS = 100_000
#: Most servers of a cluster.
MAX_SERVERS = 100_000
#: Most clients of a cluster.
MAX_CLIENTS = 100_000
#: Most round-trip entries (clients x servers) per matrix (each is 8 bytes, four matrices).
MAX_CELLS = 10_000_000
#: Most offline jobs of a cluster.
MAX_JOBS = 1_000_000
#: Most requests per simulated run: the simulator keeps every request's records
#: (times, route) in memory, so a run of 10^7 takes a few GB and minutes.
MAX_REQUESTS = 10_000_000


def _num(name: str, value: object, *, positive: bool = False, index: int | None = None) -> float:
    if isinstance(value, bool):
        raise DataError(name, f"must be a number, got {value!r}", index)
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise DataError(name, f"must be a number, got {value!r}", index) from None
    if not math.isfinite(x):
        raise DataError(name, f"must be finite, got {value!r}", index)
    if x < 0 or (positive and x == 0):
        raise DataError(
            name, f"must be {'> 0' if positive else 'non-negative'}, got {value!r}", index
        )
    return x


def _int(name: str, value: object, *, minimum: int = 0, index: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise DataError(name, f"must be a whole number, got {value!r}", index)
    if int(value) < minimum:
        raise DataError(name, f"must be >= {minimum}, got {value!r}", index)
    return int(value)


def _frozen(arr: np.ndarray) -> np.ndarray:
    """A read-only copy backed by an immutable ``bytes`` buffer: unlike an array with
    its write flag cleared, it can never be made writable again (``setflags`` refuses)."""
    arr = np.ascontiguousarray(arr)
    out = np.frombuffer(arr.tobytes(), dtype=arr.dtype).reshape(arr.shape)
    return out


@dataclass(frozen=True)
class BlockModel:
    """The model being served: ``L`` identical transformer blocks.

    ``block_bytes`` (s_m) is the server memory one hosted block takes (weights in
    the deployed dtype); ``cache_bytes_per_token`` is the attention (KV) cache one
    token takes *per block*: 2 x kv_heads x head_dim x cache-dtype bytes.
    """

    num_blocks: int
    block_bytes: float
    cache_bytes_per_token: float
    name: str = ""
    hidden_size: int = 0  # d_model; 0 = unknown (used only by PETALS's autograd reserve)

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_blocks", _int("num_blocks", self.num_blocks, minimum=1))
        if self.num_blocks > MAX_BLOCKS:
            raise DataError(
                "num_blocks", f"at most {MAX_BLOCKS:,} blocks (our limit), got {self.num_blocks:,}"
            )
        object.__setattr__(self, "hidden_size", _int("hidden_size", self.hidden_size))
        object.__setattr__(self, "block_bytes", _num("block_bytes", self.block_bytes))
        object.__setattr__(
            self,
            "cache_bytes_per_token",
            _num("cache_bytes_per_token", self.cache_bytes_per_token),
        )

    def cache_bytes(self, l_in: int, l_out: int) -> float:
        """s_c(r): cache bytes per block a request reserves for its whole length."""
        return self.cache_bytes_per_token * (l_in + l_out)


@dataclass(frozen=True)
class Server:
    """One server: usable memory (bytes), per-block decode time (s/token/block), an
    affine per-block prefill time ``prefill_s0 + prefill_s1 * l_in`` (s/block) and an
    optional cap on the number of blocks it may host.

    ``forward_rps``, ``network_rps`` and ``inference_rps`` are the figures a PETALS
    server measures and announces (``petals/server/throughput.py``); only the
    ``petals`` algorithm reads them, and it derives them from the times when absent.
    """

    id: str
    memory_bytes: float
    decode_s: float
    prefill_s0: float
    prefill_s1: float = 0.0
    max_blocks: int | None = None
    forward_rps: float | None = None
    network_rps: float | None = None
    inference_rps: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise DataError("id", f"must be a non-empty string, got {self.id!r}")
        for name in ("memory_bytes", "decode_s", "prefill_s0", "prefill_s1"):
            object.__setattr__(self, name, _num(name, getattr(self, name)))
        for name in ("forward_rps", "network_rps", "inference_rps"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _num(name, getattr(self, name), positive=True))
        if self.max_blocks is not None:
            object.__setattr__(self, "max_blocks", _int("max_blocks", self.max_blocks))

    def prefill_s(self, l_in: int) -> float:
        """tau^I_j(l_in): prefill seconds per block for a prompt of ``l_in`` tokens."""
        return self.prefill_s0 + self.prefill_s1 * l_in


@dataclass(frozen=True)
class Job:
    """One request: issued by client ``client`` (index), ``l_in`` prompt tokens,
    ``l_out`` generated tokens."""

    client: int
    l_in: int
    l_out: int
    id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "client", _int("client", self.client))
        object.__setattr__(self, "l_in", _int("l_in", self.l_in, minimum=1))
        object.__setattr__(self, "l_out", _int("l_out", self.l_out, minimum=1))


@dataclass(frozen=True)
class Arrivals:
    """A cluster file's online workload besides its jobs (each ``None`` where the file
    does not say): Poisson arrival rate (requests/s), number of requests per simulated
    run, and the seed of the first simulated run (the arrival times and request classes
    of run ``k`` are drawn with seed ``seed + k``; ``simulate --seed`` overrides it)."""

    rate_per_s: float | None = None
    num_requests: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.rate_per_s is not None:
            object.__setattr__(
                self, "rate_per_s", _num("arrival_rate_per_s", self.rate_per_s, positive=True)
            )
        if self.num_requests is not None:
            n = _int("num_requests", self.num_requests, minimum=1)
            if n > MAX_REQUESTS:
                raise DataError("num_requests", f"at most {MAX_REQUESTS:,} (our limit), got {n:,}")
            object.__setattr__(self, "num_requests", n)
        if self.seed is not None:
            object.__setattr__(self, "seed", _int("seed", self.seed))

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.rate_per_s, self.num_requests, self.seed))


def _matrix(name: str, values: object, shape: tuple[int, int]) -> np.ndarray:
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(name, f"not a matrix of numbers ({exc})") from None
    if arr.shape != shape:
        what = "servers x servers" if name == "server_rtt_s" else "clients x servers"
        raise DataError(name, f"has shape {arr.shape}, expected {shape} ({what})")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        c, j = np.argwhere(bad)[0]
        raise DataError(
            f"{name}[{c}]", f"must be finite and non-negative, got {arr[c, j]!r}", int(j)
        )
    return _frozen(arr)


@dataclass(frozen=True, eq=False)
class Cluster:
    """A model, servers, clients with round trips to every server, and the offline
    request set ``jobs`` (all concurrent).

    An immutable value: the arrays are read-only (also after unpickling: unpickling
    re-runs the checks), ``meta`` is a deep-frozen copy (:class:`~splitopt.problem.Meta`,
    never the caller's dict), two clusters with the same content are equal and hash
    alike, and :meth:`replace` gives a changed copy. ``arrivals`` is the online
    workload besides the jobs (:class:`Arrivals`).

    ``rtt_s[c, j]`` is the per-token round trip t_cj (s); the prefill round trip is
    ``prefill_rtt_s[c, j] + prefill_rtt_per_token_s[c, j] * l_in`` (s).
    ``network_rtt_s`` is the raw network round trip (ping, without serialisation
    overheads) that PETALS's router sees; it defaults to ``rtt_s``.
    ``server_rtt_s[i, j]`` (optional) is the raw network round trip between servers i
    and j (s): PETALS's router costs a server-to-server hop by it, as PETALS does
    (without it, by the client's round trip to the next server).
    Communication is hub-and-spoke: the client relays activations between servers.
    """

    name: str
    model: BlockModel
    servers: tuple[Server, ...]
    clients: tuple[str, ...]
    rtt_s: np.ndarray
    prefill_rtt_s: np.ndarray
    # None (zeros) is accepted and replaced in __post_init__, so the field is always an array
    prefill_rtt_per_token_s: np.ndarray = None  # type: ignore[assignment]
    jobs: tuple[Job, ...] = ()
    # None (= rtt_s) is accepted and replaced in __post_init__
    network_rtt_s: np.ndarray = None  # type: ignore[assignment]
    meta: Mapping[str, Any] = field(default_factory=Meta)
    server_rtt_s: np.ndarray | None = None
    arrivals: Arrivals = field(default_factory=Arrivals)

    def __post_init__(self) -> None:
        if not isinstance(self.model, BlockModel):
            raise DataError("model", "must be a BlockModel")
        servers = tuple(self.servers)
        if not servers:
            raise DataError("servers", "must hold at least one server")
        clients = tuple(self.clients)
        for name, n, most in (
            ("servers", len(servers), MAX_SERVERS),
            ("clients", len(clients), MAX_CLIENTS),
            ("jobs", len(self.jobs), MAX_JOBS),
        ):
            if n > most:
                raise DataError(name, f"at most {most:,} (our limit), got {n:,}")
        if len(servers) * len(clients) > MAX_CELLS:
            raise DataError(
                "clients",
                f"{len(clients):,} clients x {len(servers):,} servers: more than {MAX_CELLS:,} "
                "round trips (our limit)",
            )
        for j, s in enumerate(servers):
            if not isinstance(s, Server):
                raise DataError("servers", "must be a Server", j)
        ids = [s.id for s in servers]
        seen: dict[str, int] = {}
        for j, sid in enumerate(ids):
            if sid in seen:
                raise DataError("servers", f"duplicate server id {sid!r}", j)
            seen[sid] = j
        if not clients:
            raise DataError("clients", "must hold at least one client")
        for c, cid in enumerate(clients):
            if not isinstance(cid, str) or not cid:
                raise DataError("clients", f"client id must be a non-empty string, got {cid!r}", c)
        if len(set(clients)) != len(clients):
            known: set[str] = set()
            dup = next(i for i in clients if i in known or known.add(i))  # type: ignore[func-returns-value]
            raise DataError("clients", f"duplicate client id {dup!r}")
        shape = (len(clients), len(servers))
        object.__setattr__(self, "servers", servers)
        object.__setattr__(self, "clients", clients)
        object.__setattr__(self, "rtt_s", _matrix("rtt_s", self.rtt_s, shape))
        object.__setattr__(
            self, "prefill_rtt_s", _matrix("prefill_rtt_s", self.prefill_rtt_s, shape)
        )
        per_tok = self.prefill_rtt_per_token_s
        object.__setattr__(
            self,
            "prefill_rtt_per_token_s",
            _matrix(
                "prefill_rtt_per_token_s", np.zeros(shape) if per_tok is None else per_tok, shape
            ),
        )
        net = self.network_rtt_s
        object.__setattr__(
            self,
            "network_rtt_s",
            _matrix("network_rtt_s", self.rtt_s if net is None else net, shape),
        )
        if self.server_rtt_s is not None:
            S = len(servers)
            object.__setattr__(
                self, "server_rtt_s", _matrix("server_rtt_s", self.server_rtt_s, (S, S))
            )
        jobs = tuple(self.jobs)
        for i, job in enumerate(jobs):
            if not isinstance(job, Job):
                raise DataError("jobs", "must be a Job", i)
            if job.client >= len(clients):
                raise DataError(
                    "jobs", f"client index {job.client} out of range (C = {len(clients)})", i
                )
        object.__setattr__(self, "jobs", jobs)
        if self.meta is None or not isinstance(self.meta, Mapping):
            raise DataError("meta", f"must be a mapping, got {type(self.meta).__name__}")
        if not isinstance(self.arrivals, Arrivals):
            raise DataError("arrivals", "must be an Arrivals")
        old = self.meta.get("workload")
        if isinstance(old, Mapping) and not self.arrivals:  # the old place: meta["workload"]
            object.__setattr__(
                self,
                "arrivals",
                Arrivals(old.get("arrival_rate_per_s"), old.get("num_requests"), old.get("seed")),
            )
            rest = {k: v for k, v in self.meta.items() if k != "workload"}
            object.__setattr__(self, "meta", rest)
        if not isinstance(self.meta, Meta):
            object.__setattr__(self, "meta", Meta(self.meta))

    # -- value semantics -------------------------------------------------------------------
    _ARRAYS = ("rtt_s", "prefill_rtt_s", "prefill_rtt_per_token_s", "network_rtt_s")

    def _key(self) -> tuple:
        return (
            self.name,
            self.model,
            self.servers,
            self.clients,
            self.jobs,
            self.meta,
            self.arrivals,
            *(getattr(self, a).tobytes() for a in self._ARRAYS),
            None if self.server_rtt_s is None else self.server_rtt_s.tobytes(),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cluster):
            return NotImplemented
        if self is other:
            return True
        return self._key() == other._key()

    def __hash__(self) -> int:
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash(self._key())
            object.__setattr__(self, "_hash", h)
        return h

    def __reduce__(self) -> tuple:
        # rebuilt through the constructor: the arrays come back read-only and checked
        return (_rebuild_cluster, (tuple(getattr(self, f.name) for f in dataclasses.fields(self)),))

    def replace(self, **changes: Any) -> Cluster:
        """A copy with ``changes`` (field names as the constructor's), checked anew."""
        return dataclasses.replace(self, **changes)

    # -- sizes and arrays ------------------------------------------------------------------
    @property
    def num_servers(self) -> int:
        return len(self.servers)

    @property
    def num_clients(self) -> int:
        return len(self.clients)

    @property
    def num_blocks(self) -> int:
        return self.model.num_blocks

    def memory(self) -> np.ndarray:
        """M_j per server, bytes."""
        return np.array([s.memory_bytes for s in self.servers])

    def decode(self) -> np.ndarray:
        """tau_j per server, s per token per block."""
        return np.array([s.decode_s for s in self.servers])

    def prefill(self, l_in: int) -> np.ndarray:
        """tau^I_j(l_in) per server, s per block."""
        return np.array([s.prefill_s(l_in) for s in self.servers])

    def caps(self) -> np.ndarray:
        """Block cap per server (L where none)."""
        L = self.num_blocks
        return np.array([L if s.max_blocks is None else min(s.max_blocks, L) for s in self.servers])

    def prefill_rtt(self, c: int, j: int, l_in: int) -> float:
        """t^I_cj(l_in): the prefill round trip between client ``c`` and server ``j``, s."""
        return float(self.prefill_rtt_s[c, j] + self.prefill_rtt_per_token_s[c, j] * l_in)

    def with_jobs(self, jobs: Sequence[Job]) -> Cluster:
        """The same cluster with another request set."""
        return self.replace(jobs=tuple(jobs))


def _rebuild_cluster(values: tuple) -> Cluster:
    return Cluster(*values)


@dataclass(frozen=True, eq=False)
class Placement:
    """Per server j: first block a_j (1-based; 0 where it hosts nothing) and count m_j.

    Server j hosts blocks ``first[j] .. first[j] + count[j] - 1``. Bounds against L,
    caps and memory are checked by :func:`splitopt.placement.evaluate.check_placement`.
    """

    first: np.ndarray
    count: np.ndarray

    def __post_init__(self) -> None:
        arrs = []
        for name in ("first", "count"):
            raw = np.asarray(getattr(self, name))
            if raw.ndim != 1:
                raise DataError(name, f"must be one-dimensional, got shape {raw.shape}")
            if raw.size and not np.all(np.isfinite(raw.astype(np.float64))):
                raise DataError(name, "must hold whole numbers")
            arr = raw.astype(np.int64)
            if raw.size and not np.array_equal(arr, raw):
                raise DataError(name, "must hold whole numbers")
            if (arr < 0).any():
                i = int(np.argmax(arr < 0))
                raise DataError(name, f"must be non-negative, got {arr[i]}", i)
            arrs.append(arr)
        first, count = arrs
        if first.shape != count.shape:
            raise DataError("count", f"has length {count.size}, first has {first.size}")
        first = np.where(count == 0, 0, first)
        bad = (count > 0) & (first < 1)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError("first", "must be >= 1 where the server hosts blocks", i)
        object.__setattr__(self, "first", _frozen(first))
        object.__setattr__(self, "count", _frozen(count.copy()))

    @property
    def end(self) -> np.ndarray:
        """a_j + m_j: the block after the last one hosted (the next block a request needs)."""
        return self.first + self.count

    def __len__(self) -> int:
        return int(self.count.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Placement):
            return NotImplemented
        return np.array_equal(self.first, other.first) and np.array_equal(self.count, other.count)

    def __hash__(self) -> int:
        return hash((self.first.tobytes(), self.count.tobytes()))

    def __reduce__(self) -> tuple:
        # rebuilt through the constructor: the arrays come back read-only and checked
        return (Placement, (np.array(self.first), np.array(self.count)))

    @classmethod
    def from_ranges(cls, ranges: Sequence[tuple[int, int] | None]) -> Placement:
        """From ``(first, count)`` per server (``None`` or count 0 = hosts nothing)."""
        first = [0 if r is None else r[0] for r in ranges]
        count = [0 if r is None else r[1] for r in ranges]
        return cls(np.array(first, dtype=np.int64), np.array(count, dtype=np.int64))


__all__ = [
    "MAX_BLOCKS",
    "MAX_CELLS",
    "MAX_CLIENTS",
    "MAX_JOBS",
    "MAX_REQUESTS",
    "MAX_SERVERS",
    "Arrivals",
    "BlockModel",
    "Cluster",
    "Job",
    "Placement",
    "Route",
    "Server",
]
