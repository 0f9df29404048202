"""The argparse parser of every command (:func:`build_parser`) and its argument types.

Building the parser imports the command modules (light) and the option tables, never
a solver library."""

from __future__ import annotations

import argparse
import itertools
import math
import sys

from splitopt._version import __version__
from splitopt.cli.common import EXIT_INPUT
from splitopt.cli.experiment import cmd_benchmark, cmd_experiment, cmd_verify
from splitopt.cli.place import cmd_place
from splitopt.cli.profile import cmd_profile
from splitopt.cli.simulate import cmd_simulate
from splitopt.cli.solve import (
    cmd_compile,
    cmd_evaluate,
    cmd_generate,
    cmd_solve,
    cmd_solvers,
    cmd_validate,
)


def _int_list(text: str) -> tuple[int, ...]:
    vals = tuple(_positive_int(t) for t in text.split(","))
    if len(vals) < 2 or any(b <= a for a, b in itertools.pairwise(vals)):
        raise argparse.ArgumentTypeError(f"expected 2+ increasing integers, got {text!r}")
    return vals


def _int_at_least(text: str, low: int, what: str) -> int:
    """``text`` as an integer >= ``low``; else an argparse error "expected WHAT"."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if v < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return v


def _positive_int(text: str) -> int:
    return _int_at_least(text, 1, "a positive integer")


def _nonneg_int(text: str) -> int:
    return _int_at_least(text, 0, "a whole number >= 0")


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
        help="calibrated (default): the cost model calibrated on published measurements; "
        "uncalibrated-roofline: the model before that calibration (one "
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
        "250 s / 60 s allocation delays, every wait rounded to retry instants; ours where "
        "their code has no case: several request classes use slots of the largest class's "
        "cache, GBP-CR+JFFC gets the delays without retry rounding); "
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
    add_joint_flags(sm)  # clients that run blocks (a cluster whose clients name devices)
    sm.add_argument(
        "--client-routes",
        choices=("waits", "static"),
        default=None,
        help="when clients name devices: choose each request's client part at its arrival "
        "by the joint DP with the servers' waits (default), or once per request class on "
        "the placement (static; what `place` prints)",
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
