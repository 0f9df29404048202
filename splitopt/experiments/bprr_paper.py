"""Files of the BPRR sweeps for ``paper/generated/``: runs (or resumes)
the four sweeps of :mod:`splitopt.experiments.bprr_sweeps` into ``results/[quick/]``
and writes ``bprr_sweep_{servers,eta,rate,lout}.{csv,md,tex,pdf,png}`` and
``bprr_ttft.{md,tex,pdf,png}`` (list: ``paper/generated/BPRR_FILES.md``).

    python -m splitopt.experiments.bprr_paper --quick     # what `make -C paper bprr` runs
    python -m splitopt.experiments.bprr_paper             # full size (10 runs, all scenarios)
    python -m splitopt.experiments.bprr_paper --delays authors   # bprr_authors_* files
    python -m splitopt.experiments.bprr_paper --no-run    # files from the existing CSVs
                                                          # (else the copies in --out)
    python -m splitopt.experiments.bprr_paper --from-out  # from the copies in --out only

(A module of its own so that ``python -m`` does not re-import a module the experiment
catalogue has already imported.)
"""

from __future__ import annotations

from pathlib import Path

from splitopt.experiments.bprr_sweeps import SWEEPS, sweep_table, sweep_tasks, write_outputs


def main(argv: list[str] | None = None) -> int:
    import argparse
    import time

    from splitopt.experiments.harness import run_tasks

    ap = argparse.ArgumentParser(
        prog="python -m splitopt.experiments.bprr_paper", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--quick", action="store_true", help="clustered + AboveNet, 4 policies, 3 runs")
    ap.add_argument("--sweep", action="append", choices=tuple(SWEEPS), help="default: all four")
    ap.add_argument(
        "--delays",
        choices=("none", "authors"),
        default="none",
        help="'authors': the sweep scripts' 250 s / 60 s constants (labelled)",
    )
    ap.add_argument("--results", type=Path, default=Path("results"), help="CSV folder")
    ap.add_argument("--out", type=Path, default=Path("paper/generated"), help="files folder")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument(
        "--no-run",
        action="store_true",
        help="only rebuild files from the CSVs (a missing one: its copy in --out)",
    )
    ap.add_argument(
        "--from-out",
        action="store_true",
        help="only rebuild files from the CSV copies in --out (the committed ones), "
        "whatever --results holds",
    )
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    args.no_run = args.no_run or args.from_out
    names = args.sweep or list(SWEEPS)
    base = args.results / "quick" if args.quick else args.results
    suffix = "" if args.delays == "none" else "-authors"
    prefix = "bprr_" if args.delays == "none" else "bprr_authors_"
    csvs: dict[str, Path] = {}
    t0 = time.perf_counter()
    for name in names:
        path = base / f"{SWEEPS[name].experiment}{suffix}.csv"
        if args.from_out or (args.no_run and not path.exists()):
            # the committed copy in the files folder (what `make -C paper bprr` rebuilds from)
            path = args.out / f"{prefix}sweep_{name}.csv"
        csvs[name] = path
        if not args.no_run:
            tasks = list(sweep_tasks(name, quick=args.quick, delays=args.delays))
            run_tasks(
                SWEEPS[name].experiment,
                tasks,
                path,
                workers=args.workers,
                progress=not args.no_progress,
                keep_stale=False,
            )
    files = write_outputs(csvs, args.out, args.quick, prefix)
    from splitopt.experiments.bprr_sweep_summary import write_summary

    files += write_summary(csvs, args.out, prefix)
    for name in names:
        from splitopt.experiments.harness import read_csv_rows

        rows = [r for r in read_csv_rows(csvs[name]) if r.get("experiment")]
        if rows:
            print(sweep_table(rows, name, args.quick).markdown())
    print(f"{len(files)} files in {args.out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
