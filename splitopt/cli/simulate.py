"""``splitopt simulate``: online policies over Monte-Carlo seeds, one table."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import Any

from splitopt.cli.common import EXIT_OK, _write_output
from splitopt.errors import UsageError


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
    from splitopt.formats.cluster_file import read_joint_cluster
    from splitopt.joint.online import has_devices, simulate_options
    from splitopt.placement.online import DEFAULT_POLICIES, canonical, simulate_many
    from splitopt.placement.simulate import summarise

    names = [n.strip() for n in (args.policy or ",".join(DEFAULT_POLICIES)).split(",")]
    names = [canonical(n) for n in names if n]  # unknown names fail before any work
    if not names:
        raise UsageError("--policy: no policy given")
    from splitopt.outputs import check_not_input

    check_not_input(args.json, [args.cluster])  # before any work
    jc = read_joint_cluster(args.cluster)
    from splitopt.experiments.sim_inputs import simulation_inputs

    # clients naming devices run blocks (splitopt.joint.online); the joint flags are
    # checked before any work
    choice = args.client_routes
    simulate_options(args.cluster, jc, args.joint_objective, args.sla, args.sla_factor)
    if choice is not None and not has_devices(jc):
        raise UsageError(f"--client-routes needs a cluster whose clients name devices; "
                         f"{args.cluster} names none")  # fmt: skip
    cluster, workload, semantics = simulation_inputs(jc.cluster, args)
    fixed_for, clients = simulate_options(
        args.cluster, jc, args.joint_objective, args.sla, args.sla_factor, cluster, workload,
        route_choice=choice or "waits",
    )  # fmt: skip
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
            fixed_for=fixed_for,
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
    cols = ["policy", "per-token", "p95 per-token", "TTFT", "p95 TTFT", "wait", "served"]
    if clients is not None:
        cols += ["client blocks", "swarm blocks"]
    for col in cols:
        t.add_column(col, justify="left" if col == "policy" else "right")
    def pm(mean: float, ci: float, digits: int) -> str:
        if not math.isfinite(mean):
            return "– (see note)"
        return f"{mean:.{digits}f}" + ("" if math.isnan(ci) else f" ± {ci:.{digits}f}")

    for name, row in table.items():
        blocks = (
            []
            if clients is None
            else [f"{row['client_blocks_mean']:.2f}", f"{row['swarm_blocks_mean']:.2f}"]
        )
        t.add_row(
            escape(name),
            pm(row["per_token_mean"], row["per_token_mean_ci"], 3),
            pm(row["per_token_p95"], math.nan, 3),
            pm(row["ttft_mean"], row["ttft_mean_ci"], 2),
            pm(row["ttft_p95"], math.nan, 2),
            pm(row["wait_mean"], math.nan, 2),
            f"{100 * row['served']:.0f} %",
            *blocks,
        )
    out.print(t)
    for name, note in notes.items():
        out.print(f"note: {escape(name)}: {escape(note)}")
    if args.json:
        from splitopt.formats.simulation_file import simulation_dumps, simulation_to_dict

        seeds = range(first_seed, first_seed + args.seeds)
        doc = simulation_to_dict(
            cluster, workload, seeds, args.authors_delays, table, runs, notes, semantics, clients
        )
        _write_output(args.json, simulation_dumps(doc))
    return EXIT_OK
