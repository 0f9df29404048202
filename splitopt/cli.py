"""The ``splitopt`` command line (SPEC §7).

Exit codes: 0 success (infeasible requests are a result), 2 bad input or usage
(one line on stderr naming the file and field, no traceback, no partial output
file), 1 internal error (set ``SPLITOPT_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import traceback
from collections.abc import Sequence

from splitopt._version import __version__
from splitopt.errors import UsageError, UserError

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


def _solver_options(args: argparse.Namespace, name: str) -> dict:
    opts: dict = {}
    if args.time_limit is not None:
        opts["time_limit"] = args.time_limit
    from splitopt.solvers import solver_class

    accepted = set(solver_class(name).option_names)
    for key in ("grid", "tick", "mem_grid", "mem_tick"):
        val = getattr(args, key, None)
        if val is not None:
            if key not in accepted:
                continue  # grid options only concern solvers that tick
            opts[key] = val
    if getattr(args, "bound", False) and "bound" in accepted:
        opts["bound"] = True
    if getattr(args, "exact", False) and "exact" in accepted:
        opts["exact"] = True
    return opts


def _write_output(target: str, text: str) -> None:
    from splitopt.formats.errors import write_text_atomic

    if target == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    else:
        write_text_atomic(target, text)


def _scenario_description(path: str) -> str | None:
    from splitopt.formats.errors import load_json

    doc = load_json(path)
    if isinstance(doc, dict):
        desc = doc.get("description")
        if isinstance(desc, str):
            return desc
    return None


# ----------------------------------------------------------------------------- commands


def cmd_solve(args: argparse.Namespace) -> int:
    import splitopt
    from splitopt.formats.solution_file import solution_dumps
    from splitopt.solvers import get_solver

    names = [s.strip() for s in args.solver.split(",") if s.strip()]
    if not names:
        raise UsageError("--solver needs at least one solver name")
    if args.grid is not None and args.tick is not None:
        raise UsageError("give --grid or --tick, not both")
    # build every solver first so a bad name or option fails before any work
    solvers = [get_solver(n, **_solver_options(args, n)) for n in names]
    problems = [(p, splitopt.read(p)) for p in args.paths]
    results = []
    for path, problem in problems:
        per_path = [s.solve(problem) for s in solvers]
        results.append((path, problem, per_path))
    flat = [r for _, _, rs in results for r in rs]
    if args.json is not None:
        from splitopt.metrics import summarize

        sums = [summarize(r) for r in flat]
        text = solution_dumps(flat[0], sums[0]) if len(flat) == 1 else solution_dumps(flat, sums)
        _write_output(args.json, text)
        if args.json == "-":
            return EXIT_OK
    for path, problem, rs in results:
        _print_comparison(path, problem, rs, per_request=args.per_request)
    return EXIT_OK


def _print_comparison(path: str, problem, results, per_request: bool = False) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from splitopt.metrics import gain, summarize
    from splitopt.solvers import get_solver

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 140)
    desc = _scenario_description(path)
    n_chains = len(problem.chains)
    head = (
        f"[bold]{escape(problem.name)}[/bold] — {len(problem)} requests "
        f"({n_chains} distinct), work in {problem.work_unit}"
    )
    if desc:
        console.print(f"[bold]Scenario:[/bold] {escape(desc)}")
    console.print(head)
    greedy = next((r for r in results if r.solver == "greedy"), None)
    if greedy is None:
        greedy = get_solver("greedy").solve(problem)
    table = Table(show_lines=False)
    for col, just in (
        ("solver", "left"),
        ("status", "left"),
        ("feasible", "right"),
        (f"server work [{problem.work_unit}]", "right"),
        ("reduction vs server-only", "right"),
        ("gain over greedy", "right"),
        ("mean latency [s]", "right"),
        ("runtime [s]", "right"),
    ):
        table.add_column(escape(col), justify=just)  # type: ignore[arg-type]
    for r in results:
        s = summarize(r)
        g = gain(r, greedy)
        table.add_row(
            r.solver,
            r.status,
            f"{s.feasible}/{s.requests}",
            _fmt(s.objective),
            _pct(s.reduction_vs_server_only),
            _pct(g.work_gain) + f" ({g.common})" if g.common else "–",
            _fmt(s.mean_latency_s),
            f"{r.runtime_s:.3g}",
        )
    console.print(table)
    console.print(
        "reduction vs server-only: 1 − Σω·W / Σω·W(all on server), on requests feasible for both. "
        "gain over greedy: (W_greedy − W) / W_greedy on the (n) requests feasible for both."
    )
    if per_request:
        for r in results:
            t = Table(title=f"{r.solver}: per request")
            for col in (
                "id",
                "status",
                "placement",
                "server work",
                "latency [s]",
                "memory [B]",
                "feasible",
            ):
                t.add_column(escape(col))
            for rr in r:
                t.add_row(
                    rr.id,
                    rr.status,
                    rr.placement or "–",
                    _fmt(rr.server_work),
                    _fmt(rr.latency_s),
                    _fmt(rr.client_memory_bytes),
                    "yes" if rr.feasible else "no",
                )
            console.print(t)


def cmd_evaluate(args: argparse.Namespace) -> int:
    import splitopt
    from splitopt.evaluate import PlacementError, evaluate
    from splitopt.formats.errors import InputError
    from splitopt.formats.solution_file import read_placements, solution_dumps
    from splitopt.solution import Result

    problem = splitopt.read(args.path)
    placements, doc = read_placements(args.solution)
    try:
        ev = evaluate(problem, placements)
    except PlacementError as exc:
        raise InputError(args.solution, "requests", str(exc)) from None
    ordered = [placements[r.id] for r in problem.requests]
    # The file's statuses are not trusted: "feasible" or "error" as the evaluator says.
    statuses = [
        "infeasible" if p is None else ("feasible" if ok else "error")
        for p, ok in zip(ordered, ev.feasible, strict=True)
    ]
    result = Result.build(
        problem,
        str(doc.get("solver", "unknown")),
        statuses,
        ordered,
        float(doc.get("runtime_s") or 0),
    )
    if args.json is not None:
        from splitopt.metrics import summarize

        _write_output(args.json, solution_dumps(result, summarize(result)))
        if args.json == "-":
            return EXIT_OK
    _print_comparison(args.path, problem, [result], per_request=args.per_request)
    broken = sum(1 for p, ok in zip(ordered, ev.feasible, strict=True) if p is not None and not ok)
    print(
        f"evaluator objective: {result.objective!r} (file says {doc.get('objective')!r}); "
        f"{broken} placement(s) break the SLA or the memory budget"
    )
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    import splitopt

    for path in args.paths:
        p = splitopt.read(path)
        ls = [c.num_layers for c in p.chains]
        budgets = sum(1 for c in p.chains if c.memory_budget_bytes is not None)
        print(
            f"{path}: OK — {p.name!r}, {len(p)} requests, {len(p.chains)} distinct chains, "
            f"L {min(ls)}–{max(ls)}, {budgets} with a memory budget, work in {p.work_unit}"
        )
    return EXIT_OK


def cmd_compile(args: argparse.Namespace) -> int:
    from splitopt.formats.problem_file import write_problem
    from splitopt.formats.read import compile_file

    problem = compile_file(args.scenario)
    write_problem(
        problem,
        args.output,
        meta={"compiled_from": str(args.scenario), "splitopt_version": __version__},
    )
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

    opts = {"integer": True} if args.integer else {}
    if args.integer and args.family != "random-chain":
        raise UsageError("--integer applies to the random-chain family only")
    p = write_instance(args.family, args.seed, args.size, args.output, **opts)
    print(f"{args.output}: {args.family} seed {args.seed} size {args.size}: {len(p)} requests")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from splitopt.verify import run_verify

    solvers = [s.strip() for s in args.solvers.split(",")] if args.solvers else None
    kwargs = {
        "family": args.family,
        "n": args.n,
        "seed": args.seed,
        "solvers": solvers,
        "out_dir": args.out,
        "workers": args.workers,
        "progress": sys.stderr.isatty(),
    }
    if args.size is not None:
        kwargs["size"] = args.size
    report = run_verify(**kwargs)
    print(report.render())
    return EXIT_OK if report.disagreements == 0 else EXIT_INTERNAL


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


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="splitopt",
        description="Optimal client/server layer splits for collaborative LLM inference.",
    )
    p.add_argument("--version", action="version", version=f"splitopt {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("solve", help="solve problem or scenario files")
    s.add_argument(
        "paths", nargs="+", metavar="PATH", help="splitopt-problem or splitopt-scenario file"
    )
    s.add_argument(
        "--solver", default="dp", help="solver name, or several separated by commas (default dp)"
    )
    g = s.add_mutually_exclusive_group()
    g.add_argument(
        "--grid", type=_positive_int, help="time ticks per SLA for dp / ticked ILPs (τ = SLA/N)"
    )
    g.add_argument("--tick", type=_positive_float, help="fixed time tick τ in seconds")
    m = s.add_mutually_exclusive_group()
    m.add_argument("--mem-grid", type=_positive_int, help="memory ticks per budget")
    m.add_argument("--mem-tick", type=_positive_float, help="fixed memory tick μ in bytes")
    s.add_argument(
        "--bound", action="store_true", help="dp: also compute a lower bound (relaxed rounding)"
    )
    s.add_argument(
        "--exact",
        action="store_true",
        help="ILPs: solve the real data (default without --grid/--tick)",
    )
    s.add_argument("--time-limit", type=_positive_float, help="wall-clock seconds per problem")
    s.add_argument(
        "--json", metavar="FILE|-", help="write the splitopt-solution JSON to FILE or stdout"
    )
    s.add_argument("--per-request", action="store_true", help="also print a table per request")
    s.set_defaults(func=cmd_solve)

    e = sub.add_parser("evaluate", help="re-score a solution file with the evaluator")
    e.add_argument("path", metavar="PATH")
    e.add_argument("solution", metavar="SOLUTION")
    e.add_argument("--json", metavar="FILE|-")
    e.add_argument("--per-request", action="store_true")
    e.set_defaults(func=cmd_evaluate)

    v = sub.add_parser("validate", help="check problem or scenario files")
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.set_defaults(func=cmd_validate)

    c = sub.add_parser("compile", help="compile a scenario into a problem file")
    c.add_argument("scenario", metavar="SCENARIO")
    c.add_argument("-o", "--output", required=True, metavar="PROBLEM")
    c.set_defaults(func=cmd_compile)

    sv = sub.add_parser("solvers", help="list solvers and whether they can run here")
    sv.set_defaults(func=cmd_solvers)

    gen = sub.add_parser("generate", help="write a seeded instance of a family")
    gen.add_argument("family", metavar="FAMILY", help="random-chain, paper-like or llm-edge")
    gen.add_argument("--seed", type=int, required=True)
    gen.add_argument("--size", default="small", choices=("tiny", "small", "medium", "large"))
    gen.add_argument("--integer", action="store_true", help="random-chain: integer-valued data")
    gen.add_argument("-o", "--output", required=True, metavar="PATH")
    gen.set_defaults(func=cmd_generate)

    ver = sub.add_parser("verify", help="check the DPs against ILPs and brute force")
    ver.add_argument("--family", default="random-chain")
    ver.add_argument("--n", type=_positive_int, default=100, help="number of instances")
    ver.add_argument("--seed", type=int, default=0)
    ver.add_argument("--solvers", help="comma-separated subset of exact solvers")
    ver.add_argument("--size", default=None, choices=("tiny", "small", "medium", "large"))
    ver.add_argument(
        "--out", default="verify-disagreements", help="folder for disagreeing instances"
    )
    ver.add_argument("--workers", type=_positive_int, default=None)
    ver.set_defaults(func=cmd_verify)

    ex = sub.add_parser("experiment", help="run a registered experiment (NAME 'list' lists them)")
    ex.add_argument("name", metavar="NAME")
    ex.add_argument("--seed", type=int, default=0)
    ex.add_argument("--repetitions", type=_positive_int, default=1)
    ex.add_argument("--out", default=None, help="CSV file (default results/NAME.csv)")
    ex.add_argument("--quick", action="store_true", help="small sizes")
    ex.add_argument("--dask", metavar="ADDRESS", help="run on an existing Dask scheduler")
    ex.add_argument("--workers", type=_positive_int, default=None, help="local processes")
    ex.set_defaults(func=cmd_experiment)

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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("splitopt: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        if isinstance(exc, UserError):
            print(f"splitopt: error: {exc}", file=sys.stderr)
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
