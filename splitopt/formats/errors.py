"""Input errors that name the file and the JSON path, and the JSON helpers every
reader and writer uses (strict parsing, path formatting, atomic writes)."""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import math
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from splitopt.errors import InputError, JsonPath, format_path  # noqa: F401 - re-exported
from splitopt.outputs import write_text


class _NonFinite:
    """What a ``NaN``/``Infinity`` literal parses to, so its JSON path can be named."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


class _DupKeys(dict):
    """An object that repeated a key (the first repeated key is ``dup``)."""

    dup: str = ""


def _find(obj: Any, path: list[str | int]) -> tuple[list[str | int], str] | None:
    """Path and message of the first non-finite literal or repeated key in ``obj``."""
    stack: list[tuple[Any, list[str | int]]] = [(obj, path)]
    while stack:
        o, p = stack.pop()
        if isinstance(o, _NonFinite):
            return p, f"{o.literal} is not valid JSON (numbers must be finite)"
        if isinstance(o, _DupKeys):
            return [*p, o.dup], "duplicate key (each key may appear once in an object)"
        if isinstance(o, dict):
            stack.extend((v, [*p, k]) for k, v in reversed(list(o.items())))
        elif isinstance(o, list):
            stack.extend((v, [*p, i]) for i, v in reversed(list(enumerate(o))))
    return None


#: ``SPLITOPT_JSON=stdlib`` selects the standard library's parser and the per-request
#: problem reader alone (the reference path the tests compare the fast one with)
_FAST = os.environ.get("SPLITOPT_JSON", "") != "stdlib"
_KEY_SPACE = re.compile(rb'"[ \t\r\n]+:')
_BLANKS = (b" ", b"\t", b"\r", b"\n")


def _count_keys(obj: Any, max_objects: int | None = None) -> int:
    """Keys of every object in a parsed document, level by level: the members of all
    the containers of one level are looked at together (their types at C speed), so
    long lists of numbers cost no Python step per number. ``max_objects``: at most
    this many objects are in the document (e.g. the ``{`` of its text): once that
    many are counted, no deeper level can hold another, and the walk stops (the
    numbers of a problem file's arrays are then never looked at)."""
    n = 0
    seen = 0
    level = [obj]
    while level:
        dicts = [o for o in level if type(o) is dict]
        lists = [o for o in level if type(o) is list]
        n += sum(map(len, dicts))
        seen += len(dicts)
        if max_objects is not None and seen >= max_objects:
            break

        def members(dicts: list = dicts, lists: list = lists) -> Iterator[Any]:
            return itertools.chain(
                itertools.chain.from_iterable(map(dict.values, dicts)),
                itertools.chain.from_iterable(lists),
            )

        kinds = set(map(type, members()))
        if dict in kinds or list in kinds:
            level = [v for v in members() if type(v) is dict or type(v) is list]
        else:
            level = []
    return n


#: Documents of at least this many bytes are parsed with the cyclic garbage collector
#: paused (:func:`gc_paused`; our choice: below it the collector costs little).
GC_PAUSE_BYTES = 1 << 20


@contextlib.contextmanager
def gc_paused(pause: bool = True) -> Iterator[None]:
    """Run the body with Python's cyclic garbage collector off, then put every object
    it tracks straight into its oldest generation (``gc.freeze()`` then
    ``gc.unfreeze()``), as if they had survived the young collections, without them.

    A parsed document of millions of lists and dicts holds no reference cycle, but
    the collector, triggered every few hundred new containers, scans all the young
    ones again and again: about as long as orjson's whole parse of a 100 MB file.
    Nothing is lost: a later full collection still sees every object. ``pause``
    False, or the collector already off: the body runs as it is; objects frozen
    before (``gc.freeze()`` by the caller) stay frozen (the young ones are then
    left to the collector)."""
    if not pause or not gc.isenabled():
        yield
        return
    frozen = gc.get_freeze_count()  # objects someone else froze: left as they are
    gc.disable()
    try:
        yield
    finally:
        if not frozen:
            gc.freeze()
            gc.unfreeze()
        gc.enable()


def _parse_fast(data: bytes) -> Any:
    """The document of ``data`` by orjson, or ``None`` where the strict parser must
    decide (orjson refused it, or a repeated key cannot be ruled out).

    orjson rejects ``NaN``/``Infinity``, malformed text and too-deep nesting (the strict
    parser then names the error) but keeps the last of repeated keys silently. Repeated
    keys are ruled out exactly: with no escaped quote and no blank before a colon after a
    quote, every key is one ``":`` in the text and every other ``":`` only adds to
    the count, so the text's count equals the parsed keys only if no key repeats.
    Every object is one ``{`` in the text (others sit in strings), so the key count
    stops looking once it has seen that many objects. Every ``":`` holds a ``:``, so
    where the text's colons are exactly its parsed keys (no colon in a string: the
    usual case) the two-byte count is not needed."""
    # one-byte searches first (memchr, ~50x faster): a compact text has no blank and
    # often no backslash at all, so the two-byte search and the pattern need not run
    if b"\\" in data and b'\\"' in data:
        return None
    if any(c in data for c in _BLANKS) and _KEY_SPACE.search(data) is not None:
        return None
    try:
        with gc_paused(len(data) >= GC_PAUSE_BYTES):
            doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    keys = _count_keys(doc, data.count(b"{"))
    # every key puts one ``":`` and so one ``:`` in the text: where the one-byte count
    # (memchr speed) already equals the keys, so does the two-byte one
    if data.count(b":") != keys and data.count(b'":') != keys:
        return None
    return doc


def parse_json(text: str, file: str | os.PathLike | None = None, data: bytes | None = None) -> Any:
    """Parse JSON text strictly; every error is an :class:`InputError` naming ``file``.

    ``data``: the UTF-8 bytes of ``text`` where the caller has them: parsed by orjson
    (fast) where that gives the same document, else by the strict parser below.

    Rejected, with the JSON path where it can be named: ``NaN``/``Infinity``
    literals, a key repeated in one object, nesting deeper than Python's parser
    allows (about 1000 levels), malformed text.
    """
    if data is not None and _FAST:
        doc = _parse_fast(data)
        if doc is not None:
            return doc
    flagged = False

    def constant(literal: str) -> _NonFinite:
        nonlocal flagged
        flagged = True
        return _NonFinite(literal)

    def pairs(items: list[tuple[str, Any]]) -> dict:
        nonlocal flagged
        d = dict(items)
        if len(d) != len(items):
            flagged = True
            d = _DupKeys(items)
            seen: set[str] = set()
            for k, _ in items:
                if k in seen:
                    d.dup = k
                    break
                seen.add(k)
        return d

    try:
        doc = json.loads(text, parse_constant=constant, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise InputError(
            file, "(file)", f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise InputError(
            file, "(file)", "JSON nested too deeply (more than ~1000 levels)"
        ) from None
    if flagged:
        try:
            found = _find(doc, [])
        except RecursionError:  # pragma: no cover - json.loads refuses such depths first
            found = None
        if found is not None:
            raise InputError(file, found[0], found[1])
    return doc


def load_json(file: str | os.PathLike) -> Any:
    """Read (once) and parse a JSON file strictly (see :func:`parse_json`)."""
    try:
        with open(file, "rb") as fh:  # one read: a pipe (``<(cat x.json)``) works
            data = fh.read()
        doc = _parse_fast(data) if _FAST else None  # bytes: no text copy when it decides
        if doc is not None:
            return doc
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise InputError(file, "(file)", "no such file") from None
    except IsADirectoryError:
        raise InputError(file, "(file)", "is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(file, "(file)", f"cannot be read: {exc}") from None
    return parse_json(text, file)


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
    """Write ``text`` to ``file`` under the one output policy (:mod:`splitopt.outputs`):
    atomic for files, direct for devices and FIFOs, through symlinks."""
    write_text(file, text)


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
