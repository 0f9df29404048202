"""Problem data: the split problem of one request and an instance of many.

Everything here is immutable once built. Arrays are float64 numpy arrays with
the write flag cleared; they are validated once, at construction.

Units (see SPEC §1): times in seconds, memory in bytes, server work in the
instance's ``work_unit`` (``"FLOP"`` or ``"s"``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from splitopt.errors import DataError

Location = Literal["client", "server"]
LOCATIONS: tuple[str, str] = ("client", "server")
WORK_UNITS: tuple[str, str] = ("FLOP", "s")

#: Per-layer array fields (length L) and per-boundary array fields (length L + 1).
LAYER_FIELDS: tuple[str, ...] = (
    "client_time_s",
    "server_time_s",
    "server_work",
    "client_memory_bytes",
)
BOUNDARY_FIELDS: tuple[str, ...] = ("uplink_s", "downlink_s")


def _array(name: str, values: object, length: int | None) -> np.ndarray:
    """A validated read-only float64 copy of ``values`` (finite, >= 0)."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64 and not values.flags.writeable:
        arr = values  # already validated and frozen (shared by many requests)
    else:
        try:
            arr = np.array(values, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise DataError(name, f"not an array of numbers ({exc})") from None
    if arr.ndim != 1:
        raise DataError(name, f"must be a one-dimensional array, got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise DataError(name, f"has length {arr.shape[0]}, expected {length}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(name, f"must be finite, got {arr[i]!r}", i)
    neg = arr < 0
    if neg.any():
        i = int(np.argmax(neg))
        raise DataError(name, f"must be non-negative, got {arr[i]!r}", i)
    if arr.flags.writeable:
        arr.setflags(write=False)
    return arr


#: Smallest accepted SLA in seconds (our assumption: one nanosecond, far below any
#: real inference SLA). Ticks SLA/grid and the ILPs' power-of-two row scalings stay
#: normal, finite floats above it; a subnormal SLA used to crash them (issue 9).
MIN_SLA_S = 1e-9


def _scalar(name: str, value: object, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DataError(name, f"must be a number, got {value!r}")
    try:
        x = float(value)
    except OverflowError:
        raise DataError(name, "must be finite") from None
    if not math.isfinite(x):
        raise DataError(name, f"must be finite, got {x!r}")
    if positive and x <= 0:
        raise DataError(name, f"must be > 0, got {x!r}")
    if x < 0:
        raise DataError(name, f"must be non-negative, got {x!r}")
    return x


@dataclass(frozen=True, eq=False, slots=True)
class Chain:
    """The numbers of one split problem (SPEC §1), without identity or weight.

    Many requests of the same class share one ``Chain``; solvers solve each
    distinct chain once.

    Attributes:
        client_time_s: a_l, seconds the client needs for layer l (length L).
        server_time_s: c_l, seconds the server needs for layer l (length L).
        server_work: w_l, server cost of layer l in the instance's work unit (length L).
        uplink_s: u_b, client-to-server transfer seconds at boundary b (length L + 1).
        downlink_s: v_b, server-to-client transfer seconds at boundary b (length L + 1).
        client_memory_bytes: m_l, client bytes layer l needs when it runs there (length L).
        sla_s: D, the latency SLA in seconds (> 0).
        memory_budget_bytes: M, client bytes available, or ``None`` for unlimited.
        start: where the input is (``"client"`` or ``"server"``).
        end: where the output must be (``"client"`` or ``"server"``).
    """

    client_time_s: np.ndarray
    server_time_s: np.ndarray
    server_work: np.ndarray
    uplink_s: np.ndarray
    downlink_s: np.ndarray
    client_memory_bytes: np.ndarray
    sla_s: float
    memory_budget_bytes: float | None = None
    start: str = "client"
    end: str = "client"
    key: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        s = object.__setattr__
        ct = _array("client_time_s", self.client_time_s, None)
        n = ct.shape[0]
        if n == 0:
            raise DataError("client_time_s", "a request needs at least one layer")
        s(self, "client_time_s", ct)
        s(self, "server_time_s", _array("server_time_s", self.server_time_s, n))
        s(self, "server_work", _array("server_work", self.server_work, n))
        s(self, "uplink_s", _array("uplink_s", self.uplink_s, n + 1))
        s(self, "downlink_s", _array("downlink_s", self.downlink_s, n + 1))
        s(self, "client_memory_bytes", _array("client_memory_bytes", self.client_memory_bytes, n))
        s(self, "sla_s", _scalar("sla_s", self.sla_s, positive=True))
        if self.sla_s < MIN_SLA_S:
            raise DataError(
                "sla_s",
                f"must be >= {MIN_SLA_S:g} s (one nanosecond; smaller SLAs underflow the "
                f"solvers' ticks and scalings), got {self.sla_s!r}",
            )
        if self.memory_budget_bytes is not None:
            s(self, "memory_budget_bytes", _scalar("memory_budget_bytes", self.memory_budget_bytes))
        for name in ("start", "end"):
            if getattr(self, name) not in LOCATIONS:
                raise DataError(name, f"must be 'client' or 'server', got {getattr(self, name)!r}")
        h = hashlib.blake2b(digest_size=16)
        for name in LAYER_FIELDS + BOUNDARY_FIELDS:
            h.update(getattr(self, name).tobytes())
        h.update(repr((self.sla_s, self.memory_budget_bytes, self.start, self.end)).encode())
        s(self, "key", h.digest())

    @property
    def num_layers(self) -> int:
        """L, the number of layers."""
        return int(self.client_time_s.shape[0])

    @property
    def has_memory_budget(self) -> bool:
        """Whether a finite client memory budget constrains this request."""
        return self.memory_budget_bytes is not None

    @property
    def budget(self) -> float:
        """M as a float (``inf`` when unlimited)."""
        return math.inf if self.memory_budget_bytes is None else self.memory_budget_bytes

    def replace(self, **changes: object) -> Chain:
        """A copy with some fields changed (validated again)."""
        values = {
            name: getattr(self, name)
            for name in LAYER_FIELDS
            + BOUNDARY_FIELDS
            + ("sla_s", "memory_budget_bytes", "start", "end")
        }
        values.update(changes)
        return Chain(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False, slots=True)
class Request:
    """One request: an id, a weight (count or arrival rate), its :class:`Chain`,
    and free-form descriptors in ``meta`` (model, model_family, client, network,
    prompt_tokens, output_tokens, class, ... as the scenario compiler sets them)."""

    id: str
    chain: Chain
    weight: float = 1.0
    meta: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise DataError("id", f"must be a non-empty string, got {self.id!r}")
        if not isinstance(self.chain, Chain):
            raise DataError("chain", "must be a Chain")
        object.__setattr__(self, "weight", _scalar("weight", self.weight))
        if self.meta is not None and not isinstance(self.meta, Mapping):
            raise DataError("meta", "must be a mapping")

    @classmethod
    def from_arrays(
        cls,
        id: str,
        *,
        client_time_s: object,
        server_time_s: object,
        server_work: object,
        uplink_s: object,
        downlink_s: object,
        sla_s: float,
        client_memory_bytes: object | None = None,
        memory_budget_bytes: float | None = None,
        weight: float = 1.0,
        start: str = "client",
        end: str = "client",
        meta: Mapping[str, Any] | None = None,
    ) -> Request:
        """Build a request from its fields as named in the problem file."""
        if client_memory_bytes is None:
            client_memory_bytes = np.zeros(len(client_time_s))  # type: ignore[arg-type]
        chain = Chain(
            client_time_s=client_time_s,  # type: ignore[arg-type]
            server_time_s=server_time_s,  # type: ignore[arg-type]
            server_work=server_work,  # type: ignore[arg-type]
            uplink_s=uplink_s,  # type: ignore[arg-type]
            downlink_s=downlink_s,  # type: ignore[arg-type]
            client_memory_bytes=client_memory_bytes,  # type: ignore[arg-type]
            sla_s=sla_s,
            memory_budget_bytes=memory_budget_bytes,
            start=start,
            end=end,
        )
        return cls(id=id, chain=chain, weight=weight, meta=meta)

    def __getattr__(self, name: str) -> object:
        # Flat access to the chain's fields: request.sla_s, request.uplink_s, ...
        if name in Chain.__dataclass_fields__ or name in ("num_layers", "budget"):
            return getattr(self.chain, name)
        raise AttributeError(name)


@dataclass(frozen=True, eq=False)
class Problem:
    """An instance: named, with a work unit and a tuple of requests (unique ids).

    ``chains`` holds the distinct chains (by content) and ``chain_index[i]`` the
    position of request i's chain in it, so solvers can solve each once.
    """

    name: str
    requests: tuple[Request, ...]
    work_unit: str = "FLOP"
    chains: tuple[Chain, ...] = field(init=False, repr=False)
    chain_index: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise DataError("name", f"must be a string, got {self.name!r}")
        if self.work_unit not in WORK_UNITS:
            raise DataError(
                "work_unit", f"must be one of {', '.join(WORK_UNITS)}, got {self.work_unit!r}"
            )
        reqs = tuple(self.requests)
        object.__setattr__(self, "requests", reqs)
        seen: dict[str, int] = {}
        by_key: dict[bytes, int] = {}
        by_obj: dict[int, int] = {}
        chains: list[Chain] = []
        index = np.empty(len(reqs), dtype=np.int64)
        for i, r in enumerate(reqs):
            if not isinstance(r, Request):
                raise DataError("requests", f"item {i} is not a Request")
            if r.id in seen:
                raise DataError(
                    "id", f"duplicate request id {r.id!r} (also request {seen[r.id]})", i
                )
            seen[r.id] = i
            j = by_obj.get(id(r.chain))
            if j is None:
                j = by_key.get(r.chain.key)
                if j is None:
                    j = len(chains)
                    chains.append(r.chain)
                    by_key[r.chain.key] = j
                by_obj[id(r.chain)] = j
            index[i] = j
        index.setflags(write=False)
        object.__setattr__(self, "chains", tuple(chains))
        object.__setattr__(self, "chain_index", index)

    def __len__(self) -> int:
        return len(self.requests)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.requests)

    @property
    def weights(self) -> np.ndarray:
        """ω per request (float64, length = number of requests)."""
        return np.fromiter((r.weight for r in self.requests), dtype=np.float64, count=len(self))

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.requests]

    def subset(self, indices: Iterable[int], name: str | None = None) -> Problem:
        """A problem with only the requests at ``indices`` (in that order)."""
        return Problem(
            name=name or self.name,
            requests=tuple(self.requests[i] for i in indices),
            work_unit=self.work_unit,
        )

    def with_chains(self, chains: Sequence[Chain], name: str | None = None) -> Problem:
        """The same requests with their distinct chains replaced one for one."""
        if len(chains) != len(self.chains):
            raise ValueError("need one replacement per distinct chain")
        reqs = tuple(
            Request(id=r.id, chain=chains[int(j)], weight=r.weight, meta=r.meta)
            for r, j in zip(self.requests, self.chain_index, strict=True)
        )
        return Problem(name=name or self.name, requests=reqs, work_unit=self.work_unit)
