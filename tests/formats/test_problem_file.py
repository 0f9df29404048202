"""Reading, validating and writing splitopt-problem files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from splitopt.families import generate
from splitopt.formats import (
    InputError,
    problem_from_dict,
    problem_to_dict,
    read_problem,
    write_problem,
)
from tests.conftest import DATA

BROKEN = DATA / "broken"
EXPECTED: dict[str, str] = json.loads((BROKEN / "expected.json").read_text())


def test_every_broken_file_has_an_expectation():
    files = {p.name for p in BROKEN.glob("*.json")} - {"expected.json"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_message(name):
    with pytest.raises(InputError) as info:
        read_problem(BROKEN / name)
    msg = str(info.value)
    assert msg.startswith(str(BROKEN / name) + ": "), msg
    assert EXPECTED[name] in msg, msg
    assert "\n" not in msg


def test_round_trip_is_exact(tmp_path):
    problem = generate("random-chain", 5, "small")
    path = tmp_path / "p.json"
    write_problem(problem, path)
    again = read_problem(path)
    assert again.name == problem.name and again.ids == problem.ids
    for a, b in zip(problem, again, strict=True):
        for field in (
            "client_time_s",
            "server_time_s",
            "server_work",
            "uplink_s",
            "downlink_s",
            "client_memory_bytes",
        ):
            assert np.array_equal(getattr(a.chain, field), getattr(b.chain, field))
        assert (a.chain.sla_s, a.chain.memory_budget_bytes, a.chain.start, a.chain.end) == (
            b.chain.sla_s,
            b.chain.memory_budget_bytes,
            b.chain.start,
            b.chain.end,
        )
        assert a.weight == b.weight


def test_arrays_are_read_only(handmade):
    problem = read_problem(handmade)
    with pytest.raises(ValueError):
        problem.requests[0].chain.uplink_s[0] = 5.0


def test_identical_requests_share_one_chain():
    doc = json.loads((DATA / "tiny" / "handmade.json").read_text())
    first = dict(doc["requests"][0])
    doc["requests"] = [dict(first, id=f"copy{i}") for i in range(50)]
    problem = problem_from_dict(doc)
    assert len(problem) == 50 and len(problem.chains) == 1
    assert problem_to_dict(problem)["requests"][49]["id"] == "copy49"


def test_write_is_atomic_on_error(tmp_path):
    target = tmp_path / "out.json"
    problem = generate("random-chain", 1, "tiny")
    write_problem(problem, target)
    before = target.read_text()

    class Boom(Exception):
        pass

    import splitopt.formats.problem_file as pf

    orig = pf.dumps

    def bad_dumps(*a, **k):
        raise Boom

    pf.dumps = bad_dumps
    try:
        with pytest.raises(Boom):
            write_problem(problem, target)
    finally:
        pf.dumps = orig
    assert target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
