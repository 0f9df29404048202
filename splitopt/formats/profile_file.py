"""``splitopt-profile`` files: measured per-layer times of a model on a device.

::

    {"format": "splitopt-profile", "version": 1, "name": "llama-3.2-1b on a laptop",
     "model": "llama-3.2-1b", "dtype": "fp16", "granularity": "block",
     "device": "...", "engine": "pytorch 2.x eager", "source": "...", "notes": "...",
     "prompt_tokens": [16, 128, 1024],          # grid of prefill lengths
     "contexts": [64, 512, 2048],               # grid of decode-step contexts
     "layers": [{"name": "embed", "weight_bytes": 5.2e8,
                 "prefill_s": [1e-5, 2e-5, 9e-5], "decode_step_s": [1e-5, 1e-5, 1e-5]},
                ...]}                           # one object per layer of the chain

Times in seconds, bytes in bytes; :class:`~splitopt.scenario.profiles.Profile`
holds the rules (grids of at least 2 increasing whole numbers >= 1, one value
per grid point, non-negative). Errors name the file and the JSON path.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from splitopt.errors import SpecError
from splitopt.formats.errors import (
    InputError,
    check_fields,
    check_header,
    dumps,
    get_number,
    get_number_list,
    get_string,
    load_json,
    write_text_atomic,
)
from splitopt.scenario.profiles import Profile

FORMAT = "splitopt-profile"
VERSION = 1
REQUIRED = (
    "format",
    "version",
    "model",
    "dtype",
    "granularity",
    "prompt_tokens",
    "contexts",
    "layers",
)
OPTIONAL = ("name", "device", "engine", "source", "notes", "meta")
LAYER_REQUIRED = ("prefill_s", "decode_step_s", "weight_bytes")
LAYER_OPTIONAL = ("name",)


def profile_from_dict(doc: Any, file: str | os.PathLike | None = None) -> Profile:
    """A :class:`Profile` from a parsed ``splitopt-profile`` document."""
    check_header(file, doc, FORMAT, VERSION)
    check_fields(file, doc, [], REQUIRED, OPTIONAL)
    strings = {k: get_string(file, doc[k], [k]) for k in ("model", "dtype", "granularity")}
    extra = {
        k: get_string(file, doc[k], [k])
        for k in ("device", "engine", "source", "notes")
        if k in doc
    }
    name = get_string(file, doc.get("name", strings["model"]), ["name"])
    grids: dict[str, tuple[int, ...]] = {}
    for key in ("prompt_tokens", "contexts"):
        vals = get_number_list(file, doc[key], [key])
        if len(vals) < 2:
            raise InputError(file, [key], "needs at least 2 points")
        for i, v in enumerate(vals):
            get_number(file, v, [key, i], integer=True, positive=True)
        grids[key] = tuple(int(v) for v in vals)
    layers = doc["layers"]
    if not isinstance(layers, list) or not layers:
        raise InputError(file, ["layers"], "must be a non-empty array of layer objects")
    pre: list[list[float]] = []
    dec: list[list[float]] = []
    wb: list[float] = []
    for i, layer in enumerate(layers):
        p: list[str | int] = ["layers", i]
        check_fields(file, layer, p, LAYER_REQUIRED, LAYER_OPTIONAL)
        pre.append(
            get_number_list(
                file, layer["prefill_s"], [*p, "prefill_s"], len(grids["prompt_tokens"])
            )
        )
        dec.append(
            get_number_list(
                file, layer["decode_step_s"], [*p, "decode_step_s"], len(grids["contexts"])
            )
        )
        wb.append(get_number(file, layer["weight_bytes"], [*p, "weight_bytes"]))
    try:
        return Profile(
            name=name,
            model=strings["model"],
            dtype=strings["dtype"],
            granularity=strings["granularity"],
            prompt_tokens=grids["prompt_tokens"],
            contexts=grids["contexts"],
            # nested lists: Profile.__post_init__ converts them to checked arrays
            prefill_s=np.asarray(pre, dtype=np.float64),
            decode_step_s=np.asarray(dec, dtype=np.float64),
            weight_bytes=np.asarray(wb, dtype=np.float64),
            device=extra.get("device", ""),
            engine=extra.get("engine", ""),
            source=extra.get("source", ""),
            notes=extra.get("notes", ""),
        )
    except SpecError as exc:
        raise InputError(file, exc.path, exc.reason) from None


def read_profile(file: str | os.PathLike) -> Profile:
    """Read and check a ``splitopt-profile`` file."""
    return profile_from_dict(load_json(file), file)


def profile_to_dict(p: Profile, layer_names: list[str] | None = None) -> dict:
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": p.name,
        "model": p.model,
        "dtype": p.dtype,
        "granularity": p.granularity,
    }
    for k in ("device", "engine", "source", "notes"):
        if getattr(p, k):
            doc[k] = getattr(p, k)
    doc["prompt_tokens"] = list(p.prompt_tokens)
    doc["contexts"] = list(p.contexts)
    doc["layers"] = [
        {
            **({"name": layer_names[i]} if layer_names else {}),
            "weight_bytes": float(p.weight_bytes[i]),
            "prefill_s": [float(v) for v in p.prefill_s[i]],
            "decode_step_s": [float(v) for v in p.decode_step_s[i]],
        }
        for i in range(p.num_layers)
    ]
    return doc


def write_profile(
    p: Profile, file: str | os.PathLike, layer_names: list[str] | None = None
) -> None:
    """Write a profile file atomically."""
    write_text_atomic(file, dumps(profile_to_dict(p, layer_names)))
