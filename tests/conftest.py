"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

import tests.experiments.toy  # noqa: F401  (registers the test-only experiments)
from splitopt.families.random_chain import random_chain
from splitopt.problem import Chain, Problem, Request

# Hypothesis draws the same examples on every run (determinism; CI must not flake).
settings.register_profile("splitopt", derandomize=True, deadline=None)
settings.load_profile("splitopt")

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


def random_chains(seed: int, n: int, *, integer: bool, max_layers: int = 12) -> list[Chain]:
    """n seeded random chains with L cycling through 1..max_layers."""
    rng = np.random.default_rng(seed)
    return [random_chain(rng, 1 + i % max_layers, integer=integer) for i in range(n)]


def as_problem(chains: list[Chain], name: str = "test") -> Problem:
    return Problem(name, tuple(Request(f"r{i}", c) for i, c in enumerate(chains)))


def run_cli(
    *args: str, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run ``python -m splitopt ARGS`` in a subprocess and capture its output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "splitopt", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=full_env,
        timeout=300,
    )


@pytest.fixture
def cli(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """``run_cli`` without the process: ``splitopt.cli.main(ARGS)`` in this process, its
    stdout/stderr captured at the file-descriptor level, returned the same way
    (returncode, stdout, stderr). For tests about a command's outputs and exit codes;
    each process costs about a second of imports and numba cache loads, so tests about
    the process itself (signals, exit on interrupt, ``python -m``) keep ``run_cli``."""
    from splitopt.cli import main

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        monkeypatch.chdir(cwd or ROOT)
        capfd.readouterr()  # drop anything printed before the command
        code = main(list(args))
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(["splitopt", *args], code, out, err)

    return run


@pytest.fixture
def handmade() -> Path:
    return DATA / "tiny" / "handmade.json"
