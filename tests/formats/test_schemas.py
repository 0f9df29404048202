"""The shipped JSON Schemas are the generated ones, and shipped files validate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from splitopt.formats import schemas
from splitopt.formats.read import read_any
from splitopt.formats.solution_file import solution_dumps
from splitopt.metrics import summarize
from splitopt.scenario import catalogue
from splitopt.solvers import get_solver

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SHIPPED = sorted(
    [
        *(ROOT / "instances").rglob("*.json"),
        *(DATA / "tiny").glob("*.json"),
        *(DATA / "scenario" / "good").glob("*.json"),
    ]
)
BY_FORMAT = {
    "splitopt-problem": "problem",
    "splitopt-scenario": "scenario",
    "splitopt-profile": "profile",
    "splitopt-cluster": "cluster",
}


def _format(path: Path) -> str:
    return json.loads(path.read_text())["format"]


WITH_SCHEMA = [p for p in SHIPPED if _format(p) in BY_FORMAT]


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(schemas.shipped(name))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", schemas.NAMES)
def test_shipped_schema_is_the_generated_one(name: str) -> None:
    assert schemas.shipped(name) == schemas.schema_text(name), (
        f"regenerate with: python -m splitopt.formats.schemas ({name})"
    )


def test_every_shipped_file_has_a_schema() -> None:
    assert {_format(p) for p in SHIPPED} <= set(BY_FORMAT)


@pytest.mark.parametrize("name", schemas.NAMES)
def test_every_property_is_described(name: str) -> None:
    """The field reference is rendered from these: no property without a description."""
    missing = []

    def walk(node, where):
        if isinstance(node, dict):
            for k, prop in node.get("properties", {}).items():
                if not str(prop.get("description", "")).strip():
                    missing.append(f"{where}.{k}")
            for k, v in node.items():
                walk(v, f"{where}.{k}")
        elif isinstance(node, list):
            for v in node:
                walk(v, where)

    walk(schemas.schema(name), name)
    assert not missing, missing


@pytest.mark.parametrize("path", WITH_SCHEMA, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_file_validates(path: Path) -> None:
    doc = json.loads(path.read_text())
    errors = list(_validator(BY_FORMAT[doc["format"]]).iter_errors(doc))
    assert not errors, [e.message for e in errors[:3]]


def test_written_solutions_validate() -> None:
    problem = read_any(ROOT / "instances" / "demo" / "scenario.json")
    results = [get_solver(n).solve(problem) for n in ("dp-exact", "greedy", "server-only")]
    sums = [summarize(r) for r in results]
    v = _validator("solution")
    one = json.loads(solution_dumps(results[0], sums[0]))
    many = json.loads(solution_dumps(results, sums))
    for doc in (one, many):
        errors = list(v.iter_errors(doc))
        assert not errors, [e.message for e in errors[:3]]
    one["requests"][0]["placement"] = "CXS"
    assert list(v.iter_errors(one))
    del one["requests"][0]["placement"]
    assert list(v.iter_errors(one))


@pytest.mark.parametrize(
    ("kind", "ref"),
    [
        ("devices", "explicit_device"),
        ("networks", "explicit_network"),
        ("architectures", "explicit_architecture"),
    ],
)
def test_catalogue_entries_validate_as_explicit_objects(kind: str, ref: str) -> None:
    schema = json.loads(schemas.shipped("scenario"))
    sub = {"$defs": schema["$defs"], "$ref": f"#/$defs/{ref}"}
    v = jsonschema.Draft202012Validator(sub)
    for e in catalogue.entries(kind):
        errors = list(v.iter_errors(e))
        assert not errors, (e["name"], [x.message for x in errors[:3]])


@pytest.mark.parametrize(
    "name",
    [
        "missing-sla.json",
        "unknown-field.json",
        "bad-dtype.json",
        "count-and-rate.json",
        "zero-sla.json",
        "unknown-device.json",
        "arch-bad-kind.json",
        "multiline-description.json",
    ],
)
def test_broken_scenarios_fail_the_schema(name: str) -> None:
    doc = json.loads((DATA / "scenario" / "broken" / name).read_text())
    assert list(_validator("scenario").iter_errors(doc))


@pytest.mark.parametrize(
    "name", ["missing_sla.json", "negative_uplink.json", "unknown_request_field.json"]
)
def test_broken_problems_fail_the_schema(name: str) -> None:
    doc = json.loads((DATA / "broken" / name).read_text())
    assert list(_validator("problem").iter_errors(doc))


@pytest.mark.parametrize("name", ["negative_memory.json", "zero_blocks.json", "bool_memory.json"])
def test_broken_clusters_fail_the_schema(name: str) -> None:
    doc = json.loads((DATA / "broken-cluster" / name).read_text())
    assert list(_validator("cluster").iter_errors(doc))


def test_written_placements_validate() -> None:
    from splitopt.formats.cluster_file import read_cluster
    from splitopt.formats.placement_file import placements_to_dict
    from splitopt.placement import get_algorithm

    cluster = read_cluster(ROOT / "instances" / "clusters" / "tiny.json")
    results = [get_algorithm(a).solve(cluster) for a in ("cg-bprr", "petals", "bprr-brute")]
    doc = json.loads(json.dumps(placements_to_dict(cluster, results)))
    v = _validator("placement")
    errors = list(v.iter_errors(doc))
    assert not errors, [e.message for e in errors[:3]]
    del doc["results"][0]["servers"]  # a feasible result must carry its placement
    assert list(v.iter_errors(doc))
    doc["results"][0]["status"] = "infeasible"
    assert not list(v.iter_errors(doc))
