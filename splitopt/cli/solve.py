"""The split commands: ``solve`` (with ``--replay`` and streamed columnar files),
``evaluate``, ``validate``, ``compile``, ``solvers`` and ``generate``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from splitopt._version import __version__
from splitopt.cli.common import (
    EXIT_INTERNAL,
    EXIT_OK,
    _columnar,
    _columnar_target,
    _write_output,
)
from splitopt.errors import UsageError, UserError

if TYPE_CHECKING:  # types only: the CLI imports what a command uses when it runs
    from splitopt.problem import Problem


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


def cmd_solve(args: argparse.Namespace) -> int:
    from splitopt.outputs import check_not_input
    from splitopt.solvers import get_solver
    from splitopt.solvers.jit import allow_interpreted

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
            with allow_interpreted():  # a tiny problem need not load numba
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
            with allow_interpreted():
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
