"""Experiments reproducing SplitLLM's claims: a resumable harness,
the experiment catalogue, a server queueing simulation, plots and tables.

>>> from splitopt.experiments import list_experiments, run_experiment
>>> path = run_experiment("reduction", seed=0, quick=True)   # doctest: +SKIP

The command line ``splitopt experiment NAME`` calls :func:`run_experiment`;
``python -m splitopt.experiments.paper --quick`` regenerates every result,
table and figure of ``paper/``.
"""

from __future__ import annotations

# The catalogue registers its experiments with the harness when imported; the
# harness itself never imports it (no import circle).
import splitopt.experiments.catalog  # noqa: F401
from splitopt.experiments.harness import (
    ExperimentError,
    Task,
    experiment,
    get_experiment,
    list_experiments,
    read_csv_rows,
)
from splitopt.experiments.harness import run as run_experiment

__all__ = [
    "ExperimentError",
    "Task",
    "experiment",
    "get_experiment",
    "list_experiments",
    "read_csv_rows",
    "run_experiment",
]
