"""Input errors that name the file and the JSON path, and the JSON helpers every
reader and writer uses (strict parsing, path formatting, atomic writes)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from splitopt.errors import InputError, JsonPath, format_path  # noqa: F401 - re-exported


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (numbers must be finite)")


def load_json(file: str | os.PathLike) -> Any:
    """Parse a JSON file strictly (no NaN/Infinity); errors become :class:`InputError`."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(file, "(file)", "no such file") from None
    except IsADirectoryError:
        raise InputError(file, "(file)", "is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(file, "(file)", f"cannot be read: {exc}") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            file, "(file)", f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise InputError(file, "(file)", str(exc)) from None


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(doc: Any, indent: int | None = 1) -> str:
    """JSON text of ``doc`` (NaN/inf become null, so the output is always valid JSON)."""

    def clean(o: Any) -> Any:
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        return _finite(o)

    return json.dumps(clean(doc), indent=indent, allow_nan=False)


def write_text_atomic(file: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``file`` via a temporary file and a rename: never half-written."""
    target = Path(file)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            if not text.endswith("\n"):
                fh.write("\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_header(file: str | os.PathLike | None, doc: Any, fmt: str, version: int) -> None:
    """The document is an object with ``format == fmt`` and ``version == version``."""
    if not isinstance(doc, dict):
        raise InputError(file, "(top level)", f"must be a JSON object, got {type(doc).__name__}")
    if "format" not in doc:
        raise InputError(file, ["format"], f"missing field (expected {fmt!r})")
    if doc["format"] != fmt:
        raise InputError(file, ["format"], f"unknown format {doc['format']!r}, expected {fmt!r}")
    if "version" not in doc:
        raise InputError(file, ["version"], "missing field")
    v = doc["version"]
    if isinstance(v, bool) or v != version:
        raise InputError(
            file, ["version"], f"unsupported version {v!r}, this splitopt reads {version}"
        )


def check_fields(
    file: str | os.PathLike | None,
    obj: Any,
    path: list[str | int],
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> None:
    """``obj`` is an object with every required field and no unknown one."""
    if not isinstance(obj, dict):
        raise InputError(file, path, f"must be a JSON object, got {type(obj).__name__}")
    for name in required:
        if name not in obj:
            raise InputError(file, [*path, name], "missing field")
    known = set(required) | set(optional)
    for name in obj:
        if name not in known:
            raise InputError(
                file, [*path, name], f"unknown field (known: {', '.join(sorted(known))})"
            )


def get_number(
    file: str | os.PathLike | None,
    value: Any,
    path: list[str | int],
    *,
    positive: bool = False,
    nonneg: bool = True,
    integer: bool = False,
) -> float:
    """A finite JSON number (not a bool), checked for sign."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(file, path, f"must be a number, got {json.dumps(value)}")
    try:
        x = float(value)
    except OverflowError:
        raise InputError(file, path, "must be finite (number too large)") from None
    if not math.isfinite(x):
        raise InputError(file, path, "must be finite")
    if integer and x != int(x):
        raise InputError(file, path, f"must be a whole number, got {value!r}")
    if positive and x <= 0:
        raise InputError(file, path, f"must be > 0, got {value!r}")
    if nonneg and x < 0:
        raise InputError(file, path, f"must be non-negative, got {value!r}")
    return x


def get_string(
    file: str | os.PathLike | None, value: Any, path: list[str | int], choices: Sequence[str] = ()
) -> str:
    """A JSON string, optionally one of ``choices``."""
    if not isinstance(value, str):
        raise InputError(file, path, f"must be a string, got {json.dumps(value)}")
    if choices and value not in choices:
        raise InputError(file, path, f"unknown value {value!r}; valid values: {', '.join(choices)}")
    return value


def get_number_list(
    file: str | os.PathLike | None, value: Any, path: list[str | int], length: int | None = None
) -> list[float]:
    """A JSON array of finite non-negative numbers, of ``length`` when given."""
    if not isinstance(value, list):
        raise InputError(file, path, f"must be an array of numbers, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise InputError(file, path, f"has length {len(value)}, expected {length}")
    out = []
    for i, v in enumerate(value):
        t = type(v)
        if t is float:
            if not (v >= 0 and v != math.inf):  # NaN fails both
                get_number(file, v, [*path, i])
            out.append(v)
        else:
            out.append(get_number(file, v, [*path, i]))
    return out
