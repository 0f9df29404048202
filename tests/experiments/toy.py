"""Test-only experiments, registered with the harness when this module is imported
(``tests/conftest.py`` does; a subprocess imports it by name)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from splitopt.experiments.harness import Scalar, Task, experiment

_HERE = "tests.experiments.toy"


@experiment("smoke", "test-only: a tiny random-chain experiment, dp and baselines on 3 seeds")
def smoke(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """Cheap rows (random-chain tiny) through the catalogue's split runner."""
    for rep in range(repetitions):
        for k in range(3):
            for solver in ("dp", "greedy", "best-cut"):
                yield Task.make(
                    "smoke",
                    "splitopt.experiments.runners:run_split",
                    family="random-chain",
                    seed=seed + 10 * rep + k,
                    size="tiny",
                    repetition=rep,
                    solver=solver,
                )


def run_sleepy(index: int, delay: float = 0.0, **_: Scalar) -> dict[str, Scalar]:
    """Waits ``delay`` seconds and returns a value derived from ``index``."""
    time.sleep(delay)
    return {"value": index * index, "half": index / 2}


@experiment("sleepy", "test-only: rows that take a while, to test kill-and-resume")
def sleepy(seed: int, repetitions: int, quick: bool) -> Iterator[Task]:
    """``20 × repetitions`` rows of 0.1 s each (``quick``: 200 × repetitions rows of 0.05 s)."""
    n, delay = (200, 0.05) if quick else (20, 0.1)
    for i in range(n * repetitions):
        yield Task.make("sleepy", f"{_HERE}:run_sleepy", index=seed + i, delay=delay)
