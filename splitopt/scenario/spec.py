"""The scenario types (SPEC §5) and their rules, checked in their constructors.

A :class:`Scenario` names a server, clients (device, network, memory budget),
models (architecture, dtype, granularity) and request classes. Every rule of a
valid scenario lives here: a broken one raises
:class:`~splitopt.errors.SpecError` whose path is the field's path in the
scenario file (``requests[2].output_tokens``), so file readers only add the
file name. Files are read and written by :mod:`splitopt.formats.scenario_file`.

Units: bytes, seconds, tokens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from splitopt.errors import SpecError
from splitopt.problem import LOCATIONS, WORK_UNITS
from splitopt.scenario import rules
from splitopt.scenario.architectures import GRANULARITIES, Architecture
from splitopt.scenario.costmodel import COMPUTE_DTYPES, DEFAULT_COMPUTE, WEIGHT_DTYPES
from splitopt.scenario.devices import Device
from splitopt.scenario.networks import Network
from splitopt.scenario.profiles import Profile


class _DeviceMemory:
    def __repr__(self) -> str:
        return "DEVICE_MEMORY"


#: ``ClientSpec.memory_budget_bytes`` default: the client device's whole memory.
DEVICE_MEMORY: Final = _DeviceMemory()


@dataclass(frozen=True)
class ServerSpec:
    """The server: a device (its engine figures already applied) and measured
    profiles that replace the roofline for the models they were measured for."""

    device: Device
    profiles: tuple[Profile, ...] = ()

    def __post_init__(self) -> None:
        _check_profiles(self.profiles)


def _check_profiles(profiles: tuple[Profile, ...]) -> None:
    seen: set[tuple[str, str, str]] = set()
    for i, p in enumerate(profiles):
        if not isinstance(p, Profile):
            raise SpecError(["profiles", i], "must be a profile")
        key = (p.model, p.dtype, p.granularity)
        if key in seen:
            raise SpecError(["profiles", i], f"a second profile for {key}")
        seen.add(key)


def profile_for(profiles: tuple[Profile, ...], model: ModelSpec) -> Profile | None:
    """The profile measured for ``model`` (architecture, dtype, granularity), if any."""
    for p in profiles:
        if p.matches(model.architecture.name, model.dtype, model.granularity):
            return p
    return None


@dataclass(frozen=True)
class ClientSpec:
    """A client: device, network path to the server, memory budget, measured
    profiles (see :class:`ServerSpec`).

    ``memory_budget_bytes``: bytes for the model, ``None`` for unlimited; by
    default (:data:`DEVICE_MEMORY`) the device's memory.
    """

    name: str
    device: Device
    network: Network
    memory_budget_bytes: float | None = DEVICE_MEMORY  # type: ignore[assignment]
    profiles: tuple[Profile, ...] = ()

    def __post_init__(self) -> None:
        rules.typed_fields(self)
        object.__setattr__(self, "profiles", tuple(self.profiles))
        _check_profiles(self.profiles)
        b = self.memory_budget_bytes
        if b is DEVICE_MEMORY:
            b = self.device.memory_bytes
        if b is not None:
            rules.nonneg(b, "memory_budget_bytes")
            b = float(b)
        object.__setattr__(self, "memory_budget_bytes", b)


@dataclass(frozen=True)
class ModelSpec:
    """A deployed model: architecture, weight dtype, compute dtype, granularity.

    ``compute_dtype`` defaults to the weight dtype, but fp16 for int8/int4
    (weight-only quantisation).
    """

    name: str
    architecture: Architecture
    dtype: str = "bf16"
    compute_dtype: str | None = None
    granularity: str = "block"

    def __post_init__(self) -> None:
        rules.typed_fields(self)
        rules.choice(self.dtype, WEIGHT_DTYPES, "dtype")
        if self.compute_dtype is None:
            object.__setattr__(self, "compute_dtype", DEFAULT_COMPUTE[self.dtype])
        rules.choice(self.compute_dtype, COMPUTE_DTYPES, "compute_dtype")
        rules.choice(self.granularity, GRANULARITIES, "granularity")


#: RequestClass attributes spelled differently in scenario files.
REQUEST_FILE_NAMES: dict[str, str] = {"name": "class"}


@dataclass(frozen=True)
class RequestClass:
    """Identical requests: ``count`` of them (weight 1 each), or one with weight ``rate``.

    ``prompt_tokens`` (n) may be ``None`` for a vision model: the
    :class:`Scenario` fills in the fixed sequence length of its image.
    """

    name: str
    client: str
    model: str
    prompt_tokens: int | None
    output_tokens: int = 0
    sla_s: float = 1.0
    count: int = 1
    rate: float | None = None
    start: str = "client"
    end: str = "client"

    def __post_init__(self) -> None:
        rules.typed_fields(self)
        if not self.name or "/" in self.name:
            raise SpecError(["name"], "must be a non-empty name without '/'")
        if self.prompt_tokens is not None:
            rules.at_least(self.prompt_tokens, 1, "prompt_tokens")
        rules.at_least(self.output_tokens, 0, "output_tokens")
        rules.positive(self.sla_s, "sla_s")
        rules.at_least(self.count, 1, "count")
        if self.rate is not None:
            if self.count != 1:
                raise SpecError(["rate"], "give count or rate, not both")
            rules.positive(self.rate, "rate")
        rules.choice(self.start, LOCATIONS, "start")
        rules.choice(self.end, LOCATIONS, "end")


@dataclass(frozen=True)
class Scenario:
    """A valid scenario (catalogue names resolved). Paths in errors are file paths."""

    name: str
    description: str | None
    work_unit: str
    server: ServerSpec
    clients: Mapping[str, ClientSpec]
    models: Mapping[str, ModelSpec]
    requests: tuple[RequestClass, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rules.typed_fields(self)
        if self.description is not None and "\n" in self.description:
            raise SpecError(["description"], "must be one line")
        rules.choice(self.work_unit, WORK_UNITS, "work_unit")
        for key, what in (("clients", "client"), ("models", "model")):
            specs = getattr(self, key)
            if not specs:
                raise SpecError([key], f"must define at least one {what}")
            for name, spec in specs.items():
                if spec.name != name:
                    raise SpecError([key, name], f"is named {spec.name!r}")
        self._check_profile_layers()
        if not self.requests:
            raise SpecError(["requests"], "must hold at least one request class")
        seen: dict[str, int] = {}
        resolved = []
        for i, rc in enumerate(self.requests):
            try:
                resolved.append(self._check_request(rc, i, seen))
            except SpecError as exc:
                raise rules.renamed(exc, REQUEST_FILE_NAMES).under(["requests", i]) from None
        object.__setattr__(self, "requests", tuple(resolved))

    def _check_profile_layers(self) -> None:
        owners = [(["server"], self.server.profiles)]
        owners += [(["clients", n], c.profiles) for n, c in self.clients.items()]
        for path, profiles in owners:
            for i, p in enumerate(profiles):
                for m in self.models.values():
                    if profile_for((p,), m) is None:
                        continue
                    L = m.architecture.layers(m.granularity).num_layers
                    if p.num_layers != L:
                        raise SpecError(
                            [*path, "profiles", i],
                            f"has {p.num_layers} layers; model {m.name!r} has {L}",
                        )

    def _check_request(self, rc: RequestClass, i: int, seen: dict[str, int]) -> RequestClass:
        """``rc`` checked against the clients and models (paths relative to it)."""
        if rc.name in seen:
            raise SpecError(
                ["name"], f"duplicate class name {rc.name!r} (also requests[{seen[rc.name]}])"
            )
        seen[rc.name] = i
        if rc.client not in self.clients:
            raise SpecError(
                ["client"],
                f"unknown client {rc.client!r}; defined clients: {', '.join(self.clients)}",
            )
        if rc.model not in self.models:
            raise SpecError(
                ["model"], f"unknown model {rc.model!r}; defined models: {', '.join(self.models)}"
            )
        arch = self.models[rc.model].architecture
        fixed = arch.fixed_tokens
        n = rc.prompt_tokens
        if n is None:
            if fixed is None:
                raise SpecError(["prompt_tokens"], "missing field")
            n = fixed
            rc = dataclasses.replace(rc, prompt_tokens=n)
        elif fixed is not None and n != fixed:
            raise SpecError(
                ["prompt_tokens"],
                f"vision model {arch.name!r} always sees {fixed} tokens "
                f"({arch.num_patches} patches + 1); leave the field out or give {fixed}",
            )
        g = rc.output_tokens
        if not arch.generates and g:
            raise SpecError(
                ["output_tokens"],
                f"encoder model {arch.name!r} does not generate tokens; output_tokens must be 0",
            )
        ctx = (n + g) if arch.kind != "encoder-decoder" else max(n, g + 1)
        if ctx > arch.max_context:
            raise SpecError(
                ["prompt_tokens" if n > arch.max_context or not g else "output_tokens"],
                f"context of {ctx} tokens exceeds {arch.name!r}'s maximum of {arch.max_context}",
            )
        return rc

    @property
    def num_requests(self) -> int:
        """Requests after expanding counts."""
        return sum(1 if rc.rate is not None else rc.count for rc in self.requests)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)
