"""splitopt.problem: validation, immutability without holes, value equality, pickling."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splitopt.errors import DataError
from splitopt.problem import Chain, Meta, Problem, Request, frozen_array, is_frozen
from tests.conftest import as_problem, random_chains
from tests.test_properties import chains

SETTINGS = settings(max_examples=40, deadline=None)
ARRAYS = (
    "client_time_s",
    "server_time_s",
    "server_work",
    "uplink_s",
    "downlink_s",
    "client_memory_bytes",
)


def _chain(**changes) -> Chain:
    base = dict(
        client_time_s=[1.0, 2.0],
        server_time_s=[0.5, 0.5],
        server_work=[3.0, 4.0],
        uplink_s=[0.1, 0.2, 0.3],
        downlink_s=[0.3, 0.2, 0.1],
        client_memory_bytes=[10.0, 20.0],
        sla_s=5.0,
        memory_budget_bytes=25.0,
    )
    base.update(changes)
    return Chain(**base)


# ----------------------------------------------------------------- validation


@pytest.mark.nojit
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"client_time_s": []}, "client_time_s"),
        ({"server_time_s": [1.0]}, "server_time_s"),
        ({"uplink_s": [0.0, 0.0]}, "uplink_s"),
        ({"server_work": [1.0, float("nan")]}, "server_work"),
        ({"downlink_s": [0.0, -1.0, 0.0]}, "downlink_s"),
        ({"client_memory_bytes": [[1.0, 2.0]]}, "client_memory_bytes"),
        ({"client_time_s": ["a", "b"]}, "client_time_s"),
        ({"sla_s": 0.0}, "sla_s"),
        ({"sla_s": float("inf")}, "sla_s"),
        ({"memory_budget_bytes": -1.0}, "memory_budget_bytes"),
        ({"start": "cloud"}, "start"),
    ],
)
def test_chain_rejects_bad_data(changes, field):
    with pytest.raises(DataError) as info:
        _chain(**changes)
    assert info.value.field == field


@pytest.mark.nojit
def test_problem_rejects_duplicates_and_bad_names():
    c = _chain()
    with pytest.raises(DataError, match="duplicate"):
        Problem("p", (Request("a", c), Request("a", c)))
    with pytest.raises(DataError):
        Problem("p", (Request("a", c),), work_unit="J")
    with pytest.raises(DataError):
        Request("", c)
    with pytest.raises(DataError):
        Request("a", c, weight=-1.0)


# ------------------------------------------------------ immutability (issue 9, group 4)


def _writable_sources(values: np.ndarray):
    """Ways a caller can hand over the numbers while keeping a writable handle to them."""
    base = np.array(values, dtype=np.float64)
    yield "array", base, base
    base = np.array(values, dtype=np.float64)
    view = base.view()
    view.setflags(write=False)
    yield "read-only view", view, base
    padded = np.zeros(2 * len(values))
    padded[::2] = values
    strided = padded[::2]
    strided.setflags(write=False)
    yield "read-only strided view", strided, padded
    as_list = list(values)
    yield "list", as_list, as_list


@SETTINGS
@given(chains(integer=False), st.sampled_from(ARRAYS))
def test_chain_does_not_see_later_changes_to_its_inputs(chain, name):
    """Mutating whatever the chain was built from, after validation, changes nothing
    (a NaN that got through this way used to crash the grid DP)."""
    values = getattr(chain, name).copy()
    for _, source, handle in _writable_sources(values):
        c = chain.replace(**{name: source})
        before = getattr(c, name).copy()
        if isinstance(handle, list):
            handle[0] = float("nan")
        else:
            handle[...] = np.nan
        after = getattr(c, name)
        assert np.array_equal(after, before) and np.isfinite(after).all()
        assert c == chain


@SETTINGS
@given(chains(integer=False))
def test_chain_arrays_cannot_be_made_writable(chain):
    for name in ARRAYS:
        arr = getattr(chain, name)
        assert is_frozen(arr)
        with pytest.raises(ValueError):
            arr.setflags(write=True)
        with pytest.raises(ValueError):
            arr[0] = 1.0
    problem = as_problem([chain])
    with pytest.raises(ValueError):
        problem.chain_index.setflags(write=True)


@pytest.mark.nojit
def test_frozen_arrays_are_shared_not_copied():
    c = _chain()
    again = c.replace(sla_s=6.0)
    assert again.client_time_s is c.client_time_s
    assert is_frozen(frozen_array(np.arange(3.0)))


@st.composite
def metas(draw):
    leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    tree = st.recursive(
        leaf,
        lambda kids: (
            st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3)
        ),
        max_leaves=10,
    )
    return draw(st.dictionaries(st.text(max_size=5), tree, max_size=5))


def _mutate_deep(value) -> bool:
    """Change something inside a JSON-like value in place; whether anything was changed."""
    if isinstance(value, dict):
        if value:
            k = next(iter(value))
            if not _mutate_deep(value[k]):
                value[k] = "changed"
        else:
            value["new"] = 1
        return True
    if isinstance(value, list):
        if value and _mutate_deep(value[0]):
            return True
        value.append("changed")
        return True
    return False


@SETTINGS
@given(metas())
def test_meta_is_a_deep_copy_frozen_and_picklable(meta):
    original = copy.deepcopy(meta)
    r = Request("a", _chain(), meta=meta)
    assert isinstance(r.meta, Meta)
    assert r.meta.to_dict() == original
    _mutate_deep(meta)
    assert r.meta.to_dict() == original  # the caller's dict is not kept
    with pytest.raises(TypeError):
        r.meta["x"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        r.meta._items = {}  # type: ignore[misc]
    hash(r.meta)
    back = pickle.loads(pickle.dumps(r))
    assert back == r and back.meta == r.meta and hash(back) == hash(r)


@pytest.mark.nojit
def test_meta_rejects_non_json_values():
    with pytest.raises(DataError):
        Request("a", _chain(), meta={"f": object()})
    with pytest.raises(DataError):
        Request("a", _chain(), meta={1: "int key"})


# ------------------------------------------------------- value equality and pickling


@SETTINGS
@given(chains(integer=False))
def test_equal_content_means_equal_chain(chain):
    copy_ = Chain(
        **{f: np.array(getattr(chain, f)) for f in ARRAYS},
        sla_s=chain.sla_s,
        memory_budget_bytes=chain.memory_budget_bytes,
        start=chain.start,
        end=chain.end,
    )
    assert copy_ == chain and hash(copy_) == hash(chain) and copy_ is not chain
    assert len({chain, copy_}) == 1
    other = chain.replace(sla_s=chain.sla_s * 2)
    assert other != chain
    bumped = chain.replace(server_work=chain.server_work + 1.0)
    assert bumped != chain


@pytest.mark.nojit
def test_negative_zero_equals_zero():
    a = _chain(server_work=[0.0, 4.0])
    b = _chain(server_work=[-0.0, 4.0])
    assert a == b and hash(a) == hash(b)


def test_problem_pickles_to_an_equal_frozen_problem():
    problem = as_problem(random_chains(3, 12, integer=False))
    problem = Problem(
        "p",
        tuple(Request(r.id, r.chain, 2.0, {"k": [1, 2], "n": {"a": "b"}}) for r in problem),
    )
    back = pickle.loads(pickle.dumps(problem))
    assert back == problem and hash(back) == hash(problem)
    assert back is not problem
    assert np.array_equal(back.chain_index, problem.chain_index)
    for c in back.chains:
        for name in ARRAYS:
            assert is_frozen(getattr(c, name))
    assert not back.chain_index.flags.writeable
    # shared chains stay shared (pickle memo), so the distinct chains are the same count
    assert len(back.chains) == len(problem.chains)


def test_compiled_scenario_pickles_and_compares_equal():
    import splitopt

    problem = splitopt.read("instances/demo/scenario.json")
    back = pickle.loads(pickle.dumps(problem))
    assert back == problem
    assert back.requests[0].meta == problem.requests[0].meta


@pytest.mark.nojit
def test_problem_equality_depends_on_every_part():
    c = _chain()
    p = Problem("p", (Request("a", c), Request("b", c)))
    assert p == Problem("p", (Request("a", c), Request("b", _chain())))
    assert p != Problem("q", p.requests)
    assert p != Problem("p", p.requests, work_unit="s")
    assert p != Problem("p", p.requests[::-1])
    assert p != Problem("p", (Request("a", c), Request("b", c, weight=2.0)))
    assert p != Problem("p", (Request("a", c), Request("b", c, meta={"x": 1})))


@pytest.mark.nojit
def test_equal_chains_are_deduplicated():
    p = Problem(
        "p", (Request("a", _chain()), Request("b", _chain()), Request("c", _chain(sla_s=6)))
    )
    assert len(p.chains) == 2
    assert list(p.chain_index) == [0, 0, 1]


def test_subset_and_with_chains():
    problem = as_problem(random_chains(4, 6, integer=True))
    sub = problem.subset([2, 0])
    assert sub.ids == ["r2", "r0"] and sub.requests[0] == problem.requests[2]
    replaced = problem.with_chains([c.replace(sla_s=c.sla_s + 1) for c in problem.chains])
    assert [r.sla_s for r in replaced] == [r.sla_s + 1 for r in problem]
    with pytest.raises(ValueError):
        problem.with_chains([])


@pytest.mark.nojit
def test_negative_zero_budget_and_weight_equal_zero():
    a, b = _chain(memory_budget_bytes=0.0), _chain(memory_budget_bytes=-0.0)
    assert a == b and hash(a) == hash(b)
    assert Request("a", a, weight=-0.0) == Request("a", b, weight=0.0)
