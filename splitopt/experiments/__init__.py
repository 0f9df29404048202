"""Experiments reproducing SplitLLM's claims (issue 5): a resumable harness,
the experiment catalogue, a server queueing simulation, plots and tables.

>>> from splitopt.experiments import list_experiments, run_experiment
>>> path = run_experiment("reduction", seed=0, quick=True)   # doctest: +SKIP

The command line ``splitopt experiment NAME`` calls :func:`run_experiment`;
``python -m splitopt.experiments.paper --quick`` regenerates every result,
table and figure of ``paper/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from splitopt.experiments.harness import (
    ExperimentError,
    Task,
    experiment,
    get_experiment,
    list_experiments,
    read_csv_rows,
)


def run_experiment(
    name: str,
    seed: int = 0,
    repetitions: int = 1,
    out: str | os.PathLike[str] | None = None,
    quick: bool = False,
    dask: object = None,
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Run (or resume) experiment ``name``; rows go to ``out`` (default
    ``results/NAME.csv``). ``dask``: a Dask scheduler address (or ``Client``);
    otherwise a local process pool of ``workers`` processes (1: in-process).
    Returns the CSV path. See :func:`splitopt.experiments.harness.run`."""
    from splitopt.experiments.harness import run

    return run(name, seed, repetitions, out, quick, dask, workers, progress)


__all__ = [
    "ExperimentError",
    "Task",
    "experiment",
    "get_experiment",
    "list_experiments",
    "read_csv_rows",
    "run_experiment",
]
