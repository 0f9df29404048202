"""The fast JSON path (orjson + the vectorised problem reader) gives the same
documents, problems and errors as the strict per-request path."""

from __future__ import annotations

import json

import numpy as np
import pytest

from splitopt.formats import errors
from splitopt.formats import problem_file as pf
from splitopt.formats.errors import InputError, _parse_fast, parse_json
from splitopt.ragged import BatchProblem


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1,"a":2}',
        '{"a":1,"b":[{"c":1},{"c":2,"c":3}]}',
        '{"a":1,"a":2,"k" :3}',
        '{"a":1,"a":2,"k":"x\\":"}',
        '{"a":NaN}',
        '{"a":[1,2,{"x":":"}]}',
        '{"a":[[1],[{"b":1,"b":2}]]}',
        '{"a":"{{","b":[[{"c":1}],[{"d":[{"e":1,"e":2}]}]]}',
        '{"a":1,"a":2,"t":"1:2"}',  # a colon in a string: the two-byte count decides
        '{"t":":","a":1,"a":2}',
        "[1, 2",
    ],
)
def test_fast_parser_defers_to_the_strict_one(text: str) -> None:
    assert _parse_fast(text.encode()) is None


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1,"b":[1.5,2,{"x":"y","z":[]}],"c":{"d":null,"e":true}}',
        '{"a":"{","b":[[{"c":{}}],[{"d":[{"e":1,"f":2}]}]]}',
        '{"a":"1:2","b":[{"c":"x::"}]}',
        "[]",
        "3",
    ],
)
def test_fast_parser_same_document(text: str) -> None:
    assert _parse_fast(text.encode()) == json.loads(text)


def test_duplicate_key_still_named() -> None:
    text = '{"a":{"b":1,"b":2}}'
    with pytest.raises(InputError) as exc:
        parse_json(text, "f.json", text.encode())
    assert exc.value.path == ["a", "b"] or "a.b" in str(exc.value)


def _doc(**extra: object) -> dict:
    req = {
        "id": "r0",
        "client_time_s": [0.1, 0.2],
        "server_time_s": [0.01, 0],
        "server_work": [5, 7.5],
        "uplink_s": [0.3, 0.2, -0.0],
        "downlink_s": [0.1, 0.1, 0.1],
        "sla_s": 2,
    }
    other = {
        **req,
        "id": "r1",
        "memory_budget_bytes": 3,
        "client_memory_bytes": [1, 2],
        "weight": 4,
        "start": "server",
        "meta": {"k": [1]},
    }
    return {
        "format": "splitopt-problem",
        "version": 1,
        "requests": [{**req, **extra}, other, {**req, "id": "r2"}],
    }


def _slow(doc: dict) -> object:
    fast = pf._fast_problem
    pf._fast_problem = lambda reqs, name, unit: None  # type: ignore[assignment]
    try:
        return pf.problem_from_dict(doc, "p.json")
    finally:
        pf._fast_problem = fast


def test_vectorised_reader_same_problem() -> None:
    doc = _doc()
    assert pf._fast_problem(doc["requests"], "p", "FLOP") is not None
    fast = pf.problem_from_dict(doc, "p.json")
    assert isinstance(fast, BatchProblem)
    assert fast == _slow(doc)
    assert len(fast.chains) == 2  # r0 and r2 share one chain
    assert errors._FAST


@pytest.mark.parametrize(
    "every",
    [
        {"weight": 2, "start": "server", "end": "server", "meta": {"k": 1}},
        {"client_memory_bytes": [1, 2], "memory_budget_bytes": 5},
        {"weight": None},
        {"start": None},
        {"end": "server"},
        {"end": "moon"},
        {"meta": None},
        {"sla_s": None},
        {"memory_budget_bytes": None},
    ],
)
def test_vectorised_reader_fields_of_every_request(every: dict) -> None:
    """A field every request has (or none): the same problem, or the same error."""
    doc = _doc()
    doc["requests"] = [{**r, **every} for r in doc["requests"]]
    try:
        slow = _slow(doc)
    except InputError as exc:
        assert pf._fast_problem(doc["requests"], "p", "FLOP") is None
        with pytest.raises(InputError) as fast:
            pf.problem_from_dict(doc, "p.json")
        assert str(fast.value) == str(exc)
        return
    fast = pf.problem_from_dict(doc, "p.json")
    assert isinstance(fast, BatchProblem)
    assert fast == slow


@pytest.mark.parametrize(
    "extra",
    [
        {"sla_s": 0},
        {"sla_s": None},
        {"weight": -1},
        {"weight": None},
        {"start": "moon"},
        {"start": [1]},
        {"end": "Server"},
        {"end": 3},
        {"meta": None},
        {"id": ""},
        {"id": "r1"},
        {"client_time_s": []},
        {"client_time_s": [0.1, True]},
        {"client_time_s": [False, 0.2]},
        {"client_time_s": [1, True]},
        {"server_work": [True, False]},
        {"server_work": ["1", 2]},
        {"server_work": [None, 2]},
        {"server_work": [[1], [2]]},
        {"server_work": [{"a": 1}, 2]},
        {"server_work": [1, 10**400]},
        {"uplink_s": [0.1, 0.2]},
        {"server_work": [1, -2]},
        {"server_work": [1, 1e400]},
        {"memory_budget_bytes": -1},
        {"bogus": 1},
    ],
)
def test_vectorised_reader_same_errors(extra: dict) -> None:
    doc = _doc(**extra)
    assert pf._fast_problem(doc["requests"], "p", "FLOP") is None
    with pytest.raises(InputError) as fast:
        pf.problem_from_dict(doc, "p.json")
    with pytest.raises(InputError) as slow:
        _slow(doc)
    assert str(fast.value) == str(slow.value)


@pytest.mark.parametrize(
    "values",
    [
        [],
        [0, 1, 2],
        [0.0, -0.0, 1.0, 2.5],
        [2**53 + 1, 3],
        [2**63 + 5, 1.5],
        [2**64 - 1],
        [1, 1e300],
    ],
)
def test_numbers_as_numpy_float64(values: list) -> None:
    got = pf._numbers(values)
    want = np.array(values, dtype=np.float64)
    assert got is not None and got.dtype == np.float64
    assert got.tobytes() == want.tobytes()


def test_gc_paused_restores_the_collector() -> None:
    import gc

    assert gc.isenabled()
    with errors.gc_paused():
        assert not gc.isenabled()
        made = [[i] for i in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert all(gc.is_tracked(m) for m in made)
    gc.disable()
    try:
        with errors.gc_paused():  # the collector off already: left off
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    gc.freeze()  # someone's frozen objects stay frozen
    try:
        n = gc.get_freeze_count()
        with errors.gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled() and gc.get_freeze_count() == n > 0
    finally:
        gc.unfreeze()


def _rows_one_by_one(result) -> list[dict]:  # type: ignore[no-untyped-def]
    """The request rows as solution_to_dict built them row by row (the reference)."""
    from splitopt.formats.solution_file import _num
    from splitopt.infeasible import reasons

    why = reasons(result)
    ev = result.evaluation
    n = len(result.statuses)
    rows = []
    for i, rid in enumerate(result.problem.ids):
        row = {
            "id": rid,
            "status": result.statuses[i],
            "placement": ev.placements[i],
            "server_work": _num(float(ev.server_work[i])),
            "latency_s": _num(float(ev.latency_s[i])),
            "client_memory_bytes": _num(float(ev.client_memory_bytes[i])),
            "feasible": bool(ev.feasible[i]),
        }
        bound = None if result.bounds is None else result.bounds[i]
        message = None if result.messages is None else result.messages[i]
        if bound is not None:
            row["bound"] = _num(bound)
        if message:
            row["message"] = message
        if rid in why:
            row["reason"] = why[rid].to_dict()
        rows.append(row)
    assert len(rows) == n
    return rows


@pytest.mark.parametrize("solver", ["dp-grid", "greedy"])
def test_solution_rows_same_as_one_by_one(solver: str) -> None:
    import dataclasses

    import orjson

    from splitopt.formats.solution_file import _doc_text, solution_to_dict
    from splitopt.metrics import summarize
    from splitopt.solvers import get_solver
    from tests.conftest import as_problem, random_chains

    chains = random_chains(5, 70, integer=True, max_layers=6)
    chains += [dataclasses.replace(c, sla_s=c.sla_s * 1e-3 + 1e-3) for c in chains[:5]]
    result = get_solver(solver).solve(as_problem(chains))
    n = len(result.statuses)
    result = dataclasses.replace(
        result,
        bounds=tuple(None if i % 3 else float(i) + 0.5 * (i % 2) for i in range(n)),
        messages=tuple(None if i % 4 else f'note {{"id": {i}}},{{' for i in range(n)),
    )
    doc = solution_to_dict(result, summarize(result))
    want = _rows_one_by_one(result)
    assert not all(r["feasible"] for r in want)  # reasons written too
    assert [orjson.dumps(r) for r in doc["requests"]] == [orjson.dumps(r) for r in want]
    text = _doc_text(doc)
    lines = [line.rstrip(",") for line in text.splitlines()[-n - 2 : -2]]
    assert lines == [orjson.dumps(r).decode() for r in want]


def test_nums_same_as_num() -> None:
    from splitopt.formats.solution_file import _num, _nums

    a = np.array([0.0, -0.0, 1.5, 3.0, -7.0, 2.0**53, 2.0**53 - 1, 1e300, np.inf, -np.inf, np.nan])
    got, want = _nums(a), [_num(v) for v in a.tolist()]
    assert got == want or all(
        (g is None and w is None) or (type(g) is type(w) and g == w)
        for g, w in zip(got, want, strict=True)
    )
    assert [type(v) for v in got] == [type(v) for v in want]
    assert _nums(np.array([0.25, 1.5])) == [0.25, 1.5]


def test_doc_text_nested_rows_cut_one_by_one() -> None:
    import orjson

    from splitopt.formats.solution_file import _doc_text

    rows = [{"id": "a", "reason": {"x": [{"y": 1}, {"id": 2}]}}, {"id": "b"}, {"id": "c"}]
    text = _doc_text({"format": "f", "requests": rows})
    assert text.splitlines()[-5:-2] == [orjson.dumps(r).decode() + "," for r in rows[:2]] + [
        orjson.dumps(rows[2]).decode()
    ]
    assert json.loads(text)["requests"] == rows


def test_first_of_equal_finds_every_repeat() -> None:
    from splitopt.ragged import ChainBatch, _first_of_equal, _shared_hash_rows, take
    from tests.conftest import random_chains

    b = ChainBatch.from_chains(random_chains(9, 60, integer=True, max_layers=5))
    rng = np.random.default_rng(2)
    order = rng.integers(0, len(b), 200)
    got = _first_of_equal(take(b, order))
    # the reference: the first position holding the same source chain's content
    content = [b.chain(int(i)) for i in order]
    want = [content.index(c) for c in content]
    assert got.tolist() == want
    m = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [5.0, 6.0]])
    assert _shared_hash_rows([m[:, :1], m[:, 1:]]).tolist() == [0, 2]
    # one length, all chains back to back: the rows are views, repeats still found
    same = ChainBatch.from_chains([c for c in b.chains() if c.num_layers == 3] * 2)
    k = len(same) // 2
    assert _first_of_equal(same).tolist() == list(range(k)) * 2


@pytest.mark.parametrize("ids", [["a", ""], ["a", 5], ["a"]])
def test_batch_problem_refuses_bad_ids(ids: list) -> None:
    from splitopt.problem import DataError
    from splitopt.ragged import ChainBatch
    from tests.conftest import random_chains

    b = ChainBatch.from_chains(random_chains(3, 2, integer=False))
    with pytest.raises(DataError, match="one non-empty string per request"):
        BatchProblem("p", b, ids, np.ones(2))


@pytest.mark.parametrize(
    "ids",
    [
        None,  # r0, r1, ...
        ["a\"b", "c\\d", "e\x01", "naïve", "日本", "😀x", "/", "\x7f", "a,b", '},{"id":'],
    ],
)
@pytest.mark.parametrize("solver", ["greedy", "dp-grid"])
def test_result_text_same_as_doc_text(solver: str, ids: list[str] | None) -> None:
    """The solution file's text built column by column (_result_text, what solve
    --json writes) is byte for byte the text of the document built row by row
    (_doc_text of solution_to_dict), with bounds, messages, reasons, NaN figures,
    unusual statuses and ids orjson escapes."""
    import dataclasses

    from splitopt.formats.solution_file import _doc_text, _result_text, solution_to_dict
    from splitopt.metrics import summarize
    from splitopt.problem import Problem, Request
    from splitopt.solvers import get_solver
    from tests.conftest import random_chains

    chains = random_chains(7, 70, integer=False, max_layers=6)
    chains += [dataclasses.replace(c, sla_s=c.sla_s * 1e-3 + 1e-3) for c in chains[:5]]
    names = [f"r{i}" for i in range(len(chains))]
    if ids is not None:
        names[: len(ids)] = ids
    problem = Problem("t", tuple(Request(n, c) for n, c in zip(names, chains, strict=True)))
    base = get_solver(solver).solve(problem)
    n = len(base.statuses)
    variants = [
        base,
        dataclasses.replace(
            base,
            bounds=tuple(None if i % 3 else float(i) + 0.5 * (i % 2) for i in range(n)),
            messages=tuple(None if i % 4 else f'note {{"id": {i}}},{{' for i in range(n)),
        ),
        dataclasses.replace(base, statuses=("solved\n", *base.statuses[1:])),
    ]
    for result in variants:
        s = summarize(result)
        assert _result_text(result, s) == _doc_text(solution_to_dict(result, s))
    assert not all(base.evaluation.feasible)  # reasons and null figures written too


def test_result_text_one_request() -> None:
    from splitopt.formats.solution_file import _doc_text, _result_text, solution_to_dict
    from splitopt.metrics import summarize
    from splitopt.solvers import get_solver
    from tests.conftest import as_problem, random_chains

    result = get_solver("greedy").solve(as_problem(random_chains(1, 1, integer=True)))
    s = summarize(result)
    assert _result_text(result, s) == _doc_text(solution_to_dict(result, s))
