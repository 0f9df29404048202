"""The ``splitopt`` command line (SPEC §7).

Exit codes: 0 success (infeasible requests are a result), 2 bad input or usage
(one line on stderr naming the file and field, no traceback, no partial output
file), 1 internal error (set ``SPLITOPT_DEBUG=1`` for the traceback).

Every output file follows the one policy of :mod:`splitopt.outputs` (symlinks are
written through, devices and FIFOs written directly, inputs never overwritten);
every input file is read exactly once; ``--json FILE`` is written last.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from splitopt._version import __version__
from splitopt.errors import OutputError, UsageError, UserError

if TYPE_CHECKING:  # types only: the CLI imports what a command uses when it runs
    from splitopt.problem import Problem

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


# ----------------------------------------------------------------------------- helpers


def _fmt(x: float, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def _pct(x: float) -> str:
    return "–" if x is None or math.isnan(x) else f"{100 * x:+.1f} %"


def _given_options(args: argparse.Namespace) -> dict:
    """The solver options given on the command line (flags derived from
    :data:`splitopt.solvers.params.OPTIONS`), by option name."""
    from splitopt.solvers.params import OPTIONS

    given: dict = {}
    for o in OPTIONS:
        val = getattr(args, o.name, None)
        if val is None or val is False:
            continue
        given[o.name] = val
    return given


def _solver_options(names: Sequence[str], given: dict) -> list[dict]:
    """Options per solver of a (multi-)solver run.

    Rule: a flag applies to every listed solver that takes it and is ignored by
    the others; a flag that *no* listed solver takes is an error (exit 2) naming
    the flag and the solver(s). So ``--solver dp,greedy --bound`` bounds ``dp``,
    while ``--solver greedy --bound`` is refused.
    """
    from splitopt.solvers import solver_class
    from splitopt.solvers.params import OPTION_SPECS

    accepted = {n: set(solver_class(n).option_names) for n in names}
    for key in given:
        if not any(key in acc for acc in accepted.values()):
            which = ", ".join(names)
            noun = "solver" if len(names) == 1 else "any of the solvers"
            raise UsageError(f"{OPTION_SPECS[key].flag} is not accepted by {noun} {which}")
    return [{k: v for k, v in given.items() if k in accepted[n]} for n in names]


def _write_output(target: str, text: str, inputs: Sequence[str] = ()) -> None:
    """``-`` is stdout; anything else follows the output policy (:mod:`splitopt.outputs`)."""
    from splitopt.outputs import write_text

    if target == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    else:
        sys.stdout.flush()  # /dev/stdout as a target: keep the order of what is printed
        write_text(target, text, inputs)


def _read_inputs(paths: Sequence[str]) -> list[tuple[str, Problem, str | None]]:
    """(path, problem, scenario description) per path; each file is read exactly once."""
    from splitopt.formats.read import read_with_doc

    out: list[tuple[str, Problem, str | None]] = []
    for path in paths:
        if _columnar(path):  # read whole: the in-memory path (--json, --per-request, tables)
            from splitopt.formats.columnar import ColumnarProblem

            out.append((path, ColumnarProblem(path).read(), None))
            continue
        problem, doc = read_with_doc(path)
        desc = doc.get("description") if isinstance(doc, dict) else None
        out.append((path, problem, desc if isinstance(desc, str) else None))
    return out


def _greedy_reference(problem, results):  # type: ignore[no-untyped-def]
    """The greedy result the comparison table measures gains against."""
    from splitopt.solvers import get_solver

    greedy = next((r for r in results if r.solver == "greedy"), None)
    return greedy if greedy is not None else get_solver("greedy").solve(problem)


# ----------------------------------------------------------------------------- commands


def cmd_solve(args: argparse.Namespace) -> int:
    from splitopt.outputs import check_not_input
    from splitopt.solvers import get_solver

    given = _given_options(args)
    columnar_replay = args.replay is not None and _columnar(args.replay)
    if any(_columnar(p) for p in args.paths):
        if args.out is not None or args.dask is not None or columnar_replay:
            return _solve_columnar(args, given)
        if args.json is None and not args.per_request and args.replay is None:
            raise UsageError(
                "columnar files: give --out FILE.parquet (streamed, bounded memory), or "
                "--json FILE to solve the file in memory like a JSON problem file"
            )
    elif args.out is not None or args.dask is not None:
        raise UsageError("--out and --dask are for columnar (Parquet) problem files; use --json")
    elif columnar_replay:
        raise UsageError(
            f"{args.replay} is a columnar solution: it replays a columnar problem "
            "(solve PROBLEM.parquet --replay SOLUTION.parquet)"
        )
    runs = None  # the recorded runs of --replay (one per document of the file)
    if args.replay is not None:
        from splitopt.formats.solution_file import read_runs

        if args.solver is not None or given:
            raise UsageError(
                "--replay takes the solver and its options from the solution file; "
                "drop --solver and the solver flags"
            )
        if len(args.paths) != 1:
            raise UsageError("--replay needs exactly one problem file")
        runs = read_runs(args.replay)
        names, per_solver = [r.solver for r in runs], [r.options for r in runs]
    else:
        names = [s.strip() for s in (args.solver or "dp").split(",") if s.strip()]
        if not names:
            raise UsageError("--solver needs at least one solver name")
        per_solver = _solver_options(names, given)
    inputs = [*args.paths, *([args.replay] if args.replay is not None else [])]
    check_not_input(args.json, inputs)  # before any work
    # build every solver first so a bad name or option fails before any work
    solvers = []
    for i, (n, opts) in enumerate(zip(names, per_solver, strict=True)):
        try:
            solvers.append(get_solver(n, **opts))
        except UserError as exc:
            if runs is None:
                raise
            from splitopt.formats.errors import InputError

            at: list = [i, "options"] if len(runs) > 1 else ["options"]
            raise InputError(args.replay, at, str(exc)) from None
    results = []
    replayed = []  # (recorded run, its replay)
    for path, problem, desc in _read_inputs(args.paths):
        if runs is None:
            per_path = [s.solve(problem) for s in solvers]
        else:  # the file's documents for this instance (a single document: whatever it says)
            mine = [i for i, r in enumerate(runs) if r.instance == problem.name]
            mine = mine or ([0] if len(runs) == 1 else [])
            if not mine:
                from splitopt.formats.errors import InputError

                held = ", ".join(sorted({r.instance for r in runs}))
                raise InputError(
                    args.replay, "(top level)", f"no solution for instance {problem.name!r} "
                    f"in this list (it holds {held})"
                )
            per_path = [solvers[i].solve(problem) for i in mine]
            replayed += [(runs[i], res) for i, res in zip(mine, per_path, strict=True)]
        results.append((path, problem, desc, per_path))
    flat = [r for *_, rs in results for r in rs]
    code = EXIT_OK
    for run, res in replayed:
        same, line = run.compare(res)
        print(line, file=sys.stderr if args.json == "-" else sys.stdout)
        code = code if same else EXIT_INTERNAL
    tables = args.json != "-"
    # everything that can fail runs before the file is written (the greedy reference too)
    greedies = [_greedy_reference(p, rs) if tables else None for _, p, _, rs in results]
    if args.json is not None:
        _write_output(args.json, _solution_text(flat[0] if len(flat) == 1 else flat), inputs)
    if tables:
        for (path, problem, desc, rs), greedy in zip(results, greedies, strict=True):
            _print_comparison(path, problem, rs, args.per_request, desc, greedy, args)
        _print_legend(args, *((results[0][1], greedies[0]) if len(results) == 1 else ()))
    return code


def _solution_text(result):  # type: ignore[no-untyped-def]
    """The solution document(s) of one result or a list, each with its summary."""
    from splitopt.formats.solution_file import solution_dumps
    from splitopt.metrics import summarize

    if isinstance(result, list):
        return solution_dumps(result, [summarize(r) for r in result])
    return solution_dumps(result, summarize(result))


def _print_comparison(  # type: ignore[no-untyped-def]
    path: str, problem, results, per_request: bool = False, desc=None, greedy=None, args=None
) -> None:
    """The comparison table (splitopt/comparison.py): 100 columns, or all with --wide."""
    from splitopt.comparison import console, print_comparison

    if greedy is None:
        greedy = _greedy_reference(problem, results)
    print_comparison(
        console(),
        problem,
        results,
        greedy,
        desc=desc,
        per_request=per_request,
        wide=bool(getattr(args, "wide", False)),
    )


def _print_legend(args, problem=None, greedy=None) -> None:  # type: ignore[no-untyped-def]
    """Once per command: the column definitions with --explain, else a one-line hint."""
    from splitopt.comparison import console, print_legend

    if getattr(args, "explain", False):
        print_legend(console(), problem, greedy)
    else:
        console().print("[dim](--explain defines the columns; --wide shows them all)[/dim]")


def _columnar(path: str) -> bool:
    from splitopt.formats.columnar import is_columnar

    return is_columnar(path)


def _columnar_target(path: str) -> bool:
    from splitopt.formats.columnar import SUFFIXES

    return os.path.splitext(path)[1].lower() in SUFFIXES


def _solve_columnar(args: argparse.Namespace, given: dict) -> int:
    """``solve BIG.parquet --out SOLUTIONS.parquet``: streamed (splitopt.streaming);
    with ``--replay SOLUTION.parquet``: re-solve streamed and compare placements."""
    from splitopt.streaming import solve_file

    if len(args.paths) != 1:
        raise UsageError("a columnar problem file is solved on its own: give one PATH")
    if args.json is not None or args.per_request:
        raise UsageError(
            "--out/--dask stream the solutions to a Parquet file; --json and --per-request "
            "hold every request in memory: drop --out/--dask to use them"
        )
    if args.replay is not None:
        if not _columnar(args.replay):
            raise UsageError(
                "--replay of a JSON solution solves in memory: drop --out/--dask "
                "(a columnar solution file replays streamed)"
            )
        return _replay_columnar(args, given)
    if args.out is None:
        raise UsageError("columnar files: give --out FILE.parquet for the solutions")
    names = [s.strip() for s in (args.solver or "dp").split(",") if s.strip()]
    if len(names) != 1:
        raise UsageError("columnar files: give exactly one --solver")
    (opts,) = _solver_options(names, given)
    head = solve_file(
        args.paths[0],
        args.out,
        names[0],
        opts,
        rows=args.batch_rows,
        progress=not args.no_progress,
        dask=args.dask,
    )
    st = ", ".join(f"{k} {v}" for k, v in sorted(head["statuses"].items()))
    print(
        f"{args.paths[0]}: {head['requests']} requests solved by {names[0]} in "
        f"{head['runtime_s']:.2f} s ({st}); objective {head['objective']!r}; "
        f"solutions in {args.out}"
        + (f" (resumed: {head['resumed_parts']} part(s) reused)" if head["resumed_parts"] else "")
    )
    return EXIT_OK


def _replay_columnar(args: argparse.Namespace, given: dict) -> int:
    """``solve P.parquet --replay S.parquet [--out NEW.parquet]``: the solver and options
    recorded in S, re-run streamed; exit 1 unless every placement is the same."""
    import tempfile

    from splitopt.formats.columnar import ColumnarProblem, read_solution_meta
    from splitopt.formats.errors import InputError
    from splitopt.outputs import check_not_input
    from splitopt.solvers import get_solver
    from splitopt.streaming import compare_placements, solve_file

    if args.solver is not None or given:
        raise UsageError(
            "--replay takes the solver and its options from the solution file; "
            "drop --solver and the solver flags"
        )
    path = args.paths[0]
    check_not_input(args.out, [path, args.replay])
    head = read_solution_meta(args.replay)
    solver, options = head.get("solver"), head.get("options", {})
    if not isinstance(solver, str) or not isinstance(options, dict):
        raise InputError(args.replay, "(metadata)", "no solver name and options recorded")
    from splitopt.formats.solution_file import replay_solver

    solver = replay_solver(solver, options)  # an old "dp" file is the grid DP, now dp-grid
    try:
        get_solver(solver, **options)  # a bad recorded solver or option names the file
    except UserError as exc:
        raise InputError(args.replay, "options", str(exc)) from None
    reader = ColumnarProblem(path)
    if head.get("instance") != reader.name:
        print(
            f"replay of {args.replay}: the file is for instance {head.get('instance')!r}, "
            f"the problem is {reader.name!r}"
        )
        return EXIT_INTERNAL
    with tempfile.TemporaryDirectory(prefix="splitopt-replay-") as tmp:
        out = args.out if args.out is not None else os.path.join(tmp, "replay.parquet")
        solve_file(
            path,
            out,
            solver,
            options,
            rows=args.batch_rows,
            progress=not args.no_progress,
            dask=args.dask,
        )
        n, differ, first = compare_placements(args.replay, out)
    if differ:
        print(
            f"replay of {args.replay}: {differ} of {n} placements differ (first: request {first!r})"
        )
        return EXIT_INTERNAL
    print(
        f"replay of {args.replay}: {solver} with {options or 'default options'} "
        f"gives the same placements ({n} requests)"
        + (f"; solutions in {args.out}" if args.out is not None else "")
    )
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Re-score a solution file: one document, or the list ``solve --json`` writes for
    several solvers/files (its documents for this problem's instance are scored)."""
    from splitopt.formats.rescore import rescore
    from splitopt.formats.solution_file import read_solutions
    from splitopt.outputs import check_not_input

    check_not_input(args.json, (args.path, args.solution))
    if args.dask is not None and not _columnar(args.solution):
        raise UsageError("--dask is for columnar (Parquet) problem and solution files")
    if _columnar(args.solution) and not _columnar(args.path):
        raise UsageError(
            f"{args.solution} is a columnar solution: evaluate it against the columnar problem"
        )
    if _columnar(args.path) and _columnar(args.solution):
        from splitopt.streaming import evaluate_file

        if args.json is not None or args.per_request:
            raise UsageError(
                "a columnar solution is evaluated streamed and prints the totals only "
                "(--json and --per-request are for JSON solution files)"
            )
        r = evaluate_file(args.path, args.solution, dask=args.dask)
        print(
            f"{r['solver']}: evaluator objective: {r['objective']!r} "
            f"(file says {r['file_objective']!r}); {r['num_feasible']} of {r['requests']} "
            f"requests feasible; {r['broken']} placement(s) break the SLA or the memory budget"
        )
        return EXIT_OK
    ((_, problem, desc),) = _read_inputs([args.path])
    solutions, is_list = read_solutions(args.solution, problem.name)
    # the evaluator's figures; recorded statuses kept where it agrees (formats/rescore.py)
    scored = []
    for placements, doc, where in solutions:
        result, broken = rescore(problem, placements, doc, args.solution, where)
        scored.append((result, doc, broken))
    results = [r for r, _, _ in scored]
    tables = args.json != "-"
    greedy = _greedy_reference(problem, results) if tables else None
    if args.json is not None:
        _write_output(
            args.json,
            _solution_text(results if is_list else results[0]),
            (args.path, args.solution),
        )
    if not tables:
        return EXIT_OK
    _print_comparison(args.path, problem, results, args.per_request, desc, greedy, args)
    _print_legend(args, problem, greedy)
    for result, doc, broken in scored:
        print(
            f"{result.solver}: evaluator objective: {result.objective!r} "
            f"(file says {doc.get('objective')!r}); "
            f"{broken} placement(s) break the SLA or the memory budget"
        )
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from splitopt.formats.validate import validate_document

    for path in args.paths:
        if _columnar(path):
            from splitopt.streaming import validate_file

            v = validate_file(path)
            print(
                f"{path}: OK — {v['name']!r}, {v['requests']} requests (columnar), "
                f"L {v['min_layers']}–{v['max_layers']}, {v['budgets']} with a memory budget, "
                f"work in {v['work_unit']}"
            )
            continue
        print(f"{path}: OK — {validate_document(path)}")
    return EXIT_OK


def cmd_compile(args: argparse.Namespace) -> int:
    from splitopt.formats.problem_file import write_problem
    from splitopt.formats.read import compile_file
    from splitopt.outputs import check_not_input

    check_not_input(args.output, [args.scenario])
    problem = compile_file(args.scenario, args.cost_model)
    meta: dict[str, object] = {"compiled_from": str(args.scenario)}
    if args.cost_model != "calibrated":
        meta["cost_model"] = args.cost_model
    meta["splitopt_version"] = __version__
    if _columnar_target(args.output):
        from splitopt.formats.columnar import write_problem_columnar

        write_problem_columnar(problem, args.output, inputs=(args.scenario,), meta=meta)
        print(f"{args.output}: {len(problem)} requests (columnar)")
        return EXIT_OK
    write_problem(problem, args.output, meta=meta)
    print(f"{args.output}: {len(problem)} requests, {len(problem.chains)} distinct chains")
    return EXIT_OK


def cmd_solvers(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from splitopt.solvers import available, list_solvers, solver_class

    t = Table()
    for col in ("solver", "available", "exact", "description"):
        t.add_column(col)
    for name in list_solvers():
        ok = available(name)
        try:
            cls = solver_class(name)
            exact, desc = ("yes" if cls.exact else "no"), cls.description
        except Exception as exc:
            exact, desc = "?", f"cannot load: {exc}"
        t.add_row(name, "yes" if ok else "[red]no[/red]", exact, desc)
    Console().print(t)
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    from splitopt.families import write_instance

    opts: dict[str, object] = {"integer": True} if args.integer else {}
    if args.integer and args.family != "random-chain":
        raise UsageError("--integer applies to the random-chain family only")
    if args.cost_model != "calibrated":
        if args.family == "random-chain":
            raise UsageError("--cost-model applies to the scenario families only")
        opts["cost_model"] = args.cost_model
    if getattr(args, "token_lengths", None):
        if args.family == "random-chain":
            raise UsageError("--token-lengths applies to the scenario families only")
        opts["token_lengths"] = args.token_lengths
    if _columnar_target(args.output):
        from splitopt.families import generate
        from splitopt.formats.columnar import write_problem_columnar

        p = generate(args.family, args.seed, args.size, **opts)
        write_problem_columnar(p, args.output)
    else:
        p = write_instance(args.family, args.seed, args.size, args.output, **opts)
    print(f"{args.output}: {args.family} seed {args.seed} size {args.size}: {len(p)} requests")
    return EXIT_OK


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
    print(f"rows in {out}")
    return EXIT_OK


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


def cmd_place(args: argparse.Namespace) -> int:
    from splitopt import cli_place
    from splitopt.formats.cluster_file import read_joint_cluster
    from splitopt.formats.placement_file import placements_dumps, write_placements
    from splitopt.outputs import check_not_input
    from splitopt.placement import get_algorithm
    from splitopt.placement.report import render

    given = cli_place.given_options(args)
    if args.replay is not None and (args.algorithm is not None or given):
        raise UsageError(
            "--replay takes the algorithms and their options from the placement file; "
            "drop --algorithm and the algorithm flags"
        )
    inputs = [args.cluster, *([args.replay] if args.replay is not None else [])]
    check_not_input(args.json, inputs)  # before any work
    emit = getattr(args, "emit", None)
    if emit and args.json == "-":
        raise UsageError("--emit prints to stdout: write --json to a file, not '-'")
    code = EXIT_OK
    if args.replay is not None:
        jc = read_joint_cluster(args.cluster)
        cluster = jc.cluster
        results, same = cli_place.replay(args, cluster)
        code = EXIT_OK if same else EXIT_INTERNAL
    else:
        names = [n.strip() for n in (args.algorithm or "cg-bprr").split(",") if n.strip()]
        if not names:
            raise UsageError(f"--algorithm: no algorithm given in {args.algorithm!r}")
        # unknown names and options fail before any work
        algorithms = [
            get_algorithm(n, **o)
            for n, o in zip(names, cli_place.per_algorithm(names, given), strict=True)
        ]
        jc = read_joint_cluster(args.cluster)
        cluster = jc.cluster
        cli_place.joint_routes(args, jc, [])  # the joint flags checked before any work
        results = [a.solve(cluster) for a in algorithms]
    # clients naming devices: each job routed over its client and the swarm (else None)
    joint = cli_place.joint_routes(args, jc, results)
    to_err = args.json == "-" or bool(emit)
    out = sys.stderr if to_err else sys.stdout
    for i, res in enumerate(results):
        print(render(cluster, res), file=out)
        if joint is not None and joint[i] is not None:
            print(cli_place.joint_text(jc, joint[i]), file=out)
    if emit == "petals":  # deployment hand-off (placement/emit.py)
        from splitopt.placement.emit import petals_commands

        for res in results:
            print(petals_commands(cluster, res, args.petals_model))
    if joint is not None and args.json:
        cli_place.write_joint_placements(jc, results, joint, args.json)
    elif args.json == "-":
        print(placements_dumps(cluster, results))
    elif args.json:
        write_placements(cluster, results, args.json)
    return code


def _checked_progress(interrupts: Any, bar: Any, task: Any) -> Callable[[int, int, str], None]:
    """simulate's progress callback: a signal check point between kernel calls
    (docs/reliability.md), then the progress bar."""

    def progress(done: int, total: int, label: str) -> None:
        interrupts.check()
        bar.update(task, completed=done, description=label)

    return progress


def cmd_simulate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from splitopt import interrupts
    from splitopt.formats.cluster_file import read_cluster
    from splitopt.placement.online import DEFAULT_POLICIES, canonical, simulate_many
    from splitopt.placement.simulate import summarise

    names = [n.strip() for n in (args.policy or ",".join(DEFAULT_POLICIES)).split(",")]
    names = [canonical(n) for n in names if n]  # unknown names fail before any work
    if not names:
        raise UsageError("--policy: no policy given")
    from splitopt.outputs import check_not_input

    check_not_input(args.json, [args.cluster])  # before any work
    cluster = read_cluster(args.cluster)
    from splitopt.experiments.sim_inputs import simulation_inputs

    cluster, workload, semantics = simulation_inputs(cluster, args)
    options = {k: v for k, v in (("R", args.R), ("c", args.c)) if v is not None}
    first_seed = args.seed if args.seed is not None else cluster.arrivals.seed or 0
    err = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("simulating", total=len(names) * args.seeds)
        runs = simulate_many(
            cluster,
            workload,
            names,
            args.seeds,
            options,
            semantics=semantics,
            first_seed=first_seed,
            progress=_checked_progress(interrupts, bar, task),
        )
    table = summarise(runs)
    from splitopt.placement.why import unserved_notes

    notes = unserved_notes(runs)
    out = Console(file=sys.stderr if args.json == "-" else sys.stdout, width=150)
    t = Table(
        title=(
            f"{cluster.name}: {workload.num_requests} requests at {workload.rate_per_s:g} req/s, "
            f"{args.seeds} seeds (mean ± 95 % CI over seeds; seconds)"
        )
    )
    for col in ("policy", "per-token", "p95 per-token", "TTFT", "p95 TTFT", "wait", "served"):
        t.add_column(col, justify="left" if col == "policy" else "right")
    def pm(mean: float, ci: float, digits: int) -> str:
        if not math.isfinite(mean):
            return "– (see note)"
        return f"{mean:.{digits}f}" + ("" if math.isnan(ci) else f" ± {ci:.{digits}f}")

    for name, row in table.items():
        t.add_row(
            escape(name),
            pm(row["per_token_mean"], row["per_token_mean_ci"], 3),
            pm(row["per_token_p95"], math.nan, 3),
            pm(row["ttft_mean"], row["ttft_mean_ci"], 2),
            pm(row["ttft_p95"], math.nan, 2),
            pm(row["wait_mean"], math.nan, 2),
            f"{100 * row['served']:.0f} %",
        )
    out.print(t)
    for name, note in notes.items():
        out.print(f"note: {escape(name)}: {escape(note)}")
    if args.json:
        from splitopt.formats.simulation_file import simulation_dumps, simulation_to_dict

        seeds = range(first_seed, first_seed + args.seeds)
        doc = simulation_to_dict(
            cluster, workload, seeds, args.authors_delays, table, runs, notes, semantics
        )
        _write_output(args.json, simulation_dumps(doc))
    return EXIT_OK


def cmd_profile(args: argparse.Namespace) -> int:
    from splitopt.experiments.profiling import measure
    from splitopt.formats.profile_file import write_profile

    prof, names = measure(
        args.model,
        dtype=args.dtype,
        device=args.device,
        prompt_tokens=args.prompt_tokens,
        contexts=args.contexts,
        repeats=args.repeats,
    )
    write_profile(prof, args.output, names)
    print(f"profile of {prof.num_layers} layers written to {args.output}")
    return EXIT_OK


def _int_list(text: str) -> tuple[int, ...]:
    vals = tuple(_positive_int(t) for t in text.split(","))
    if len(vals) < 2 or any(b <= a for a, b in itertools.pairwise(vals)):
        raise argparse.ArgumentTypeError(f"expected 2+ increasing integers, got {text!r}")
    return vals


# ----------------------------------------------------------------------------- parser


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    if v < sys.float_info.min:  # subnormal: dividing by it overflows
        raise argparse.ArgumentTypeError(f"{text!r} is too small (below {sys.float_info.min:g})")
    return v


#: ``splitopt.scenario.cost_models.COST_MODELS`` (spelled here so that building the
#: parser imports no cost model; a test checks that the two agree)
COST_MODEL_CHOICES: tuple[str, ...] = ("calibrated", "uncalibrated-roofline")


def _add_cost_model_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cost-model",
        choices=COST_MODEL_CHOICES,
        default="calibrated",
        help="calibrated (default): the cost model calibrated on published measurements "
        "(issue 12); uncalibrated-roofline: the model before that calibration (one "
        "efficiency per device kind, no per-pass overheads, nominal quantised bits), "
        "kept only for comparison",
    )


def _add_solver_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per solver option (:data:`splitopt.solvers.params.OPTIONS`);
    ``--grid``/``--tick`` and ``--mem-grid``/``--mem-tick`` exclude each other."""
    from splitopt.solvers.params import OPTIONS

    groups = {
        "grid": parser.add_mutually_exclusive_group(),
        "mem_grid": parser.add_mutually_exclusive_group(),
    }
    groups["tick"], groups["mem_tick"] = groups["grid"], groups["mem_grid"]
    for o in OPTIONS:
        target = groups.get(o.name, parser)
        if o.kind is bool:
            target.add_argument(o.flag, dest=o.name, action="store_true", help=o.help)
        else:
            conv = _positive_int if o.kind is int else _positive_float
            target.add_argument(o.flag, dest=o.name, type=conv, help=o.help)


def _add_table_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wide", action="store_true", help="every column of the comparison (about 200 wide)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the definitions of the table's columns"
    )


def _seed(text: str) -> int:
    """A seed: a whole number 0 <= seed < 2**63 (numpy refuses negative seeds)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if not 0 <= v < 2**63:
        raise argparse.ArgumentTypeError(f"expected a whole number 0 <= seed < 2**63, got {v}")
    return v


_DASK_ADDRESS = r"^(?:(?:tcp|tls|inproc|ucx|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[\w.-]+):\d{1,5}$"


def _dask_address(text: str) -> str:
    """A Dask scheduler address ``[tcp://]HOST:PORT`` (checked before connecting)."""
    import re

    m = re.match(_DASK_ADDRESS, text)
    if not m or not 0 < int(text.rsplit(":", 1)[1]) < 65536:
        raise argparse.ArgumentTypeError(
            f"expected a scheduler address such as tcp://HOST:8786, got {text!r}"
        )
    return text


class _Parser(argparse.ArgumentParser):
    """Usage errors on one line (``splitopt CMD: error: ...``), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="splitopt",
        description="Optimal client/server layer splits for collaborative LLM inference.",
    )
    p.add_argument("--version", action="version", version=f"splitopt {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("solve", help="solve problem or scenario files")
    s.add_argument(
        "paths", nargs="+", metavar="PATH", help="splitopt-problem or splitopt-scenario file"
    )
    s.add_argument(
        "--solver",
        default=None,
        help="solver name, or several separated by commas (default dp); a flag below "
        "applies to the listed solvers that take it, and is an error if none does",
    )
    _add_solver_flags(s)
    s.add_argument(
        "--replay",
        metavar="SOLUTION",
        help="re-run the solver and options recorded in a solution file and check that "
        "the placements are the same (exit 1 if not); a columnar solution (.parquet) "
        "replays a columnar problem streamed (with --out: keep the new solutions)",
    )
    s.add_argument(
        "--json",
        metavar="FILE|-",
        help="write the splitopt-solution JSON to FILE or stdout (a columnar problem is "
        "then read whole and solved in memory, like a JSON one)",
    )
    s.add_argument("--per-request", action="store_true", help="also print a table per request")
    _add_table_flags(s)
    s.add_argument(
        "--out",
        metavar="FILE.parquet",
        help="columnar inputs: write the solutions here (streamed, atomic, resumable)",
    )
    s.add_argument(
        "--batch-rows",
        type=_positive_int,
        default=50_000,
        help="columnar inputs: requests per batch (the unit of memory and of resuming)",
    )
    s.add_argument(
        "--dask",
        type=_dask_address,
        metavar="ADDRESS",
        help="columnar inputs: solve the batches on this Dask scheduler's workers",
    )
    s.add_argument("--no-progress", action="store_true", help="columnar inputs: no progress bar")
    s.set_defaults(func=cmd_solve)

    e = sub.add_parser("evaluate", help="re-score a solution file with the evaluator")
    e.add_argument("path", metavar="PATH")
    e.add_argument("solution", metavar="SOLUTION")
    e.add_argument("--json", metavar="FILE|-")
    e.add_argument("--per-request", action="store_true", help="also print a table per request")
    _add_table_flags(e)
    e.add_argument(
        "--dask",
        type=_dask_address,
        metavar="ADDRESS",
        help="columnar inputs: re-score the batches on this Dask scheduler's workers",
    )
    e.set_defaults(func=cmd_evaluate)

    v = sub.add_parser(
        "validate",
        help="check any splitopt file: problem, solution, scenario, profile, cluster, "
        "placement, simulation",
    )
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.set_defaults(func=cmd_validate)

    c = sub.add_parser("compile", help="compile a scenario into a problem file")
    c.add_argument("scenario", metavar="SCENARIO")
    c.add_argument("-o", "--output", required=True, metavar="PROBLEM")
    _add_cost_model_flag(c)
    c.set_defaults(func=cmd_compile)

    sv = sub.add_parser("solvers", help="list solvers and whether they can run here")
    sv.set_defaults(func=cmd_solvers)

    gen = sub.add_parser("generate", help="write a seeded instance of a family")
    gen.add_argument("family", metavar="FAMILY", help="random-chain, paper-like or llm-edge")
    gen.add_argument("--seed", type=_seed, required=True)
    gen.add_argument("--size", default="small", choices=("tiny", "small", "medium", "large"))
    gen.add_argument("--integer", action="store_true", help="random-chain: integer-valued data")
    gen.add_argument("-o", "--output", required=True, metavar="PATH")
    _add_cost_model_flag(gen)
    gen.add_argument(
        "--token-lengths",
        choices=("azure-conv", "azure-code"),
        help="scenario families: draw each class's prompt/output tokens from the Azure LLM "
        "inference trace 2023 (CC BY 4.0; Splitwise, ISCA 2024) instead of the ranges",
    )
    gen.set_defaults(func=cmd_generate)

    ver = sub.add_parser("verify", help="check the DPs against ILPs and brute force")
    ver.add_argument("--family", default="random-chain")
    ver.add_argument("--n", type=_positive_int, default=100, help="number of instances")
    ver.add_argument("--seed", type=_seed, default=0)
    ver.add_argument("--solvers", help="comma-separated subset of exact solvers")
    ver.add_argument("--size", default=None, choices=("tiny", "small", "medium", "large"))
    ver.add_argument(
        "--out", default="verify-disagreements", help="folder for disagreeing instances"
    )
    ver.add_argument("--workers", type=_positive_int, default=None, help="local processes")
    ver.add_argument(
        "--csv",
        default=None,
        help="resumable comparisons file, one row per instance "
        "(default results/verify/FAMILY[-SIZE]-sSEED.csv; rerun to continue)",
    )
    ver.add_argument(
        "--dask",
        metavar="ADDRESS",
        type=_dask_address,
        help="run on an existing Dask scheduler ([tcp://]HOST:PORT; 5 s connect timeout)",
    )
    ver.set_defaults(func=cmd_verify)

    ex = sub.add_parser("experiment", help="run a registered experiment (NAME 'list' lists them)")
    ex.add_argument("name", metavar="NAME")
    ex.add_argument("--seed", type=_seed, default=0)
    ex.add_argument("--repetitions", type=_positive_int, default=1)
    ex.add_argument("--out", default=None, help="CSV file (default results/NAME.csv)")
    ex.add_argument("--quick", action="store_true", help="small sizes")
    ex.add_argument(
        "--dask",
        metavar="ADDRESS",
        type=_dask_address,
        help="run on an existing Dask scheduler ([tcp://]HOST:PORT; 5 s connect timeout)",
    )
    ex.add_argument("--workers", type=_positive_int, default=None, help="local processes")
    ex.set_defaults(func=cmd_experiment)

    bm = sub.add_parser(
        "benchmark",
        help="solvers on your files, folders or a family: CSV, summary, performance profiles",
    )
    bm.add_argument(
        "paths", nargs="*", metavar="PATH", help="problem/scenario files or folders of them"
    )
    bm.add_argument("--solvers", default="dp,dp-exact,greedy", help="comma-separated solvers")
    bm.add_argument("--family", help="also N seeded instances of this family")
    bm.add_argument("--n", type=_positive_int, default=10, help="family instances (default 10)")
    bm.add_argument("--seed", type=_seed, default=0, help="first family seed")
    bm.add_argument("--size", default="small", choices=("tiny", "small", "medium", "large"))
    bm.add_argument("--repeats", type=_positive_int, default=1, help="runs per instance/solver")
    bm.add_argument(
        "--out", help="tidy CSV, resumable (default results/benchmark.csv; rerun to continue)"
    )
    bm.add_argument("--plot", help="performance profiles (.png/.pdf/.svg; default OUT.profile.png)")
    bm.add_argument("--workers", type=_positive_int, default=None, help="local processes")
    bm.add_argument("--dask", metavar="ADDRESS", type=_dask_address, help="Dask scheduler")
    bm.add_argument("--no-progress", action="store_true")
    bm.set_defaults(func=cmd_benchmark)

    pl = sub.add_parser("place", help="place model blocks on many servers and route requests")
    pl.add_argument("cluster", metavar="CLUSTER", help="splitopt-cluster file")
    pl.add_argument(
        "--algorithm",
        default=None,
        help="cg-bprr (default), petals, bprr-milp, ... or several (a,b); a flag below "
        "applies to the listed algorithms that take it, and is an error if none does",
    )
    pl.add_argument("--json", metavar="FILE|-", help="write the splitopt-placement JSON")
    pl.add_argument(
        "--replay",
        metavar="PLACEMENT",
        help="re-run each result of a splitopt-placement file (its algorithm and options) "
        "on CLUSTER and compare placements and routes (exit 1 if any differ)",
    )
    pl.add_argument(
        "--emit",
        choices=("petals",),
        help="print launch commands for the placement (petals: run_server with "
        "--block_indices per server) on stdout; the report goes to stderr",
    )
    pl.add_argument(
        "--petals-model", help="--emit petals: the model's Hugging Face name (default $MODEL)"
    )
    from splitopt.cli_place import add_flags, add_joint_flags

    add_flags(pl)
    add_joint_flags(pl)
    pl.set_defaults(func=cmd_place)

    sm = sub.add_parser("simulate", help="simulate online policies (Poisson arrivals)")
    sm.add_argument("cluster", metavar="CLUSTER", help="splitopt-cluster file")
    sm.add_argument(
        "--policy",
        help="placement+routing names separated by commas (default: all); e.g. "
        "cg-bp+ws-rr,petals,gbp-cr+jffc,sim-opt",
    )
    sm.add_argument("--seeds", type=_positive_int, default=5, help="Monte-Carlo runs (default 5)")
    sm.add_argument(
        "--seed",
        type=_nonneg_int,
        default=None,
        help="first seed (default: the cluster file's workload seed, else 0)",
    )
    sm.add_argument("--rate", type=_positive_float, help="arrival rate, req/s (default: file)")
    sm.add_argument("--requests", type=_positive_int, help="requests per run (default: file)")
    sm.add_argument("--l-out", type=_positive_int, help="output tokens of every request")
    sm.add_argument("--R", type=_positive_int, help="design concurrency of cg-bp (default: rule)")
    sm.add_argument("--c", type=_positive_int, help="gbp-cr cache reservation (default: ours)")
    sm.add_argument(
        "--semantics",
        choices=("splitopt", "authors"),
        default="splitopt",
        help="splitopt (default: cache held from admission) or authors (the authors' "
        "MATLAB: cache from arrival, their PETALS session rule, 100/70 ms initial delay, "
        "250 s / 60 s allocation delays, every wait rounded to retry instants); "
        "see docs/many-servers-semantics.md",
    )
    sm.add_argument(
        "--authors-delays",
        action="store_true",
        help="deprecated (use --semantics authors): the earlier, looser mode: +250 s per "
        "PETALS-routed request, +60 s otherwise, WS-RR waits rounded to retry instants",
    )
    sm.add_argument(
        "--inputs",
        choices=("file", "paper-scripts"),
        default="file",
        help="paper-scripts: the authors' sweep scripts' memories (A100 86.13 GB, MIG "
        "9.1 GB) for servers with the paper presets' 79.13 / 8.2 GB",
    )
    sm.add_argument(
        "--trace",
        metavar="CSV",
        help="replay a request trace (Azure LLM inference 2023 columns: TIMESTAMP, "
        "ContextTokens, GeneratedTokens): its arrival times and token counts",
    )
    sm.add_argument(
        "--trace-rate",
        type=_positive_float,
        help="time-scale the trace to this mean rate, req/s (default: the trace's own)",
    )
    sm.add_argument(
        "--trace-start",
        type=int,
        default=0,
        help="first trace row replayed (default 0); --requests rows from it",
    )
    sm.add_argument("--json", metavar="FILE|-", help="write the per-policy table and runs")
    sm.set_defaults(func=cmd_simulate)


    pr = sub.add_parser(
        "profile",
        help="measure a splitopt-profile with PyTorch (needs splitopt[profile])",
        description="Time each layer of a catalogue model (random weights) with PyTorch: "
        "prefill at several prompt lengths, one decode step at several contexts.",
    )
    pr.add_argument("model", metavar="MODEL", help="catalogue architecture (a decoder)")
    pr.add_argument("--dtype", default="fp16", help="fp32, fp16 or bf16 (default fp16)")
    pr.add_argument("--device", default="cpu", help="cpu or cuda[:i] (default cpu)")
    pr.add_argument("--prompt-tokens", type=_int_list, default=(16, 128, 512), metavar="N,N,...")
    pr.add_argument("--contexts", type=_int_list, default=(64, 512, 2048), metavar="C,C,...")
    pr.add_argument("--repeats", type=_positive_int, default=5)
    pr.add_argument("-o", "--output", required=True, help="profile file to write")
    pr.set_defaults(func=cmd_profile)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``splitopt`` console script."""
    import warnings

    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage error (2), --help/--version (0): a return code
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    except KeyboardInterrupt:  # Ctrl-C before the command started: nothing ran yet
        print("splitopt: interrupted", file=sys.stderr)
        return 130
    # Python warnings are collected, never printed mid-run: an error stays one line,
    # and a successful run lists each distinct warning once, one line each.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        code = _run(args)
    from splitopt import interrupts

    if interrupts.abandoned():  # native work that did not stop: exit without waiting
        interrupts.exit_now(code)
    if code == EXIT_OK or os.environ.get("SPLITOPT_DEBUG"):
        seen = set()
        for w in caught:
            line = f"splitopt: warning: {w.category.__name__}: {str(w.message).splitlines()[0]}"
            if line not in seen:
                seen.add(line)
                print(line, file=sys.stderr)
    return code


def _run_command(args: argparse.Namespace) -> int:
    """``args.func(args)`` under the interrupt policy (work in a worker thread; exit
    130/143 on SIGINT/SIGTERM, nothing written as finished) and the output-lock policy
    (each output file locked for the whole command: a second run writing it stops at
    once, exit 2). The experiment harness (``experiment``, ``verify``) has its own
    signal handling and locks its CSV itself; a streamed solve locks ``--out`` itself."""
    from splitopt import interrupts
    from splitopt.outputs import locked

    if args.func in (cmd_experiment, cmd_verify):
        return int(args.func(args))
    outputs = [getattr(args, "json", None), getattr(args, "output", None)]

    def call() -> int:
        with locked(o for o in outputs if isinstance(o, str)):
            return int(args.func(args))

    return interrupts.run_guarded(call)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(_run_command(args))
    except KeyboardInterrupt as exc:  # SIGINT 130, SIGTERM 143 (splitopt.interrupts)
        print("splitopt: interrupted", file=sys.stderr)
        return int(getattr(exc, "exit_code", 130))
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        if isinstance(exc, UserError):
            msg = " ".join(str(exc).split("\n"))  # one line, always
            print(f"splitopt: error: {msg}", file=sys.stderr)
            return EXIT_INPUT
        if os.environ.get("SPLITOPT_DEBUG"):
            traceback.print_exc()
        else:
            print(
                f"splitopt: internal error: {type(exc).__name__}: {exc} "
                "(set SPLITOPT_DEBUG=1 for the traceback)",
                file=sys.stderr,
            )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
