"""Regenerate every result, table and figure of ``paper/``.

    python -m splitopt.experiments.paper --quick          # what `make paper` runs
    python -m splitopt.experiments.paper --no-run         # tables/figures from existing CSVs
    python -m splitopt.experiments.paper --quick --fresh  # rerun from scratch (new cost figures)

Runs (or resumes) each experiment into ``results/quick/NAME.csv`` (``--quick``)
or ``results/NAME.csv``, then writes the tables (``.tex`` + ``.md``), the text
macros (``numbers.tex``) and the figures (``.png`` + ``.pdf``) into
``paper/generated/``. Tables and figures are made from the CSV files only.

A rerun resumes: rows already in a CSV are kept, whatever cost-model figures
they were computed with. After the cost model's figures change
(``splitopt/data/devices.json``, ``engines.json``), run with ``--fresh``, which
starts the experiments it runs anew (their old CSVs are renamed ``NAME.csv.old``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from splitopt.experiments.harness import ExperimentError, read_csv_rows, run
from splitopt.experiments.plots import make_figures
from splitopt.experiments.tables import write_tables

#: The experiments of the paper, in the order they run.
PAPER_EXPERIMENTS: tuple[str, ...] = (
    "protocol",
    "calibration-impact",
    "reduction",
    "gain",
    "sweeps",
    "throughput",
    "discretisation",
    "runtime",
)
#: Seeds per experiment (repetitions): quick / full.
REPETITIONS: dict[str, tuple[int, int]] = {
    "protocol": (3, 10),  # fixed by paper/PROTOCOL.md: seeds 0-2 quick, 0-9 full
    "calibration-impact": (3, 10),  # as the protocol
    "reduction": (3, 10),
    "gain": (3, 10),
    "sweeps": (1, 3),
    "throughput": (2, 5),
    "discretisation": (2, 5),
    "runtime": (1, 3),
}


def result_paths(results: Path, quick: bool) -> dict[str, Path]:
    base = results / "quick" if quick else results
    return {name: base / f"{name}.csv" for name in PAPER_EXPERIMENTS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m splitopt.experiments.paper", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--quick", action="store_true", help="small sizes (minutes, not hours)")
    ap.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    ap.add_argument("--results", type=Path, default=Path("results"), help="CSV folder")
    ap.add_argument(
        "--out", type=Path, default=Path("paper/generated"), help="tables/figures folder"
    )
    ap.add_argument("--no-run", action="store_true", help="only rebuild tables/figures from CSVs")
    ap.add_argument(
        "--only",
        nargs="*",
        default=None,
        choices=PAPER_EXPERIMENTS,
        metavar="NAME",
        help=f"run only these experiments ({', '.join(PAPER_EXPERIMENTS)})",
    )
    ap.add_argument(
        "--fresh",
        action="store_true",
        help="start the experiments that run anew (an existing CSV is renamed NAME.csv.old) "
        "instead of resuming; use it after the cost model's figures change",
    )
    ap.add_argument("--workers", type=int, default=None, help="local worker processes")
    ap.add_argument("--dask", default=None, help="Dask scheduler address")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)

    paths = result_paths(args.results, args.quick)
    failed: list[str] = []
    if not args.no_run:
        for name in args.only or PAPER_EXPERIMENTS:
            reps = REPETITIONS.get(name, (1, 1))[0 if args.quick else 1]
            if args.fresh and paths[name].exists():
                paths[name].replace(paths[name].with_name(paths[name].name + ".old"))
            t0 = time.perf_counter()
            try:
                run(
                    name,
                    seed=args.seed,
                    repetitions=reps,
                    out=paths[name],
                    quick=args.quick,
                    dask=args.dask,
                    workers=args.workers,
                    progress=not args.no_progress,
                )
            except ExperimentError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            except Exception as exc:  # an experiment that cannot even list its tasks
                print(f"experiment {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                failed.append(name)
                continue
            errors = sum(1 for r in read_csv_rows(paths[name]) if r.get("error"))
            note = f", {errors} rows with errors" if errors else ""
            print(f"{name}: {paths[name]} ({time.perf_counter() - t0:.1f} s{note})")
    made = write_tables(paths, args.out)
    made += make_figures(paths, args.out)
    print(f"wrote {len(made)} files into {args.out}")
    if failed:
        print(f"failed experiments: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
