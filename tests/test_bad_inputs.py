"""Input at fault is exit 2 with one line naming the file and the field (issue 9 group 6).

Each class of bad input has a generator of cases; every case runs the CLI in-process
and checks: exit code 2, exactly one line on stderr, the file and the JSON path named,
no traceback, nothing written.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from splitopt.cli import main
from splitopt.errors import InputError, format_path
from splitopt.formats.errors import parse_json

ROOT = Path(__file__).resolve().parents[1]
HANDMADE = ROOT / "tests" / "data" / "tiny" / "handmade.json"
SCENARIO = ROOT / "tests" / "data" / "scenario" / "good" / "explicit.json"


def _cli(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("splitopt"), err
    assert "Traceback" not in err and "internal error" not in err
    for n in needles:
        assert n in err, (n, err)


def _problem() -> dict:
    return json.loads(HANDMADE.read_text())


def _scenario() -> dict:
    return json.loads(SCENARIO.read_text())


# ------------------------------------------------------------------ deep nesting


@pytest.mark.parametrize("depth", [1_500, 20_000, 200_000])
@pytest.mark.parametrize("where", ["top level", "a field", "meta"])
@pytest.mark.parametrize("command", ["solve", "validate", "compile", "evaluate"])
def test_deeply_nested_json(depth, where, command, tmp_path, capsys):
    deep = "[" * depth + "]" * depth
    if where == "top level":
        text = deep
    elif where == "a field":
        text = _set(_problem(), ["requests", 0, "sla_s"], deep)
    else:
        text = '{"format": "splitopt-problem", "version": 1, "meta": ' + deep + "}"
    bad = tmp_path / "deep.json"
    bad.write_text(text)
    out = tmp_path / "out.json"
    argv = {
        "solve": ["solve", bad, "--json", out],
        "validate": ["validate", bad],
        "compile": ["compile", bad, "-o", out],
        "evaluate": ["evaluate", HANDMADE, bad, "--json", out],
    }[command]
    code, _, err = _cli(capsys, *argv)
    _one_line_error(code, err, str(bad), "nested too deeply")
    assert not out.exists()


# ------------------------------------------------------------------ duplicate keys, NaN


def _set(doc: dict, path: list, raw: str) -> str:
    """JSON text of ``doc`` with the value at ``path`` replaced by the raw text ``raw``."""
    marker = "__MARK__"
    d = copy.deepcopy(doc)
    obj = d
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = marker
    return json.dumps(d).replace(json.dumps(marker), raw)


FIELDS = [
    (["name"], "name"),
    (["requests", 0, "sla_s"], "requests[0].sla_s"),
    (["requests", 2, "uplink_s", 1], "requests[2].uplink_s[1]"),
    (["requests", 1, "client_time_s", 0], "requests[1].client_time_s[0]"),
]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(("path", "shown"), FIELDS, ids=[s for _, s in FIELDS])
def test_non_finite_literal_is_named_at_its_field(literal, path, shown, tmp_path, capsys):
    bad = tmp_path / "nan.json"
    bad.write_text(_set(_problem(), path, literal))
    code, _, err = _cli(capsys, "validate", bad)
    _one_line_error(code, err, f"{bad}: {shown}: {literal} is not valid JSON")
    assert "(file)" not in err


DUPLICATES = [  # (text, the same with a key repeated, the path shown)
    ('"version": 1,', '"version": 1, "version": 1,', "version"),
    ('"sla_s": 6,', '"sla_s": 6, "sla_s": 7,', "requests[0].sla_s"),
    ('{"id": "switch-back",', '{"id": "switch-back", "id": "x",', "requests[0].id"),
    ('"meta": {"optimum": 8,', '"meta": {"optimum": 8, "optimum": 9,', "requests[0].meta.optimum"),
]


@pytest.mark.parametrize(("old", "new", "shown"), DUPLICATES, ids=[s for *_, s in DUPLICATES])
def test_duplicate_key_is_refused_naming_its_path(old, new, shown, tmp_path, capsys):
    text = HANDMADE.read_text()
    assert old in text
    bad = tmp_path / "dup.json"
    bad.write_text(text.replace(old, new, 1))
    code, _, err = _cli(capsys, "validate", bad)
    _one_line_error(code, err, f"{bad}: {shown}: duplicate key")


def test_duplicate_key_in_a_scenario_and_a_solution(tmp_path, capsys):
    sc = tmp_path / "s.json"
    sc.write_text(
        SCENARIO.read_text().replace('"dtype": "fp16"', '"dtype": "fp16", "dtype": "fp32"')
    )
    code, _, err = _cli(capsys, "validate", sc)
    _one_line_error(code, err, f"{sc}: models.gpt.dtype: duplicate key")
    sol = tmp_path / "sol.json"
    assert main(["solve", str(HANDMADE), "--json", str(sol)]) == 0
    sol.write_text(sol.read_text().replace('"solver": "dp"', '"solver": "dp", "solver": "x"'))
    capsys.readouterr()
    code, _, err = _cli(capsys, "evaluate", HANDMADE, sol)
    _one_line_error(code, err, f"{sol}: solver: duplicate key")


# ------------------------------------------------------------------ tiny / subnormal numbers


@pytest.mark.parametrize("sla", ["5e-324", "1e-310", "2.2250738585072014e-308", "1e-300", "9e-10"])
def test_sla_below_one_nanosecond_is_refused(sla, tmp_path, capsys):
    bad = tmp_path / "sla.json"
    bad.write_text(_set(_problem(), ["requests", 0, "sla_s"], sla))
    for solver in ("dp", "ilp-cbc", "ilp-cpsat"):
        code, _, err = _cli(capsys, "solve", bad, "--solver", solver, "--json", tmp_path / "o")
        _one_line_error(code, err, f"{bad}: requests[0].sla_s: must be >= 1e-09")
    assert not (tmp_path / "o").exists()


def test_sla_in_a_scenario_below_one_nanosecond(tmp_path, capsys):
    doc = _scenario()
    doc["requests"][1]["sla_s"] = 5e-324
    bad = tmp_path / "s.json"
    bad.write_text(json.dumps(doc))
    code, _, err = _cli(capsys, "validate", bad)
    _one_line_error(code, err, f"{bad}: requests[1].sla_s: must be >= 1e-09")


TINY_DATA = {
    "client_time_s": [1e-322, 1e-322, 0],
    "server_time_s": [0, 0, 5e-324],
    "server_work": [1, 2, 1],
    "uplink_s": [0, 5e-324, 1e-323, 0],
    "downlink_s": [0, 0, 1e-323, 0],
    "client_memory_bytes": [1e-320, 0, 1e-321],
    "memory_budget_bytes": 5e-324,
}


@pytest.mark.parametrize(
    "solver", ["dp", "dp-exact", "greedy", "ilp-cbc", "ilp-highs", "ilp-scip", "ilp-cpsat"]
)
@pytest.mark.parametrize("grid", [[], ["--grid", "1000"]], ids=["exact", "grid"])
def test_smallest_sla_with_subnormal_data_never_crashes(solver, grid, tmp_path, capsys):
    """At the SLA floor, subnormal times and budgets: a result or a refusal, never exit 1."""
    from splitopt.solvers import available

    if not available(solver):
        pytest.skip(f"{solver} not installed")
    doc = {
        "format": "splitopt-problem",
        "version": 1,
        "name": "tiny",
        "requests": [{"id": "r0", **TINY_DATA, "sla_s": 1e-9}],
    }
    f = tmp_path / "tiny.json"
    f.write_text(json.dumps(doc))
    code, _, err = _cli(capsys, "solve", f, "--solver", solver, *grid, "--json", tmp_path / "o")
    assert code in (0, 2), err
    assert "Traceback" not in err and all(line.startswith("splitopt") for line in err.splitlines())


@pytest.mark.parametrize("flag", ["--tick", "--mem-tick"])
@pytest.mark.parametrize("value", ["5e-324", "1e-310"])
def test_subnormal_tick_is_a_usage_error(flag, value, capsys):
    code, _, err = _cli(capsys, "solve", HANDMADE, flag, value)
    _one_line_error(code, err, "too small")


# ------------------------------------------------------------------ seeds


@pytest.mark.parametrize("seed", ["-1", "-99", str(2**63), "1.5", "x"])
@pytest.mark.parametrize("command", ["generate", "verify", "experiment"])
def test_bad_seed_is_exit_2_one_line(seed, command, tmp_path, capsys):
    argv = {
        "generate": ["generate", "random-chain", "--seed", seed, "-o", tmp_path / "g.json"],
        "verify": ["verify", "--n", "1", "--seed", seed, "--out", tmp_path / "v"],
        "experiment": ["experiment", "sleepy", "--seed", seed, "--out", tmp_path / "e.csv"],
    }[command]
    code, _, err = _cli(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and "--seed" in err and seed in err, err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ solution files


def _solution(tmp_path: Path, capsys) -> tuple[Path, dict]:
    sol = tmp_path / "sol.json"
    assert main(["solve", str(HANDMADE), "--json", str(sol)]) == 0
    capsys.readouterr()
    return sol, json.loads(sol.read_text())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("runtime_s", "fast"),
        ("runtime_s", True),
        ("runtime_s", -1),
        ("runtime_s", [1]),
        ("runtime_s", {"s": 1}),
        ("solver", 5),
        ("solver", None),
    ],
)
def test_bad_solution_header_field(field, value, tmp_path, capsys):
    sol, doc = _solution(tmp_path, capsys)
    doc[field] = value
    sol.write_text(json.dumps(doc))
    out = tmp_path / "re.json"
    code, _, err = _cli(capsys, "evaluate", HANDMADE, sol, "--json", out)
    _one_line_error(code, err, f"{sol}: {field}:")
    assert not out.exists()


def test_solve_with_two_solvers_round_trips_through_evaluate(tmp_path, capsys):
    """solve --json with several solvers writes a solution list; evaluate scores each."""
    sol = tmp_path / "both.json"
    code, _, err = _cli(capsys, "solve", HANDMADE, "--solver", "dp,greedy", "--json", sol)
    assert code == 0, err
    assert [d["solver"] for d in json.loads(sol.read_text())] == ["dp", "greedy"]
    re = tmp_path / "re.json"
    code, out, err = _cli(capsys, "evaluate", HANDMADE, sol, "--json", re)
    assert code == 0, err
    before = json.loads(sol.read_text())
    after = json.loads(re.read_text())
    assert [d["solver"] for d in after] == ["dp", "greedy"]
    assert [d["objective"] for d in after] == [d["objective"] for d in before]
    assert "dp: evaluator objective" in out and "greedy: evaluator objective" in out


def test_solution_list_of_several_files_is_filtered_by_instance(tmp_path, capsys):
    other = tmp_path / "other.json"
    doc = _problem()
    doc["name"] = "another"
    other.write_text(json.dumps(doc))
    sol = tmp_path / "all.json"
    assert (
        main(["solve", str(HANDMADE), str(other), "--solver", "dp,greedy", "--json", str(sol)]) == 0
    )
    capsys.readouterr()
    assert len(json.loads(sol.read_text())) == 4
    re = tmp_path / "re.json"
    code, _, err = _cli(capsys, "evaluate", other, sol, "--json", re)
    assert code == 0, err
    assert {d["instance"] for d in json.loads(re.read_text())} == {"another"}
    third = tmp_path / "third.json"
    doc["name"] = "third"
    third.write_text(json.dumps(doc))
    code, _, err = _cli(capsys, "evaluate", third, sol)
    _one_line_error(code, err, f"{sol}: (top level): no solution for instance 'third'")


@pytest.mark.parametrize(
    ("edit", "shown"),
    [
        (lambda docs: docs.__setitem__(1, 7), "[1]: must be a JSON object"),
        (lambda docs: docs[0].__setitem__("format", "x"), "[0].format: unknown format"),
        (lambda docs: docs[1].__setitem__("runtime_s", "x"), "[1].runtime_s: must be a number"),
        (lambda docs: docs[1]["requests"][0].__setitem__("id", 3), "[1].requests[0].id"),
        (lambda docs: docs.clear(), "(top level): an empty list"),
    ],
)
def test_bad_solution_list_names_the_element(edit, shown, tmp_path, capsys):
    sol = tmp_path / "both.json"
    assert main(["solve", str(HANDMADE), "--solver", "dp,greedy", "--json", str(sol)]) == 0
    capsys.readouterr()
    docs = json.loads(sol.read_text())
    edit(docs)
    sol.write_text(json.dumps(docs))
    code, _, err = _cli(capsys, "evaluate", HANDMADE, sol)
    _one_line_error(code, err, f"{sol}: {shown}")


# ------------------------------------------------------------------ Dask addresses


@pytest.mark.parametrize(
    "address", ["nonsense", "tcp://", "host:99999", "tcp://host:0", "tcp://a b:1", ""]
)
def test_malformed_dask_address_is_refused_up_front(address, tmp_path, capsys):
    code, _, err = _cli(
        capsys, "experiment", "sleepy", "--dask", address, "--out", tmp_path / "e.csv"
    )
    assert code == 2 and err.count("\n") == 1 and "--dask" in err, err
    assert list(tmp_path.iterdir()) == []


def test_unreachable_dask_scheduler_is_exit_2(tmp_path):
    """A well-formed address nobody listens on: exit 2 after the short connect timeout
    (the subprocess timeout only guards against a hang; no speed is asserted)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "splitopt",
            "experiment",
            "discretisation",  # a catalogue experiment: the subprocess has no test-only ones
            "--dask",
            "tcp://127.0.0.1:1",
            "--out",
            str(tmp_path / "e.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "cannot reach a Dask scheduler" in proc.stderr
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ scenarios: caps, cost model


@pytest.mark.parametrize("value", ["1e7", "10001", "1e300", "123456789"])
@pytest.mark.parametrize("field", ["num_layers", "num_decoder_layers"])
def test_layer_count_above_the_cap(field, value, tmp_path, capsys):
    doc = _scenario()
    arch = doc["models"]["gpt"]["architecture"]
    arch[field] = "__V__"
    bad = tmp_path / "big.json"
    bad.write_text(json.dumps(doc).replace('"__V__"', value))
    code, _, err = _cli(capsys, "compile", bad, "-o", tmp_path / "p.json")
    _one_line_error(code, err, f"{bad}: models.gpt.architecture.{field}: must be <= 10,000")
    assert not (tmp_path / "p.json").exists()


COST_MODEL = [
    (["clients", "desk", "device", "memory_bandwidth_bytes_per_s"], 1e-320, "clients.desk.device"),
    # the desk (an RTX 4090 run by llama.cpp) multiplies fp16 at its FP16-accumulate rate
    (["clients", "desk", "device", "peak_flops", "fp16_acc16"], 1e-300, "clients.desk.device"),
    (["server", "device", "peak_flops", "fp16"], 1e-300, "server.device"),
    (["server", "device", "memory_bandwidth_bytes_per_s"], 1e-320, "server.device"),
    (
        ["clients", "desk", "network", "uplink_bit_per_s"],
        1e-320,
        "clients.desk.network.uplink_bit_per_s",
    ),
    (
        ["clients", "desk", "network", "downlink_bit_per_s"],
        1e-320,
        "clients.desk.network.downlink_bit_per_s",
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "shown"), COST_MODEL, ids=[c[2] + str(c[1]) for c in COST_MODEL]
)
def test_cost_model_errors_name_the_device_field(path, value, shown, tmp_path, capsys):
    doc = _scenario()
    obj = doc
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value
    bad = tmp_path / "s.json"
    bad.write_text(json.dumps(doc))
    code, _, err = _cli(capsys, "validate", bad)
    _one_line_error(code, err, f"{bad}: {shown}: the cost model gives")


# ------------------------------------------------------------------ warnings


def test_warnings_never_break_the_one_line_error(monkeypatch, tmp_path, capsys):
    import splitopt.formats.read as reader

    real = reader.read_with_doc

    def noisy(file):  # type: ignore[no-untyped-def]
        warnings.warn("overflow encountered in divide", RuntimeWarning, stacklevel=1)
        return real(file)

    monkeypatch.setattr(reader, "read_with_doc", noisy)
    code, _, err = _cli(capsys, "solve", HANDMADE, "--solver", "nope")
    _one_line_error(code, err, "nope")
    bad = tmp_path / "b.json"
    bad.write_text("{")
    code, _, err = _cli(capsys, "solve", bad)
    _one_line_error(code, err, f"{bad}: (file): malformed JSON")
    # a successful run reports each distinct warning once, one line each
    code, _, err = _cli(capsys, "solve", HANDMADE, "--json", "-")
    assert (
        code == 0 and err == "splitopt: warning: RuntimeWarning: overflow encountered in divide\n"
    )


# ------------------------------------------------------------------ property: any JSON tree


_KEYS = st.text("abcxyz_", min_size=1, max_size=4)
_TREES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-1e3, 1e3) | st.text(max_size=3),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_KEYS, kids, max_size=4),
    max_leaves=20,
)


def _nodes(obj, path=()):  # type: ignore[no-untyped-def]
    yield path, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _nodes(v, (*path, i))


def _emit(obj, path, at, bad) -> str:  # type: ignore[no-untyped-def]
    """JSON text of ``obj`` where the node at ``at`` is ``bad(node)`` (raw text)."""
    if path == at:
        return bad(obj)
    if isinstance(obj, dict):
        inner = ", ".join(
            f"{json.dumps(k)}: {_emit(v, (*path, k), at, bad)}" for k, v in obj.items()
        )
        return "{" + inner + "}"
    if isinstance(obj, list):
        return "[" + ", ".join(_emit(v, (*path, i), at, bad) for i, v in enumerate(obj)) + "]"
    return json.dumps(obj)


@given(tree=_TREES, pick=st.integers(0, 10**6), literal=st.sampled_from(["NaN", "-Infinity"]))
def test_property_non_finite_literal_is_named_wherever_it_is(tree, pick, literal):
    nodes = list(_nodes(tree))
    at, _ = nodes[pick % len(nodes)]
    text = _emit(tree, (), at, lambda node: literal)
    with pytest.raises(InputError) as exc:
        parse_json(text, "t.json")
    assert exc.value.path == format_path(list(at))
    assert f"{literal} is not valid JSON" in exc.value.reason


@given(tree=_TREES, pick=st.integers(0, 10**6))
def test_property_duplicate_key_is_named_wherever_it_is(tree, pick):
    objects = [(p, o) for p, o in _nodes(tree) if isinstance(o, dict) and o]
    if not objects:
        assert parse_json(json.dumps(tree)) == tree
        return
    at, obj = objects[pick % len(objects)]
    key = sorted(obj)[pick % len(obj)]

    def dup(node: dict) -> str:
        items = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in node.items()]
        items.append(f"{json.dumps(key)}: 0")
        return "{" + ", ".join(items) + "}"

    with pytest.raises(InputError) as exc:
        parse_json(_emit(tree, (), at, dup), "t.json")
    assert exc.value.path == format_path([*at, key])
    assert "duplicate key" in exc.value.reason


def test_solution_list_with_a_bad_placement_names_its_document(tmp_path, capsys):
    sol = tmp_path / "both.json"
    assert main(["solve", str(HANDMADE), "--solver", "dp,greedy", "--json", str(sol)]) == 0
    capsys.readouterr()
    docs = json.loads(sol.read_text())
    docs[1]["requests"][0]["placement"] = "C"  # wrong length
    sol.write_text(json.dumps(docs))
    code, _, err = _cli(capsys, "evaluate", HANDMADE, sol)
    _one_line_error(code, err, f"{sol}: [1].requests:")


@pytest.mark.parametrize("kind", ["file", "/dev/null"])
def test_verify_out_that_is_not_a_folder_is_refused_before_work(kind, tmp_path, capsys):
    out = tmp_path / "f.txt" if kind == "file" else Path("/dev/null")
    if kind == "file":
        out.write_text("keep\n")
    code, stdout, err = _cli(capsys, "verify", "--n", "1", "--out", out)
    _one_line_error(code, err, f"{out}: exists and is not a folder")
    assert stdout == "" and (kind != "file" or out.read_text() == "keep\n")
