"""The harness commands: ``verify``, ``experiment`` and ``benchmark``."""

from __future__ import annotations

import argparse
import os
import sys

from splitopt.cli.common import EXIT_INTERNAL, EXIT_OK
from splitopt.errors import OutputError, UsageError


def cmd_verify(args: argparse.Namespace) -> int:
    from splitopt.verify import default_csv, run_verify

    solvers = [s.strip() for s in args.solvers.split(",")] if args.solvers is not None else None
    if os.path.exists(args.out) and not os.path.isdir(args.out):  # before any work
        raise OutputError(args.out, "exists and is not a folder (--out names a folder)")
    report = run_verify(
        family=args.family,
        n=args.n,
        seed=args.seed,
        solvers=solvers,
        size=args.size,
        out_dir=args.out,
        workers=args.workers,
        progress=sys.stderr.isatty(),
        csv=args.csv or default_csv(args.family, args.seed, args.size),
        dask=args.dask,
    )
    print(report.render())
    return EXIT_OK if report.ok else EXIT_INTERNAL


def cmd_experiment(args: argparse.Namespace) -> int:
    from splitopt.experiments import list_experiments, run_experiment

    if args.name == "list":
        for name in list_experiments():
            print(name)
        return EXIT_OK
    out = run_experiment(
        args.name,
        seed=args.seed,
        repetitions=args.repetitions,
        out=args.out,
        quick=args.quick,
        dask=args.dask,
        workers=args.workers,
        progress=sys.stderr.isatty(),
    )
    print(_csv_summary(out))
    return EXIT_OK


def _csv_summary(path: object) -> str:
    """One line about an experiment's CSV: rows, columns, rows whose run failed."""
    import csv

    try:
        with open(str(path), newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return f"rows in {path}"
    cols = len(rows[0]) if rows else 0
    failed = sum(1 for r in rows if (r.get("error") or "") not in ("", "0", "False"))
    return (
        f"{len(rows):,} rows x {cols} columns in {path} ({failed} with an error); "
        "tables and figures: python -m splitopt.experiments.paper (docs: Results)"
    )


def cmd_benchmark(args: argparse.Namespace) -> int:
    """Solvers on files, folders or a family: tidy CSV, summary, performance profiles."""
    from splitopt.benchmark import collect, family_instances, plot_profiles, run, summary
    from splitopt.comparison import console

    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    if not solvers:
        raise UsageError("--solvers needs at least one solver name")
    instances = collect(args.paths)
    if args.family:
        instances += family_instances(args.family, args.n, args.seed, args.size)
    out = args.out or "results/benchmark.csv"
    rows = run(
        instances,
        solvers,
        out,
        repeats=args.repeats,
        dask=args.dask,
        workers=args.workers,
        progress=not args.no_progress,
    )
    from rich.table import Table

    t = Table(title=f"benchmark: {len(instances)} instances, {args.repeats} repeat(s)")
    for col in ("solver", "failed", "served", "work ratio", "best work", "fastest", "geomean s"):
        t.add_column(col, justify="left" if col == "solver" else "right")
    for s in summary(rows, solvers):
        t.add_row(
            s["solver"],
            str(s["failed"]),
            str(s["served"]),
            f"{s['work_ratio']:.4g}",
            f"{s['best_work']}/{s['instances']}",
            f"{s['fastest']}/{s['instances']}",
            f"{s['geomean_solve_s']:.3g}",
        )
    c = console()
    c.print(t)
    from pathlib import Path

    plot = args.plot or str(Path(out).with_suffix(".profile.png"))
    plot_profiles(rows, solvers, plot)
    c.print(f"{len(rows)} rows (one per instance, solver and repeat) in {out}; profiles in {plot}")
    c.print(
        "work ratio: geometric mean over instances of charged work / the best solver's; best "
        "work: instances where it is the best (1e-9); fastest: where its median solve time is "
        "the least among solvers with the best work; geomean s: geometric mean solve time"
    )
    return EXIT_OK
