"""Seeded instance families behind ``splitopt generate FAMILY --seed N``.

Each family is a function ``(seed, size, **options) -> Problem``; the same seed
gives the same problem, byte for byte once written. The scenario-based families
(``paper-like``, ``llm-edge``) are typed tables
(:class:`~splitopt.families.scenario_family.ScenarioFamily`, see
:func:`get_scenario_family`) built by one builder; ``random-chain`` draws chains
directly.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from splitopt.errors import FamilyError
from splitopt.problem import Problem
from splitopt.registry import Registry

if TYPE_CHECKING:
    from splitopt.families.scenario_family import ScenarioFamily

SIZES: tuple[str, ...] = ("tiny", "small", "medium", "large")

#: family name -> "module:function" (a new family: one entry here, or ``register``)
FAMILIES: Registry[Callable[..., Problem]] = Registry(
    "family",
    FamilyError,
    {
        "random-chain": "splitopt.families.random_chain:generate",
        "paper-like": "splitopt.families.paper_like:generate",
        "llm-edge": "splitopt.families.llm_edge:generate",
    },
)


def register(name: str, target: str | Callable[..., Problem]) -> None:
    """Add a family ``(seed, size, **options) -> Problem`` under ``name``
    (``"module:function"`` or the function; shadowing a name warns)."""
    FAMILIES.register(name, target)


def family_function(name: str) -> Callable[..., Problem]:
    """The generator registered as ``name``; :class:`FamilyError` lists the valid names."""
    return FAMILIES.get(name)


def get_scenario_family(name: str) -> ScenarioFamily:
    """The typed table of scenario family ``name`` (change it with ``.replace(...)``)."""
    fn = family_function(name)
    family = getattr(importlib.import_module(fn.__module__), "FAMILY", None)
    if family is None:
        scenario = [n for n in FAMILIES if n != name and n != "random-chain"]
        raise FamilyError(
            f"family {name!r} is not scenario-based; scenario families: {', '.join(scenario)}"
        )
    return family


def generate(name: str, seed: int, size: str = "small", **options: object) -> Problem:
    """A seeded instance of family ``name`` at ``size`` (tiny, small, medium, large)."""
    if size not in SIZES:
        raise FamilyError(f"unknown size {size!r}; valid sizes: {', '.join(SIZES)}")
    return family_function(name)(seed=seed, size=size, **options)


def write_instance(name: str, seed: int, size: str, path: str, **options: object) -> Problem:
    """Generate an instance and write it as a problem file (what ``splitopt generate`` does).

    The file's ``meta`` records family, seed, size and options, so it can be regenerated.
    """
    from splitopt._version import __version__
    from splitopt.formats.problem_file import write_problem

    problem = generate(name, seed, size, **options)
    meta = {"family": name, "seed": seed, "size": size, **options, "splitopt_version": __version__}
    write_problem(problem, path, meta=meta)
    return problem
