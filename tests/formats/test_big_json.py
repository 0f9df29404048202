"""The fast JSON path (orjson + the vectorised problem reader) gives the same
documents, problems and errors as the strict per-request path."""

from __future__ import annotations

import json

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
    "extra",
    [
        {"sla_s": 0},
        {"sla_s": None},
        {"weight": -1},
        {"weight": None},
        {"start": "moon"},
        {"start": [1]},
        {"meta": None},
        {"id": ""},
        {"id": "r1"},
        {"client_time_s": []},
        {"client_time_s": [0.1, True]},
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
