"""The one registry class (:mod:`splitopt.registry`) and its users."""

from __future__ import annotations

import warnings

import pytest

from splitopt.errors import FamilyError, SolverError, SolverUnavailable, UserError
from splitopt.registry import LoadError, Registry, ShadowWarning


def test_lazy_entry_is_imported_on_first_get() -> None:
    reg: Registry = Registry("thing", entries={"json-dumps": "json:dumps"})
    import json

    assert reg.get("json-dumps") is json.dumps
    assert "json-dumps" in reg and reg.names() == ["json-dumps"] and len(reg) == 1


def test_unknown_name_lists_valid_names() -> None:
    reg: Registry = Registry("widget", SolverError, {"a": "json:dumps", "b": "json:loads"})
    with pytest.raises(SolverError, match=r"unknown widget 'c'; valid widgets: a, b"):
        reg.get("c")


def test_shadowing_warns_and_the_new_entry_wins() -> None:
    reg: Registry = Registry("widget", entries={"a": "json:dumps"})
    reg.get("a")  # cached, must not survive the re-registration
    with pytest.warns(ShadowWarning, match="widget 'a' registered again"):
        reg.register("a", "json:loads")
    import json

    assert reg.get("a") is json.loads


def test_same_entry_again_does_not_warn() -> None:
    reg: Registry = Registry("widget", entries={"a": "json:dumps"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg.register("a", "json:dumps")
        reg.register("b", len)
        reg.register("b", len)


def test_bad_target_and_missing_module() -> None:
    reg: Registry = Registry("widget", UserError, unavailable=SolverUnavailable)
    with pytest.raises(UserError, match="module:Name"):
        reg.register("x", "no-colon")
    reg.register("gone", "splitopt_no_such_module:Thing")
    with pytest.raises(SolverUnavailable, match="cannot be loaded"):
        reg.get("gone")
    assert issubclass(LoadError, Exception)


def test_solvers_families_and_placement_use_it() -> None:
    from splitopt.families import FAMILIES
    from splitopt.placement import ALGORITHMS
    from splitopt.solvers import SOLVERS, solver_class

    assert all(isinstance(r, Registry) for r in (FAMILIES, ALGORITHMS, SOLVERS))
    assert solver_class("dp").name == "dp"
    with pytest.raises(SolverError, match="unknown solver 'nope'; valid solvers: dp"):
        solver_class("nope")
    with pytest.raises(FamilyError, match="unknown family 'nope'"):
        FAMILIES.get("nope")


def test_registering_a_solver_shadows_with_a_warning() -> None:
    from splitopt.solvers import SOLVERS, register

    before = SOLVERS.target("greedy")
    try:
        with pytest.warns(ShadowWarning):
            register("greedy", "splitopt.solvers.baselines:ServerOnly")
        assert SOLVERS.get("greedy").name == "server-only"
    finally:
        with pytest.warns(ShadowWarning):
            register("greedy", before)
    assert SOLVERS.get("greedy").name == "greedy"
