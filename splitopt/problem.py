"""Problem data: the split problem of one request and an instance of many.

Everything here is an immutable *value* once built:

* arrays are float64 copies over immutable ``bytes`` (:func:`frozen_array`):
  no view of a caller's array is kept, and ``setflags(write=True)`` raises;
* ``Request.meta`` is a deep-frozen :class:`Meta` (not a view of a caller's dict);
* ``Chain``, ``Request`` and ``Problem`` compare by content (``==``) and hash
  consistently with it, so they can be dict keys and set members; pickling
  rebuilds them through their constructors, so unpickled arrays are immutable too.

Data are validated once, at construction. "No memory budget" has one encoding:
``memory_budget_bytes = None`` (here, in :class:`~splitopt.discretise.TickedChain`
and in files).

Units: times in seconds, memory in bytes, server work in the
instance's ``work_unit`` (``"FLOP"`` or ``"s"``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

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


def frozen_array(values: np.ndarray) -> np.ndarray:
    """A float64 copy of ``values`` whose memory is an immutable ``bytes`` object.

    Clearing the write flag is not enough: a read-only *view* still sees changes
    made through its writable base, and ``setflags(write=True)`` turns writing
    back on. An array over ``bytes`` can do neither (numpy refuses to make it
    writable). ``-0.0`` becomes ``0.0`` so that equal values have equal bytes.
    """
    arr = np.ascontiguousarray(values, dtype=np.float64) + 0.0
    out = np.frombuffer(arr.tobytes(), dtype=np.float64)
    return out


def is_frozen(arr: object) -> bool:
    """Whether ``arr`` is a float64 array over immutable ``bytes`` (see :func:`frozen_array`)."""
    return (
        isinstance(arr, np.ndarray)
        and arr.dtype == np.float64
        and not arr.flags.writeable
        and type(arr.base) is bytes
    )


def _array(name: str, values: object, length: int | None) -> np.ndarray:
    """A validated immutable float64 array of ``values`` (finite, >= 0).

    Arrays already over immutable bytes (ours, shared by many requests) are kept;
    anything else is copied (:func:`frozen_array`), so no caller keeps a handle
    that can change a validated chain.
    """
    arr: np.ndarray
    if is_frozen(values):
        assert isinstance(values, np.ndarray)
        arr = values
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
    return arr if is_frozen(arr) else frozen_array(arr)


#: Smallest accepted SLA in seconds (our assumption: one nanosecond, far below any
#: real inference SLA). Ticks SLA/grid and the ILPs' power-of-two row scalings stay
#: normal, finite floats above it; a subnormal SLA used to crash them.
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
    return x + 0.0  # -0.0 -> 0.0: equal values, equal digests


_META_SCALARS = (str, int, float, bool, type(None))


def _freeze(path: str, value: object) -> object:
    """A deeply immutable copy of a JSON-like value (see :class:`Meta`)."""
    if isinstance(value, _META_SCALARS):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return value if isinstance(value, Meta) else Meta(value, _path=path)
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_freeze(f"{path}[{i}]", v) for i, v in enumerate(value))
    if isinstance(value, (set, frozenset)):
        return frozenset(_freeze(path, v) for v in value)
    kind = type(value).__name__
    raise DataError(path, f"must be a string, number, boolean, null, list or mapping, got {kind}")


def _thaw(value: object) -> object:
    if isinstance(value, Meta):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    if isinstance(value, frozenset):
        return sorted((_thaw(v) for v in value), key=repr)
    return value


class Meta(Mapping[str, Any]):
    """An immutable, hashable, picklable mapping of request descriptors.

    Built from any mapping by a deep copy that freezes as it goes: nested
    mappings become :class:`Meta`, lists and tuples become tuples, sets
    frozensets; numpy scalars become Python numbers. Values must be JSON-like
    (strings, numbers, booleans, ``None``, lists, mappings); keys strings. The
    caller's dict is never kept, so changing it later changes nothing here.
    :meth:`to_dict` gives back plain dicts and lists (for JSON).
    """

    __slots__ = ("_hash", "_items")
    _items: dict[str, Any]
    _hash: int | None

    def __init__(self, items: Mapping[str, Any] | None = None, *, _path: str = "meta") -> None:
        data: dict[str, Any] = {}
        for k, v in (items or {}).items():
            if not isinstance(k, str):
                raise DataError(_path, f"keys must be strings, got {k!r}")
            data[k] = _freeze(f"{_path}.{k}", v)
        object.__setattr__(self, "_items", data)
        object.__setattr__(self, "_hash", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Meta is immutable")

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash(frozenset(self._items.items()))
            object.__setattr__(self, "_hash", h)
        return h

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self._items) == dict(other.items())

    def __repr__(self) -> str:
        return f"Meta({self._items!r})"

    def __reduce__(self) -> tuple:
        return (Meta, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """Plain (mutable, JSON-ready) dicts and lists of the same content."""
        return {k: _thaw(v) for k, v in self._items.items()}


@dataclass(frozen=True, eq=False, slots=True)
class Chain:
    """The numbers of one split problem, without identity or weight.

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
        s(self, "key", self._digest())

    def _digest(self) -> bytes:
        h = hashlib.blake2b(digest_size=16)
        for name in LAYER_FIELDS + BOUNDARY_FIELDS:
            h.update(getattr(self, name).tobytes())
        h.update(repr((self.sla_s, self.memory_budget_bytes, self.start, self.end)).encode())
        return h.digest()

    @classmethod
    def _from_checked(cls, **values: Any) -> Chain:
        """A chain of values that already passed these very checks, over all chains at
        once (:class:`~splitopt.ragged.BatchProblem`): float64 arrays, canonical
        (no ``-0.0``), finite, non-negative, of matching lengths; a valid SLA, budget
        and ends. The arrays are copied into immutable memory as usual; only the
        checks are not repeated. Internal: anything else goes through ``Chain(...)``."""
        self = object.__new__(cls)
        for name in _ARRAY_FIELDS:
            object.__setattr__(self, name, frozen_array(values[name]))
        for name in ("sla_s", "memory_budget_bytes", "start", "end"):
            object.__setattr__(self, name, values[name])
        object.__setattr__(self, "key", self._digest())
        return self

    # Value semantics: two chains are equal when every number is (the arrays are
    # canonical -- -0.0 stored as 0.0 -- so equal values have equal bytes and the
    # content digest ``key`` is a consistent hash).
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Chain):
            return NotImplemented
        if self is other:
            return True
        return (
            self.key == other.key
            and all(
                getattr(self, f).tobytes() == getattr(other, f).tobytes() for f in _ARRAY_FIELDS
            )
            and (self.sla_s, self.memory_budget_bytes, self.start, self.end)
            == (
                other.sla_s,
                other.memory_budget_bytes,
                other.start,
                other.end,
            )
        )

    def __hash__(self) -> int:
        return hash(self.key)

    def __reduce__(self) -> tuple:
        # Rebuilt through the constructor, so unpickled arrays are immutable again.
        return (_chain_from_state, tuple(getattr(self, f) for f in _CHAIN_INIT))

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
        """M for arithmetic: ``memory_budget_bytes``, or ``inf`` when there is none.

        A derived view, not a second encoding: "no budget" is stored only as
        ``memory_budget_bytes = None``.
        """
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


_ARRAY_FIELDS: tuple[str, ...] = LAYER_FIELDS + BOUNDARY_FIELDS
_CHAIN_INIT: tuple[str, ...] = (
    "client_time_s",
    "server_time_s",
    "server_work",
    "uplink_s",
    "downlink_s",
    "client_memory_bytes",
    "sla_s",
    "memory_budget_bytes",
    "start",
    "end",
)


def _chain_from_state(*values: object) -> Chain:
    return Chain(**dict(zip(_CHAIN_INIT, values, strict=True)))  # type: ignore[arg-type]


#: Chain properties a Request forwards besides the fields (``request.num_layers``, ...).
_FORWARDED: tuple[str, ...] = ("num_layers", "has_memory_budget", "budget")


@dataclass(frozen=True, eq=False, slots=True)
class Request:
    """One request: an id, a weight (count or arrival rate), its :class:`Chain`,
    and free-form descriptors in ``meta`` (model, model_family, client, network,
    prompt_tokens, output_tokens, class, ... as the scenario compiler sets them)."""

    id: str
    chain: Chain
    weight: float = 1.0
    meta: Meta | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise DataError("id", f"must be a non-empty string, got {self.id!r}")
        if not isinstance(self.chain, Chain):
            raise DataError("chain", "must be a Chain")
        object.__setattr__(self, "weight", _scalar("weight", self.weight))
        if self.meta is not None:
            if not isinstance(self.meta, Mapping):
                raise DataError("meta", "must be a mapping")
            if not isinstance(self.meta, Meta):  # a Meta is immutable: shared, not copied
                object.__setattr__(self, "meta", Meta(self.meta))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Request):
            return NotImplemented
        return (self.id, self.weight, self.chain, self.meta) == (
            other.id,
            other.weight,
            other.chain,
            other.meta,
        )

    def __hash__(self) -> int:
        return hash((self.id, self.weight, self.chain, self.meta))

    def __reduce__(self) -> tuple:
        return (Request, (self.id, self.chain, self.weight, self.meta))

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
        # __post_init__ checks and converts any mapping
        return cls(id=id, chain=chain, weight=weight, meta=cast("Meta | None", meta))

    def __getattr__(self, name: str) -> Any:
        # Flat access to the chain's fields: request.sla_s, request.uplink_s, ...
        if name in Chain.__dataclass_fields__ or name in _FORWARDED:
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
        by_value: dict[Chain, int] = {}
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
                j = by_value.get(r.chain)
                if j is None:
                    j = len(chains)
                    chains.append(r.chain)
                    by_value[r.chain] = j
                by_obj[id(r.chain)] = j
            index[i] = j
        object.__setattr__(self, "chains", tuple(chains))
        object.__setattr__(self, "chain_index", np.frombuffer(index.tobytes(), dtype=np.int64))

    # Value semantics: equal name, work unit and requests (in order). The hash is
    # computed once; Problems are immutable.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return self is other or (
            self.name == other.name
            and self.work_unit == other.work_unit
            and self.requests == other.requests
        )

    def __hash__(self) -> int:
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.name, self.work_unit, self.requests))
            object.__setattr__(self, "_hash", h)
        return h

    @property
    def distinct_requests(self) -> bool:
        """Whether every request has a chain of its own. Chains are numbered in the
        order of their first request, so ``chain_index`` is then 0, 1, ..., n - 1."""
        return len(self.chains) == len(self.requests)

    def __reduce__(self) -> tuple:
        # Rebuilt through the constructor: chains deduplicated and frozen again.
        return (Problem, (self.name, self.requests, self.work_unit))

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
