"""Generators of the docs site's reference pages (used by ``tools/mkdocs_hooks.py``).

Pages hold directives, one per line, which the build replaces by generated Markdown:

- ``<!-- splitopt:schema NAME -->``: the field table of ``splitopt/data/schemas/NAME.schema.json``
  (every field: path, type, unit, required, description). A field without a description
  is rendered with a visible "no description" flag and counted (:func:`missing_descriptions`).
- ``<!-- splitopt:schemas -->``: one section per shipped schema, whatever schemas exist.
- ``<!-- splitopt:cli -->``: the ``--help`` of ``splitopt`` and of every subcommand, from
  the argparse parsers (``splitopt.cli.build_parser``).
- ``<!-- splitopt:include PATH -->``: the text of a repository file (e.g. a generated
  results table under ``paper/generated/``); an unknown file fails the build.
- ``<!-- splitopt:generated -->``: every table and figure of ``paper/generated/``.
- ``<!-- splitopt:script PATH -->``: a Python script shown as a code block (the tutorials;
  the tests run the same files).

Nothing here is copied by hand: the tables come from the schemas, the parsers and the
files the paper is built from.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "splitopt" / "data" / "schemas"
DIRECTIVE = re.compile(r"^<!-- splitopt:(\w+)(?:\s+(\S+))?\s*-->\s*$", re.MULTILINE)
NO_DESCRIPTION = "**(no description)**"

# A unit from the field name when the schema gives none (our naming convention).
_SUFFIX_UNITS = (
    ("_per_token_s", "s per token"),
    ("_per_s", "1/s"),
    ("_bytes_per_token", "bytes per token"),
    ("_s0", "s"),
    ("_s1", "s per token"),
    ("_s", "s"),
    ("_bytes", "bytes"),
    ("_flops", "FLOP/s"),
    ("_gbps", "Gbit/s"),
    ("_mbps", "Mbit/s"),
    ("_gb", "GB"),
    ("_ms", "ms"),
    ("_hz", "Hz"),
    ("_tokens", "tokens"),
    ("_w", "W"),
)


class DocsError(Exception):
    """A directive that cannot be rendered (unknown schema, missing file): fails the build."""


def schema_names() -> list[str]:
    """The shipped schemas' names (``splitopt-problem``, …), sorted."""
    return sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))


def load_schema(name: str) -> dict:
    path = SCHEMAS / f"{name}.schema.json"
    if not path.is_file():
        raise DocsError(f"no schema {name!r} in {SCHEMAS} (have: {', '.join(schema_names())})")
    return json.loads(path.read_text())


def _resolve(schema: dict, node: dict) -> tuple[dict, str | None]:
    """Follow a local ``$ref``; returns the target and the name of the definition."""
    ref = node.get("$ref")
    if not ref:
        return node, None
    if not ref.startswith("#/"):
        raise DocsError(f"only local $ref are supported, got {ref!r}")
    target: Any = schema
    for part in ref[2:].split("/"):
        target = target[part]
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return merged, ref.rsplit("/", 1)[-1]


def _type(schema: dict, node: dict) -> str:
    node, ref = _resolve(schema, node)
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in node["enum"])
    for key in ("oneOf", "anyOf"):
        if key in node:
            return " or ".join(_type(schema, alt) for alt in node[key])
    t = node.get("type")
    if ref and node.get("type") == "object":
        return f"object ([{ref}](#{_anchor_def(schema.get('x-name', ''), ref)}))"
    if t == "array":
        items = node.get("items")
        inner = _type(schema, items) if isinstance(items, dict) else "any"
        return f"array of {inner}"
    if isinstance(t, list):
        return " or ".join(t)
    if t is None:
        return "any"
    bounds = []
    for key, sym in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if key in node:
            bounds.append(f"{sym} {node[key]}")
    return t + (f" ({', '.join(bounds)})" if bounds else "")


def _anchor_def(schema_name: str, name: str) -> str:
    return f"{schema_name}-{name}".replace("_", "-").lower()


def _unit(name: str, node: dict) -> str:
    for key in ("x-unit", "unit"):
        if key in node:
            return str(node[key])
    items = node.get("items")
    if isinstance(items, dict):
        for key in ("x-unit", "unit"):
            if key in items:
                return str(items[key])
    if name == "server_work":
        return "`work_unit`"
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def _description(schema: dict, node: dict) -> str | None:
    resolved, _ = _resolve(schema, node)
    text = node.get("description") or resolved.get("description")
    if not text and isinstance(resolved.get("items"), dict):
        text = resolved["items"].get("description") or None
    return " ".join(str(text).split()) if text else None


def iter_fields(schema: dict, node: dict) -> Iterator[tuple[str, dict, bool]]:
    """(name, field schema, required) of an object node's properties, in order."""
    node, _ = _resolve(schema, node)
    required = set(node.get("required", ()))
    for name, sub in node.get("properties", {}).items():
        yield name, sub, name in required


def field_table(schema: dict, node: dict, missing: list[str], where: str) -> str:
    """A Markdown table of the properties of one object node."""
    rows = ["| field | type | unit | required | description |", "|---|---|---|---|---|"]
    for name, sub, req in iter_fields(schema, node):
        desc = _description(schema, sub)
        if desc is None:
            missing.append(f"{where}.{name}")
        resolved, _ = _resolve(schema, sub)
        cell = (desc or NO_DESCRIPTION).replace("|", "\\|")
        rows.append(
            f"| `{name}` | {_type(schema, sub)} | {_unit(name, resolved)} | "
            f"{'yes' if req else ''} | {cell} |"
        )
    return "\n".join(rows)


def schema_markdown(name: str, level: int = 2, missing: list[str] | None = None) -> str:
    """The reference section of one file format, generated from its JSON Schema."""
    schema = {**load_schema(name), "x-name": name}
    missing = [] if missing is None else missing
    h = "#" * level
    out = [f"{h} `{name}`", ""]
    if schema.get("description"):
        out += [" ".join(schema["description"].split()), ""]
    out += [
        f"Schema: `splitopt/data/schemas/{name}.schema.json` ({schema.get('title', name)}). "
        "The top-level object:",
        "",
        field_table(schema, schema, missing, name),
        "",
    ]
    for def_name, node in schema.get("$defs", {}).items():
        if "properties" not in node:
            continue
        out += [f"{h}# `{def_name}` {{ #{_anchor_def(name, def_name)} }}", ""]
        if node.get("description"):
            out += [" ".join(node["description"].split()), ""]
        out += [field_table(schema, node, missing, f"{name}#{def_name}"), ""]
    return "\n".join(out)


def missing_descriptions() -> dict[str, list[str]]:
    """Fields without a description, per shipped schema (the build prints their count)."""
    out = {}
    for name in schema_names():
        missing: list[str] = []
        schema_markdown(name, missing=missing)
        out[name] = missing
    return out


def cli_markdown() -> str:
    """The help of ``splitopt`` and each subcommand, from the argparse parsers."""
    import argparse
    import os

    from splitopt.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        parser = build_parser()
        out = ["## `splitopt`", "", "```text", _help(parser), "```", ""]
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        helps = {a.dest: a.help for a in sub._choices_actions}
        for name, p in sub.choices.items():
            out += [f"## `splitopt {name}`", ""]
            if helps.get(name):
                out += [helps[name][0].upper() + helps[name][1:] + ".", ""]
            out += ["```text", _help(p), "```", ""]
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(out)


def _help(parser: Any) -> str:
    buf = io.StringIO()
    with redirect_stdout(buf):
        parser.print_help()
    return buf.getvalue().rstrip()


def generated_markdown() -> str:
    """Every table (``.md``) and figure (``.png``) of ``paper/generated/``, as the paper
    uses them; the figures are served as ``generated/NAME.png`` (tools/mkdocs_hooks.py)."""
    folder = ROOT / "paper" / "generated"
    out = []
    for md in sorted(folder.glob("*.md")):
        text = md.read_text().rstrip()
        out += [f"### `{md.name}`", "", _demote(text), ""]
    pngs = sorted(folder.glob("*.png"))
    if pngs:
        out += ["## Figures", ""]
        for png in pngs:
            out += [f"### `{png.stem}`", "", f"![{png.stem}](../generated/{png.name})", ""]
    return "\n".join(out)


def _demote(text: str) -> str:
    """Headings of an included file below the page's own (``#`` → ``####``)."""
    return re.sub(r"^(#{1,3}) ", lambda m: "#" * (len(m.group(1)) + 3) + " ", text, flags=re.M)


def repo_file(rel: str) -> Path:
    path = (ROOT / rel).resolve()
    if ROOT not in path.parents or not path.is_file():
        raise DocsError(f"{rel}: no such file in the repository")
    return path


def render(markdown: str, page: str = "") -> str:
    """Replace every directive of a page by its generated Markdown."""

    def one(m: re.Match) -> str:
        kind, arg = m.group(1), m.group(2)
        if kind == "schema":
            return schema_markdown(arg or "")
        if kind == "schemas":
            return "\n".join(schema_markdown(n) for n in schema_names())
        if kind == "cli":
            return cli_markdown()
        if kind == "include":
            if not arg:
                raise DocsError(f"{page}: include needs a path")
            return repo_file(arg).read_text().rstrip() + "\n"
        if kind == "generated":
            return generated_markdown()
        if kind == "script":
            if not arg:
                raise DocsError(f"{page}: script needs a path")
            text = repo_file(arg).read_text().rstrip()
            return f"```python title=\"{arg}\"\n{text}\n```\n"
        raise DocsError(f"{page}: unknown directive splitopt:{kind}")

    return DIRECTIVE.sub(one, markdown)


if __name__ == "__main__":  # pragma: no cover
    for name, fields in missing_descriptions().items():
        print(f"{name}: {len(fields)} fields without a description")
