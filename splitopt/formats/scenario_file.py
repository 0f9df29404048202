"""``splitopt-scenario`` v1 files (SPEC §5, §6): JSON <-> :class:`~splitopt.scenario.spec.Scenario`.

This module only converts: JSON types are checked here, every rule of a valid
scenario lives in the constructors of :mod:`splitopt.scenario.spec` and the
catalogue types, whose :class:`~splitopt.errors.SpecError` becomes an
:class:`InputError` naming the file and the JSON path.

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

* ``server``: ``device`` (name or object), optional ``engine`` (an engine
  profile of ``splitopt/data/engines.json``: its figures for the device's kind
  replace the catalogue's), then explicit figures that override it:
  ``efficiency`` (0, 1] (the shorthand for both efficiencies),
  ``compute_efficiency``, ``bandwidth_efficiency`` (0, 1], ``prefill_overhead_s``,
  ``step_overhead_s`` (seconds per forward pass and transformer block, >= 0); and
  ``profiles``: ``splitopt-profile`` files (paths relative to this file) or
  objects that replace the roofline for the models they were measured for.
* ``clients.NAME``: ``device``, ``network`` (name or object), optional
  ``memory_budget_bytes`` (bytes; absent: the device's memory; ``null``:
  unlimited), and ``engine``, the figures and ``profiles`` as for the server.
* ``models.NAME``: ``architecture`` (name or object), optional ``dtype``
  (fp32, bf16, fp16, int8, int4, and the block formats q8_0, q4_0, q4_k_m,
  q4f16 counted at their real bits per weight; default bf16), ``compute_dtype``
  (default: fp16 for the quantised ones, i.e. weight-only quantisation) and
  ``granularity`` (``block`` or ``sublayer``).
* ``requests[i]``: ``client``, ``model``, ``sla_s`` (seconds), ``prompt_tokens``
  (n; a vision model's is fixed by its image and may be left out),
  ``output_tokens`` (g, default 0; must be 0 for encoder models), optional
  ``class`` (a name, default ``c{i}``), ``count`` (k identical requests, default
  1) or ``rate`` (one request weighted by this arrival rate), ``start``, ``end``.

Explicit objects: a device ``{"peak_flops": {"fp16": 1e14, ...},
"memory_bandwidth_bytes_per_s": ..., "memory_bytes": ..., "efficiency": ...}`` (or
the separate efficiencies and overheads);
a network ``{"uplink_bit_per_s": ..., "downlink_bit_per_s": ...,
"one_way_delay_s": ...}``; an architecture with the fields of
:class:`~splitopt.scenario.architectures.Architecture`. Any of them may start
from a catalogue entry with ``"base": NAME`` and override some fields.

:func:`scenario_to_dict` / :func:`write_scenario` write a scenario back:
catalogue entries by name, anything else as a full explicit object, so that
read -> write -> read gives an equal scenario.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from splitopt.errors import SpecError
from splitopt.formats.errors import (
    InputError,
    check_fields,
    check_header,
    dumps,
    format_path,
    get_number,
    get_string,
    load_json,
    write_text_atomic,
)
from splitopt.formats.profile_file import profile_from_dict, profile_to_dict, read_profile
from splitopt.scenario import rules
from splitopt.scenario.architectures import ARCHITECTURES, MAX_BLOCKS, Architecture
from splitopt.scenario.devices import DEVICES, ENGINE_FIGURES, ENGINE_PATHS, Device
from splitopt.scenario.devices import FILE_NAMES as DEVICE_NAMES
from splitopt.scenario.engines import ENGINES
from splitopt.scenario.networks import FILE_NAMES as NETWORK_NAMES
from splitopt.scenario.networks import NETWORKS, Network
from splitopt.scenario.profiles import Profile
from splitopt.scenario.spec import (
    REQUEST_FILE_NAMES,
    ClientSpec,
    ModelSpec,
    RequestClass,
    Scenario,
    ServerSpec,
)

FORMAT = "splitopt-scenario"
VERSION = 1

#: (required, optional) fields of the document and of its objects
DOCUMENT_REQUIRED = ("format", "version", "server", "clients", "models", "requests")
DOCUMENT_OPTIONAL = ("name", "description", "work_unit", "meta")
#: engine figures a server or client may set (after its ``engine`` profile)
ENGINE_FIELDS = ENGINE_FIGURES
SERVER_FIELDS = (("device",), ("engine", "profiles", *ENGINE_FIELDS))
CLIENT_FIELDS = (
    ("device", "network"),
    ("memory_budget_bytes", "engine", "profiles", *ENGINE_FIELDS),
)
MODEL_FIELDS = (("architecture",), ("dtype", "compute_dtype", "granularity"))
REQUEST_FIELDS = (
    ("client", "model", "sla_s"),
    ("class", "prompt_tokens", "output_tokens", "count", "rate", "start", "end"),
)

Path_ = list[str | int]
File = str | os.PathLike | None
T = TypeVar("T")

__all__ = [
    "FORMAT",
    "MAX_BLOCKS",
    "VERSION",
    "ClientSpec",
    "ModelSpec",
    "RequestClass",
    "Scenario",
    "ServerSpec",
    "read_scenario",
    "scenario_from_dict",
    "scenario_to_dict",
    "write_scenario",
]


# -- helpers ---------------------------------------------------------------------------


#: Most requests a scenario may expand to (Σ count over its classes; ours): each is an
#: object in memory and a row of every result, so a count of 1e9 is refused (exit 2)
#: before it can exhaust memory. A class weighted by ``rate`` counts once.
MAX_SCENARIO_REQUESTS = 1_000_000


def _build(file: File, path: Path_, make: Callable[[], T], names: Mapping[str, str] = {}) -> T:
    """``make()``; a :class:`SpecError` becomes an :class:`InputError` under ``path``."""
    try:
        return make()
    except SpecError as exc:
        exc = rules.renamed(exc, names)
        raise InputError(file, [*path, *exc.path], exc.reason) from None


def _int(file: File, value: Any, path: Path_) -> int:
    return int(get_number(file, value, path, integer=True, nonneg=False))


def _num(file: File, value: Any, path: Path_) -> float:
    return get_number(file, value, path, nonneg=False)


def _bool(file: File, value: Any, path: Path_) -> bool:
    if not isinstance(value, bool):
        raise InputError(file, path, f"must be true or false, got {value!r}")
    return value


def _catalogue_name(file: File, value: Any, path: Path_, catalogue: Mapping, what: str) -> str:
    name = get_string(file, value, path)
    if name not in catalogue:
        raise InputError(
            file, path, f"unknown {what} {name!r}; valid {what}s: {', '.join(catalogue)}"
        )
    return name


def _strings(file: File, value: dict, path: Path_, keys: tuple[str, ...]) -> dict[str, str]:
    return {k: get_string(file, value[k], [*path, k]) for k in keys if k in value}


# -- devices, networks, architectures -------------------------------------------------

DEVICE_STRINGS = ("name", "kind", "description", "source", "notes")
DEVICE_REQUIRED = ("peak_flops", "memory_bandwidth_bytes_per_s", "memory_bytes")
DEVICE_FIELDS = (
    "base",
    "peak_flops",
    "memory_bandwidth_bytes_per_s",
    "memory_bytes",
    *ENGINE_FIGURES,
    *ENGINE_PATHS,
    *DEVICE_STRINGS,
)


def _device(file: File, value: Any, path: Path_) -> Device:
    if isinstance(value, str):
        return DEVICES[_catalogue_name(file, value, path, DEVICES, "device")]
    if not isinstance(value, dict):
        raise InputError(file, path, f"must be a device name or object, got {type(value).__name__}")
    base = value.get("base")
    check_fields(file, value, path, () if base is not None else DEVICE_REQUIRED, DEVICE_FIELDS)
    changes: dict[str, Any] = _strings(file, value, path, DEVICE_STRINGS)
    if "peak_flops" in value:
        pf = value["peak_flops"]
        if not isinstance(pf, dict):
            raise InputError(
                file,
                [*path, "peak_flops"],
                'must be an object of dtype -> FLOP/s, e.g. {"fp16": 1e14}',
            )
        changes["peak_flops"] = {k: _num(file, v, [*path, "peak_flops", k]) for k, v in pf.items()}
    for attr in ("memory_bandwidth", "memory_bytes", *ENGINE_FIGURES):
        key = DEVICE_NAMES.get(attr, attr)
        if key in value:
            changes[attr] = _num(file, value[key], [*path, key])
    if "matmul_peak" in value:
        changes["matmul_peak"] = get_string(file, value["matmul_peak"], [*path, "matmul_peak"])
    if "dequant_pass" in value:
        if not isinstance(value["dequant_pass"], bool):
            raise InputError(file, [*path, "dequant_pass"], "must be true or false")
        changes["dequant_pass"] = value["dequant_pass"]
    if base is not None:  # keeps the catalogue name unless "name" is given
        dev = DEVICES[_catalogue_name(file, base, [*path, "base"], DEVICES, "device")]
        figures = {k: changes.pop(k) for k in (*ENGINE_FIGURES, *ENGINE_PATHS) if k in changes}
        return _build(
            file, path, lambda: dataclasses.replace(dev, **changes).tuned(**figures), DEVICE_NAMES
        )
    changes.setdefault("name", "custom-device")
    changes.setdefault("source", "given in the scenario file")
    return _build(file, path, lambda: Device(**changes), DEVICE_NAMES)


def _device_to(dev: Device) -> str | dict:
    if DEVICES.get(dev.name) == dev:
        return dev.name
    out: dict[str, Any] = {
        "name": dev.name,
        "peak_flops": dict(dev.peak_flops),
        "memory_bandwidth_bytes_per_s": dev.memory_bandwidth,
        "memory_bytes": dev.memory_bytes,
        **{k: getattr(dev, k) for k in ENGINE_FIGURES},
    }
    out.update({k: getattr(dev, k) for k in ENGINE_PATHS if getattr(dev, k)})
    out.update({k: getattr(dev, k) for k in DEVICE_STRINGS[1:] if getattr(dev, k)})
    return out


NETWORK_STRINGS = ("name", "description", "source", "notes")
NETWORK_NUMBERS = ("uplink_bps", "downlink_bps", "one_way_delay_s")
NETWORK_REQUIRED = tuple(NETWORK_NAMES.get(a, a) for a in NETWORK_NUMBERS)
NETWORK_FIELDS = (
    "base",
    *(NETWORK_NAMES.get(a, a) for a in NETWORK_NUMBERS),
    *NETWORK_STRINGS,
)


def _network(file: File, value: Any, path: Path_) -> Network:
    if isinstance(value, str):
        return NETWORKS[_catalogue_name(file, value, path, NETWORKS, "network")]
    if not isinstance(value, dict):
        raise InputError(
            file, path, f"must be a network name or object, got {type(value).__name__}"
        )
    base = value.get("base")
    numbers = NETWORK_REQUIRED
    check_fields(file, value, path, () if base is not None else numbers, NETWORK_FIELDS)
    changes: dict[str, Any] = _strings(file, value, path, NETWORK_STRINGS)
    for attr, key in zip(NETWORK_NUMBERS, numbers, strict=True):
        if key in value:
            changes[attr] = _num(file, value[key], [*path, key])
    if base is not None:  # keeps the catalogue name unless "name" is given
        net = NETWORKS[_catalogue_name(file, base, [*path, "base"], NETWORKS, "network")]
        return _build(file, path, lambda: dataclasses.replace(net, **changes), NETWORK_NAMES)
    changes.setdefault("name", "custom-network")
    changes.setdefault("source", "given in the scenario file")
    return _build(file, path, lambda: Network(**changes), NETWORK_NAMES)


def _network_to(net: Network) -> str | dict:
    if NETWORKS.get(net.name) == net:
        return net.name
    out: dict[str, Any] = {"name": net.name}
    out.update({NETWORK_NAMES.get(a, a): getattr(net, a) for a in NETWORK_NUMBERS})
    out.update({k: getattr(net, k) for k in NETWORK_STRINGS[1:] if getattr(net, k)})
    return out


#: Architecture fields a scenario may set, by JSON type (values are checked by
#: the :class:`Architecture` constructor).
ARCH_TYPES: dict[str, str] = {
    f.name: (
        "bool"
        if f.type == "bool"
        else "str"
        if f.type == "str"
        else "number"
        if f.name == "published_params"
        else "int"
    )
    for f in dataclasses.fields(Architecture)
}
ARCH_REQUIRED = (
    "family",
    "kind",
    "hidden_size",
    "num_layers",
    "num_heads",
    "intermediate_size",
    "vocab_size",
)


def _architecture(file: File, value: Any, path: Path_, default_name: str) -> Architecture:
    if isinstance(value, str):
        return ARCHITECTURES[_catalogue_name(file, value, path, ARCHITECTURES, "architecture")]
    if not isinstance(value, dict):
        raise InputError(
            file, path, f"must be an architecture name or object, got {type(value).__name__}"
        )
    base = value.get("base")
    required = () if base is not None else ARCH_REQUIRED
    check_fields(file, value, path, required, ("base", *ARCH_TYPES))
    changes: dict[str, Any] = {}
    for key, typ in ARCH_TYPES.items():
        if key not in value:
            continue
        p = [*path, key]
        if typ == "str":
            changes[key] = get_string(file, value[key], p)
        elif typ == "bool":
            changes[key] = _bool(file, value[key], p)
        elif typ == "number":
            changes[key] = None if value[key] is None else _num(file, value[key], p)
        else:
            changes[key] = _int(file, value[key], p)
    if base is not None:
        arch = ARCHITECTURES[
            _catalogue_name(file, base, [*path, "base"], ARCHITECTURES, "architecture")
        ]
        changes.setdefault("name", f"{arch.name}*" if changes else arch.name)
        changes.setdefault("published_params", None)
        return _build(file, path, lambda: arch.replace(**changes))
    changes.setdefault("name", default_name)
    changes.setdefault("source", "given in the scenario file")
    return _build(file, path, lambda: Architecture(**changes))


_ARCH_DEFAULTS = {
    f.name: f.default for f in dataclasses.fields(Architecture) if f.name not in ARCH_REQUIRED
}


def _architecture_to(arch: Architecture) -> str | dict:
    if ARCHITECTURES.get(arch.name) == arch:
        return arch.name
    out: dict[str, Any] = {}
    for f in dataclasses.fields(Architecture):
        v = getattr(arch, f.name)
        always = f.name in ("name", "source", "num_kv_heads", "head_dim", *ARCH_REQUIRED)
        if always or v != _ARCH_DEFAULTS[f.name]:
            out[f.name] = v
    return out


# -- the document ---------------------------------------------------------------------


def _names_object(file: File, value: Any, path: Path_, what: str) -> dict:
    if not isinstance(value, dict):
        raise InputError(
            file,
            path,
            f"must be an object mapping {what} names to {what} objects, got {type(value).__name__}",
        )
    return value


def _profiles(file: File, value: dict, path: Path_) -> tuple[Profile, ...]:
    """The ``profiles`` of a server or client: file names (relative to the
    scenario file's folder) or inline ``splitopt-profile`` objects."""
    if "profiles" not in value:
        return ()
    items = value["profiles"]
    if not isinstance(items, list):
        raise InputError(file, [*path, "profiles"], "must be an array of profile files or objects")
    out = []
    base = Path(file).parent if file else Path()
    for i, item in enumerate(items):
        p = [*path, "profiles", i]
        if isinstance(item, str):
            out.append(read_profile(base / item))
        elif isinstance(item, dict):
            try:
                out.append(profile_from_dict(item))
            except InputError as exc:
                where = f"{format_path(p)}.{exc.path}".rstrip(".")
                raise InputError(file, where, exc.reason) from None
        else:
            raise InputError(file, p, "must be a profile file name or a profile object")
    return tuple(out)


def _engine_device(file: File, value: dict, path: Path_) -> Device:
    """The device of a server or client: its ``device``, then its ``engine``
    profile's figures for that device's kind, then explicit figures."""
    dev = _device(file, value["device"], [*path, "device"])
    if "engine" in value:
        ename = get_string(file, value["engine"], [*path, "engine"])
        ename = _catalogue_name(file, ename, [*path, "engine"], ENGINES, "engine")
        dev = _build(file, path, partial(ENGINES[ename].apply, dev))
    figures = {k: _num(file, value[k], [*path, k]) for k in ENGINE_FIELDS if k in value}
    if figures:
        dev = _build(file, path, partial(dev.tuned, **figures))
    return dev


def scenario_from_dict(doc: Any, file: File = None) -> Scenario:
    """A :class:`Scenario` from a parsed ``splitopt-scenario`` document (names resolved)."""
    check_header(file, doc, FORMAT, VERSION)
    check_fields(file, doc, [], DOCUMENT_REQUIRED, DOCUMENT_OPTIONAL)
    name = doc.get("name")
    if name is None:
        name = Path(file).stem if file else "scenario"
    name = get_string(file, name, ["name"])
    description = doc.get("description")
    if description is not None:
        description = get_string(file, description, ["description"])
    work_unit = get_string(file, doc.get("work_unit", "FLOP"), ["work_unit"])
    meta = doc.get("meta", {})
    if not isinstance(meta, dict):
        raise InputError(file, ["meta"], "must be a JSON object")

    srv = doc["server"]
    check_fields(file, srv, ["server"], *SERVER_FIELDS)
    sdev = _engine_device(file, srv, ["server"])
    sprof = _profiles(file, srv, ["server"])
    server = _build(file, ["server"], lambda: ServerSpec(sdev, sprof))

    clients: dict[str, ClientSpec] = {}
    for cname, c in _names_object(file, doc["clients"], ["clients"], "client").items():
        p: Path_ = ["clients", cname]
        check_fields(file, c, p, *CLIENT_FIELDS)
        dev = _engine_device(file, c, p)
        net = _network(file, c["network"], [*p, "network"])
        kw: dict[str, Any] = {"profiles": _profiles(file, c, p)}
        if "memory_budget_bytes" in c:
            mb = c["memory_budget_bytes"]
            kw["memory_budget_bytes"] = (
                None if mb is None else _num(file, mb, [*p, "memory_budget_bytes"])
            )
        clients[cname] = _build(
            file, p, partial(ClientSpec, cname, dev, net, **kw)
        )

    models: dict[str, ModelSpec] = {}
    for mname, m in _names_object(file, doc["models"], ["models"], "model").items():
        p = ["models", mname]
        check_fields(file, m, p, *MODEL_FIELDS)
        arch = _architecture(file, m["architecture"], [*p, "architecture"], mname)
        kw = _strings(file, m, p, ("dtype", "compute_dtype", "granularity"))
        models[mname] = _build(file, p, partial(ModelSpec, mname, arch, **kw))

    reqs = doc["requests"]
    if not isinstance(reqs, list):
        raise InputError(file, ["requests"], "must be an array of request classes")
    classes = [_request_class(file, r, i) for i, r in enumerate(reqs)]
    total = 0
    for i, rc in enumerate(classes):
        total += rc.count
        if total > MAX_SCENARIO_REQUESTS:
            raise InputError(
                file,
                ["requests", i, "count"],
                f"the scenario would expand to more than {MAX_SCENARIO_REQUESTS:,} requests "
                "(one per count); use 'rate' to weight a class instead",
            )
    return _build(
        file,
        [],
        lambda: Scenario(
            name=name,
            description=description,
            work_unit=work_unit,
            server=server,
            clients=clients,
            models=models,
            requests=tuple(classes),
            meta=meta,
        ),
    )


def _request_class(file: File, r: Any, i: int) -> RequestClass:
    p: Path_ = ["requests", i]
    check_fields(file, r, p, *REQUEST_FIELDS)
    if "count" in r and "rate" in r:
        raise InputError(file, [*p, "rate"], "give count or rate, not both")
    kw: dict[str, Any] = {
        "name": get_string(file, r.get("class", f"c{i}"), [*p, "class"]),
        "client": get_string(file, r["client"], [*p, "client"]),
        "model": get_string(file, r["model"], [*p, "model"]),
        "prompt_tokens": (
            _int(file, r["prompt_tokens"], [*p, "prompt_tokens"]) if "prompt_tokens" in r else None
        ),
        "sla_s": _num(file, r["sla_s"], [*p, "sla_s"]),
    }
    for key in ("output_tokens", "count"):
        if key in r:
            kw[key] = _int(file, r[key], [*p, key])
    if "rate" in r:
        kw["rate"] = _num(file, r["rate"], [*p, "rate"])
    kw.update(_strings(file, r, p, ("start", "end")))
    return _build(file, p, lambda: RequestClass(**kw), REQUEST_FILE_NAMES)


def read_scenario(file: str | os.PathLike) -> Scenario:
    """Read and validate a scenario file; :class:`InputError` names file, field and reason."""
    return scenario_from_dict(load_json(file), file)


# -- writing --------------------------------------------------------------------------


def scenario_to_dict(scenario: Scenario) -> dict:
    """The ``splitopt-scenario`` document of ``scenario`` (catalogue entries by name)."""
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": scenario.name}
    if scenario.description is not None:
        doc["description"] = scenario.description
    doc["work_unit"] = scenario.work_unit
    doc["server"] = {"device": _device_to(scenario.server.device)}
    if scenario.server.profiles:
        doc["server"]["profiles"] = [profile_to_dict(p) for p in scenario.server.profiles]
    doc["clients"] = {
        name: {
            "device": _device_to(c.device),
            "network": _network_to(c.network),
            "memory_budget_bytes": c.memory_budget_bytes,
            **({"profiles": [profile_to_dict(p) for p in c.profiles]} if c.profiles else {}),
        }
        for name, c in scenario.clients.items()
    }
    doc["models"] = {
        name: {
            "architecture": _architecture_to(m.architecture),
            "dtype": m.dtype,
            "compute_dtype": m.compute_dtype,
            "granularity": m.granularity,
        }
        for name, m in scenario.models.items()
    }
    reqs = []
    for rc in scenario.requests:
        row: dict[str, Any] = {
            "class": rc.name,
            "client": rc.client,
            "model": rc.model,
            "prompt_tokens": rc.prompt_tokens,
            "output_tokens": rc.output_tokens,
            "sla_s": rc.sla_s,
        }
        if rc.rate is not None:
            row["rate"] = rc.rate
        else:
            row["count"] = rc.count
        row["start"], row["end"] = rc.start, rc.end
        reqs.append(row)
    doc["requests"] = reqs
    if scenario.meta:
        doc["meta"] = dict(scenario.meta)
    return doc


def write_scenario(scenario: Scenario, file: str | os.PathLike) -> None:
    """Write a scenario file atomically."""
    write_text_atomic(file, dumps(scenario_to_dict(scenario)))
