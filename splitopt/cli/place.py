"""``splitopt place`` (its flags, ``--replay`` and joint routes are in
:mod:`splitopt.cli_place`)."""

from __future__ import annotations

import argparse
import sys

from splitopt.cli.common import EXIT_INTERNAL, EXIT_OK
from splitopt.errors import UsageError


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
        results, same = cli_place.replay(args, cluster, jc)
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
        results, own = cli_place.solve_all(args, jc, algorithms)
    # clients naming devices: each job routed over its client and the swarm (else None)
    joint = cli_place.joint_routes(args, jc, results)
    if args.replay is None and joint is not None:  # joint-milp's own routes, not the DP's
        joint = [o if o is not None else j for o, j in zip(own, joint, strict=True)]
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
