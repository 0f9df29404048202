"""``splitopt-scenario`` v1 files (SPEC §5, §6): read and validate into a :class:`Scenario`.

A scenario names a server, clients (device, network, memory budget), models
(architecture, dtype, granularity) and request classes; catalogue names
(:mod:`splitopt.scenario.architectures`, ``devices``, ``networks``) or
explicit objects may be given anywhere. Example::

    {"format": "splitopt-scenario", "version": 1,
     "name": "demo", "description": "one line shown above result tables",
     "work_unit": "FLOP",
     "server": {"device": "h100-sxm"},
     "clients": {"phone": {"device": "snapdragon-8-gen-3", "network": "5g",
                           "memory_budget_bytes": 4e9}},
     "models": {"llama": {"architecture": "llama-3.2-1b", "dtype": "int4",
                          "granularity": "block"}},
     "requests": [{"class": "chat", "client": "phone", "model": "llama",
                   "prompt_tokens": 512, "output_tokens": 128, "sla_s": 6.0,
                   "count": 10}]}

Fields:

* ``server``: ``device`` (name or object), optional ``efficiency`` (0, 1].
* ``clients.NAME``: ``device``, ``network`` (name or object), optional
  ``memory_budget_bytes`` (bytes; absent: the device's memory; ``null``:
  unlimited) and ``efficiency``.
* ``models.NAME``: ``architecture`` (name or object), optional ``dtype``
  (fp32, bf16, fp16, int8, int4; default bf16), ``compute_dtype`` (default:
  fp16 for int8/int4, i.e. weight-only quantisation) and ``granularity``
  (``block`` or ``sublayer``).
* ``requests[i]``: ``client``, ``model``, ``sla_s`` (seconds), ``prompt_tokens``
  (n; a vision model's is fixed by its image and may be left out),
  ``output_tokens`` (g, default 0; must be 0 for encoder models), optional
  ``class`` (a name, default ``c{i}``), ``count`` (k identical requests, default
  1) or ``rate`` (one request weighted by this arrival rate), ``start``, ``end``.

Explicit objects: a device ``{"peak_flops": {"fp16": 1e14, ...},
"memory_bandwidth_bytes_per_s": ..., "memory_bytes": ..., "efficiency": ...}``;
a network ``{"uplink_bit_per_s": ..., "downlink_bit_per_s": ...,
"one_way_delay_s": ...}``; an architecture with the fields of
:class:`~splitopt.scenario.architectures.Architecture`. Any of them may start
from a catalogue entry with ``"base": NAME`` and override some fields.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splitopt.formats.errors import (
    InputError,
    check_fields,
    check_header,
    get_number,
    get_string,
    load_json,
)
from splitopt.problem import LOCATIONS, WORK_UNITS
from splitopt.scenario.architectures import (
    ARCHITECTURES,
    GRANULARITIES,
    HEADS,
    KINDS,
    MLPS,
    NORMS,
    Architecture,
)
from splitopt.scenario.costmodel import COMPUTE_DTYPES, DEFAULT_COMPUTE, WEIGHT_DTYPES
from splitopt.scenario.devices import COMPUTE_DTYPES as PEAK_DTYPES
from splitopt.scenario.devices import DEVICES, Device
from splitopt.scenario.networks import NETWORKS, Network

FORMAT = "splitopt-scenario"
VERSION = 1

Path_ = list[str | int]


@dataclass(frozen=True)
class ServerSpec:
    """The server: a device (its efficiency already applied)."""

    device: Device


@dataclass(frozen=True)
class ClientSpec:
    """A client: device, network path to the server, memory budget (bytes or ``None``)."""

    name: str
    device: Device
    network: Network
    memory_budget_bytes: float | None


@dataclass(frozen=True)
class ModelSpec:
    """A deployed model: architecture, weight dtype, compute dtype, granularity."""

    name: str
    architecture: Architecture
    dtype: str
    compute_dtype: str
    granularity: str


@dataclass(frozen=True)
class RequestClass:
    """Identical requests: ``count`` of them (weight 1 each), or one with weight ``rate``."""

    name: str
    client: str
    model: str
    prompt_tokens: int
    output_tokens: int
    sla_s: float
    count: int = 1
    rate: float | None = None
    start: str = "client"
    end: str = "client"


@dataclass(frozen=True)
class Scenario:
    """A validated scenario (catalogue names resolved)."""

    name: str
    description: str | None
    work_unit: str
    server: ServerSpec
    clients: Mapping[str, ClientSpec]
    models: Mapping[str, ModelSpec]
    requests: tuple[RequestClass, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def num_requests(self) -> int:
        """Requests after expanding counts."""
        return sum(1 if rc.rate is not None else rc.count for rc in self.requests)


# -- helpers ---------------------------------------------------------------------------


#: Most requests a scenario may expand to (Σ count over its classes; ours): each is an
#: object in memory and a row of every result, so a count of 1e9 is refused (exit 2)
#: before it can exhaust memory. A class weighted by ``rate`` counts once.
MAX_SCENARIO_REQUESTS = 1_000_000


def _int(file: Any, value: Any, path: Path_, *, minimum: int = 0) -> int:
    x = get_number(file, value, path, integer=True)
    if x < minimum:
        raise InputError(file, path, f"must be >= {minimum}, got {value!r}")
    return int(x)


def _bool(file: Any, value: Any, path: Path_) -> bool:
    if not isinstance(value, bool):
        raise InputError(file, path, f"must be true or false, got {value!r}")
    return value


def _efficiency(file: Any, value: Any, path: Path_) -> float:
    x = get_number(file, value, path, positive=True)
    if x > 1:
        raise InputError(file, path, f"must be in (0, 1], got {value!r}")
    return x


def _catalogue_name(file: Any, value: Any, path: Path_, catalogue: Mapping, what: str) -> str:
    name = get_string(file, value, path)
    if name not in catalogue:
        raise InputError(
            file, path, f"unknown {what} {name!r}; valid {what}s: {', '.join(catalogue)}"
        )
    return name


# -- devices, networks, architectures -------------------------------------------------

_DEVICE_FIELDS = (
    "base",
    "name",
    "peak_flops",
    "memory_bandwidth_bytes_per_s",
    "memory_bytes",
    "efficiency",
    "description",
    "source",
)


def _device(file: Any, value: Any, path: Path_) -> Device:
    if isinstance(value, str):
        return DEVICES[_catalogue_name(file, value, path, DEVICES, "device")]
    if not isinstance(value, dict):
        raise InputError(file, path, f"must be a device name or object, got {type(value).__name__}")
    base = value.get("base")
    required = (
        ()
        if base is not None
        else (
            "peak_flops",
            "memory_bandwidth_bytes_per_s",
            "memory_bytes",
        )
    )
    check_fields(file, value, path, required, _DEVICE_FIELDS)
    changes: dict[str, Any] = {}
    if base is not None:
        dev = DEVICES[_catalogue_name(file, base, [*path, "base"], DEVICES, "device")]
    else:
        dev = None
    if "peak_flops" in value:
        pf = value["peak_flops"]
        if not isinstance(pf, dict) or not pf:
            raise InputError(
                file,
                [*path, "peak_flops"],
                'must be an object of dtype -> FLOP/s, e.g. {"fp16": 1e14}',
            )
        peaks = {}
        for k, v in pf.items():
            if k not in PEAK_DTYPES:
                raise InputError(
                    file,
                    [*path, "peak_flops", k],
                    f"unknown dtype; valid dtypes: {', '.join(PEAK_DTYPES)}",
                )
            peaks[k] = get_number(file, v, [*path, "peak_flops", k], positive=True)
        changes["peak_flops"] = peaks
    if "memory_bandwidth_bytes_per_s" in value:
        changes["memory_bandwidth"] = get_number(
            file,
            value["memory_bandwidth_bytes_per_s"],
            [*path, "memory_bandwidth_bytes_per_s"],
            positive=True,
        )
    if "memory_bytes" in value:
        changes["memory_bytes"] = get_number(file, value["memory_bytes"], [*path, "memory_bytes"])
    if "efficiency" in value:
        changes["efficiency"] = _efficiency(file, value["efficiency"], [*path, "efficiency"])
    for key in ("name", "description", "source"):
        if key in value:
            changes[key] = get_string(file, value[key], [*path, key])
    if dev is not None:  # keeps the catalogue name unless "name" is given
        return dataclasses.replace(dev, **changes)
    changes.setdefault("name", "custom-device")
    changes.setdefault("source", "given in the scenario file")
    return Device(**changes)


_NETWORK_FIELDS = (
    "base",
    "name",
    "uplink_bit_per_s",
    "downlink_bit_per_s",
    "one_way_delay_s",
    "description",
    "source",
)


def _network(file: Any, value: Any, path: Path_) -> Network:
    if isinstance(value, str):
        return NETWORKS[_catalogue_name(file, value, path, NETWORKS, "network")]
    if not isinstance(value, dict):
        raise InputError(
            file, path, f"must be a network name or object, got {type(value).__name__}"
        )
    base = value.get("base")
    required = (
        ()
        if base is not None
        else (
            "uplink_bit_per_s",
            "downlink_bit_per_s",
            "one_way_delay_s",
        )
    )
    check_fields(file, value, path, required, _NETWORK_FIELDS)
    changes: dict[str, Any] = {}
    for key, attr in (("uplink_bit_per_s", "uplink_bps"), ("downlink_bit_per_s", "downlink_bps")):
        if key in value:
            changes[attr] = get_number(file, value[key], [*path, key], positive=True)
    if "one_way_delay_s" in value:
        changes["one_way_delay_s"] = get_number(
            file, value["one_way_delay_s"], [*path, "one_way_delay_s"]
        )
    for key in ("name", "description", "source"):
        if key in value:
            changes[key] = get_string(file, value[key], [*path, key])
    if base is not None:
        net = NETWORKS[_catalogue_name(file, base, [*path, "base"], NETWORKS, "network")]
        return dataclasses.replace(net, **changes)  # keeps the catalogue name
    changes.setdefault("name", "custom-network")
    changes.setdefault("source", "given in the scenario file")
    return Network(**changes)


#: Largest ``num_layers`` / ``num_decoder_layers`` a scenario may give (our cap: the
#: largest published models have under 200 blocks; beyond it the cost model's arrays
#: and the solvers' memory grow without bound).
MAX_BLOCKS = 10_000

#: Architecture fields a scenario may set: name -> (type, choices)
_ARCH_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("str", ()),
    "family": ("str", ()),
    "kind": ("str", KINDS),
    "hidden_size": ("int+", ()),
    "num_layers": ("int+", ()),
    "num_heads": ("int+", ()),
    "intermediate_size": ("int+", ()),
    "vocab_size": ("int", ()),
    "num_kv_heads": ("int+", ()),
    "head_dim": ("int+", ()),
    "num_decoder_layers": ("int", ()),
    "mlp": ("str", MLPS),
    "norm": ("str", NORMS),
    "qkv_bias": ("bool", ()),
    "out_bias": ("bool", ()),
    "mlp_bias": ("bool", ()),
    "tie_embeddings": ("bool", ()),
    "position_embeddings": ("int", ()),
    "token_type_embeddings": ("int", ()),
    "embedding_norm": ("bool", ()),
    "final_norm": ("bool", ()),
    "embed_proj_dim": ("int", ()),
    "head": ("str", HEADS),
    "num_labels": ("int", ()),
    "image_size": ("int", ()),
    "patch_size": ("int", ()),
    "channels": ("int+", ()),
    "max_context": ("int+", ()),
    "source": ("str", ()),
    "notes": ("str", ()),
}
_ARCH_REQUIRED = (
    "family",
    "kind",
    "hidden_size",
    "num_layers",
    "num_heads",
    "intermediate_size",
    "vocab_size",
)


def _architecture(file: Any, value: Any, path: Path_, default_name: str) -> Architecture:
    if isinstance(value, str):
        return ARCHITECTURES[_catalogue_name(file, value, path, ARCHITECTURES, "architecture")]
    if not isinstance(value, dict):
        raise InputError(
            file, path, f"must be an architecture name or object, got {type(value).__name__}"
        )
    base = value.get("base")
    required = () if base is not None else _ARCH_REQUIRED
    check_fields(file, value, path, required, ("base", *_ARCH_FIELDS))
    changes: dict[str, Any] = {}
    for key, (typ, choices) in _ARCH_FIELDS.items():
        if key not in value:
            continue
        p = [*path, key]
        if typ == "str":
            changes[key] = get_string(file, value[key], p, choices)
        elif typ == "bool":
            changes[key] = _bool(file, value[key], p)
        else:
            changes[key] = _int(file, value[key], p, minimum=1 if typ == "int+" else 0)
            if key in ("num_layers", "num_decoder_layers") and changes[key] > MAX_BLOCKS:
                raise InputError(
                    file, p, f"must be <= {MAX_BLOCKS:,} (our cap), got {value[key]!r}"
                )
    if base is not None:
        arch = ARCHITECTURES[
            _catalogue_name(file, base, [*path, "base"], ARCHITECTURES, "architecture")
        ]
        changes.setdefault("name", f"{arch.name}*" if changes else arch.name)
        changes.setdefault("published_params", None)
        arch = arch.replace(**changes)
    else:
        changes.setdefault("name", default_name)
        changes.setdefault("source", "given in the scenario file")
        arch = Architecture(**changes)
    _check_architecture(file, arch, path)
    return arch


def _check_architecture(file: Any, a: Architecture, path: Path_) -> None:
    if a.num_heads % a.num_kv_heads:  # type: ignore[operator]
        raise InputError(
            file,
            [*path, "num_kv_heads"],
            f"num_heads ({a.num_heads}) must be a multiple of num_kv_heads ({a.num_kv_heads})",
        )
    if a.kind == "encoder-decoder" and a.num_decoder_layers < 1:
        raise InputError(
            file, [*path, "num_decoder_layers"], "an encoder-decoder model needs decoder layers"
        )
    if a.kind != "encoder-decoder" and a.num_decoder_layers:
        raise InputError(
            file, [*path, "num_decoder_layers"], f"only for encoder-decoder models, not {a.kind!r}"
        )
    if a.vision and (a.image_size % max(a.patch_size, 1) or a.patch_size < 1):
        raise InputError(
            file, [*path, "patch_size"], "image_size must be a positive multiple of patch_size"
        )
    if a.vision and a.kind != "encoder":
        raise InputError(file, [*path, "kind"], "vision models must be encoders")
    if not a.vision and a.vocab_size < 1:
        raise InputError(file, [*path, "vocab_size"], "a text model needs vocab_size >= 1")
    if a.head in ("classifier", "vision-classifier") and a.num_labels < 1:
        raise InputError(file, [*path, "num_labels"], f"a {a.head} head needs num_labels >= 1")
    if a.head != "lm" and a.kind != "encoder":
        raise InputError(file, [*path, "head"], f"a {a.kind} model needs an 'lm' head")


# -- the document ---------------------------------------------------------------------


def _names_object(file: Any, value: Any, path: Path_, what: str) -> dict:
    if not isinstance(value, dict):
        raise InputError(
            file,
            path,
            f"must be an object mapping {what} names to {what} objects, got {type(value).__name__}",
        )
    if not value:
        raise InputError(file, path, f"must define at least one {what}")
    return value


def scenario_from_dict(doc: Any, file: str | os.PathLike | None = None) -> Scenario:
    """Validate a parsed ``splitopt-scenario`` document (names resolved)."""
    check_header(file, doc, FORMAT, VERSION)
    check_fields(
        file,
        doc,
        [],
        ("format", "version", "server", "clients", "models", "requests"),
        ("name", "description", "work_unit", "meta"),
    )
    name = doc.get("name")
    if name is None:
        name = Path(file).stem if file else "scenario"
    name = get_string(file, name, ["name"])
    description = doc.get("description")
    if description is not None:
        description = get_string(file, description, ["description"])
        if "\n" in description:
            raise InputError(file, ["description"], "must be one line")
    work_unit = get_string(file, doc.get("work_unit", "FLOP"), ["work_unit"], WORK_UNITS)
    meta = doc.get("meta", {})
    if not isinstance(meta, dict):
        raise InputError(file, ["meta"], "must be a JSON object")

    srv = doc["server"]
    check_fields(file, srv, ["server"], ("device",), ("efficiency",))
    sdev = _device(file, srv["device"], ["server", "device"])
    if "efficiency" in srv:
        sdev = sdev.with_efficiency(_efficiency(file, srv["efficiency"], ["server", "efficiency"]))
    server = ServerSpec(sdev)

    clients: dict[str, ClientSpec] = {}
    for cname, c in _names_object(file, doc["clients"], ["clients"], "client").items():
        p: Path_ = ["clients", cname]
        check_fields(file, c, p, ("device", "network"), ("memory_budget_bytes", "efficiency"))
        dev = _device(file, c["device"], [*p, "device"])
        if "efficiency" in c:
            dev = dev.with_efficiency(_efficiency(file, c["efficiency"], [*p, "efficiency"]))
        net = _network(file, c["network"], [*p, "network"])
        if "memory_budget_bytes" in c:
            mb = c["memory_budget_bytes"]
            budget = None if mb is None else get_number(file, mb, [*p, "memory_budget_bytes"])
        else:
            budget = float(dev.memory_bytes)
        clients[cname] = ClientSpec(cname, dev, net, budget)

    models: dict[str, ModelSpec] = {}
    for mname, m in _names_object(file, doc["models"], ["models"], "model").items():
        p = ["models", mname]
        check_fields(file, m, p, ("architecture",), ("dtype", "compute_dtype", "granularity"))
        arch = _architecture(file, m["architecture"], [*p, "architecture"], mname)
        dtype = get_string(file, m.get("dtype", "bf16"), [*p, "dtype"], WEIGHT_DTYPES)
        cdt = m.get("compute_dtype")
        cdt = (
            DEFAULT_COMPUTE[dtype]
            if cdt is None
            else get_string(file, cdt, [*p, "compute_dtype"], COMPUTE_DTYPES)
        )
        gran = get_string(file, m.get("granularity", "block"), [*p, "granularity"], GRANULARITIES)
        models[mname] = ModelSpec(mname, arch, dtype, cdt, gran)

    reqs = doc["requests"]
    if not isinstance(reqs, list):
        raise InputError(file, ["requests"], "must be an array of request classes")
    if not reqs:
        raise InputError(file, ["requests"], "must hold at least one request class")
    classes: list[RequestClass] = []
    seen: dict[str, int] = {}
    total = 0
    for i, r in enumerate(reqs):
        classes.append(_request_class(file, r, i, clients, models, seen))
        total += classes[-1].count
        if total > MAX_SCENARIO_REQUESTS:
            raise InputError(
                file,
                ["requests", i, "count"],
                f"the scenario would expand to more than {MAX_SCENARIO_REQUESTS:,} requests "
                "(one per count); use 'rate' to weight a class instead",
            )
    return Scenario(
        name=name,
        description=description,
        work_unit=work_unit,
        server=server,
        clients=clients,
        models=models,
        requests=tuple(classes),
        meta=meta,
    )


_REQ_FIELDS = (
    "class",
    "prompt_tokens",
    "output_tokens",
    "count",
    "rate",
    "start",
    "end",
)


def _request_class(
    file: Any,
    r: Any,
    i: int,
    clients: Mapping[str, ClientSpec],
    models: Mapping[str, ModelSpec],
    seen: dict[str, int],
) -> RequestClass:
    p: Path_ = ["requests", i]
    check_fields(file, r, p, ("client", "model", "sla_s"), _REQ_FIELDS)
    cname = get_string(file, r.get("class", f"c{i}"), [*p, "class"])
    if not cname or "/" in cname:
        raise InputError(file, [*p, "class"], "must be a non-empty name without '/'")
    if cname in seen:
        raise InputError(
            file, [*p, "class"], f"duplicate class name {cname!r} (also requests[{seen[cname]}])"
        )
    seen[cname] = i
    client = get_string(file, r["client"], [*p, "client"])
    if client not in clients:
        raise InputError(
            file,
            [*p, "client"],
            f"unknown client {client!r}; defined clients: {', '.join(clients)}",
        )
    model = get_string(file, r["model"], [*p, "model"])
    if model not in models:
        raise InputError(
            file, [*p, "model"], f"unknown model {model!r}; defined models: {', '.join(models)}"
        )
    arch = models[model].architecture
    fixed = arch.fixed_tokens
    if "prompt_tokens" in r:
        n = _int(file, r["prompt_tokens"], [*p, "prompt_tokens"], minimum=1)
        if fixed is not None and n != fixed:
            raise InputError(
                file,
                [*p, "prompt_tokens"],
                f"vision model {arch.name!r} always sees {fixed} tokens "
                f"({arch.num_patches} patches + 1); leave the field out or give {fixed}",
            )
    elif fixed is not None:
        n = fixed
    else:
        raise InputError(file, [*p, "prompt_tokens"], "missing field")
    g = _int(file, r.get("output_tokens", 0), [*p, "output_tokens"], minimum=0)
    if not arch.generates and g:
        raise InputError(
            file,
            [*p, "output_tokens"],
            f"encoder model {arch.name!r} does not generate tokens; output_tokens must be 0",
        )
    ctx = (n + g) if arch.kind != "encoder-decoder" else max(n, g + 1)
    if ctx > arch.max_context:
        raise InputError(
            file,
            [*p, "prompt_tokens" if n > arch.max_context or not g else "output_tokens"],
            f"context of {ctx} tokens exceeds {arch.name!r}'s maximum of {arch.max_context}",
        )
    sla = get_number(file, r["sla_s"], [*p, "sla_s"], positive=True)
    if "count" in r and "rate" in r:
        raise InputError(file, [*p, "rate"], "give count or rate, not both")
    count = _int(file, r.get("count", 1), [*p, "count"], minimum=1)
    rate = None
    if "rate" in r:
        rate = get_number(file, r["rate"], [*p, "rate"], positive=True)
    start = get_string(file, r.get("start", "client"), [*p, "start"], LOCATIONS)
    end = get_string(file, r.get("end", "client"), [*p, "end"], LOCATIONS)
    return RequestClass(cname, client, model, n, g, sla, count, rate, start, end)


def read_scenario(file: str | os.PathLike) -> Scenario:
    """Read and validate a scenario file; :class:`InputError` names file, field and reason."""
    return scenario_from_dict(load_json(file), file)
