"""``splitopt place``: flags derived from the placement algorithms' parameters, and
``--replay`` of a placement file (the command itself is ``cmd_place`` in
:mod:`splitopt.cli`).

Every option of :func:`splitopt.placement.params.all_options` is a flag
(``time_limit`` -> ``--time-limit``). A flag applies to every listed algorithm that
takes it; a flag that none of them takes is an error (exit 2), as for ``solve``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from splitopt.errors import InputError, UsageError, UserError
from splitopt.placement.params import IntList, all_options


def _int_list_or_word(text: str) -> str | list[int]:
    """``2,2,3`` -> [2, 2, 3]; a word (``random``) stays a word."""
    if "," not in text and not text.strip().lstrip("-").isdigit():
        return text
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers n,n,..., got {text!r}") from None


def add_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per placement option (type from its :class:`OptionSpec`)."""
    for o in all_options().values():
        kw: dict[str, Any] = {"dest": o.name, "default": None, "help": o.help}
        if o.kind is bool:
            kw["action"] = argparse.BooleanOptionalAction
        elif o.kind is IntList:
            kw["type"] = _int_list_or_word
        else:
            kw["type"] = o.kind
        parser.add_argument(o.flag, **kw)


def given_options(args: argparse.Namespace) -> dict[str, Any]:
    """The placement options given on the command line, by option name."""
    return {k: getattr(args, k) for k in all_options() if getattr(args, k, None) is not None}


def per_algorithm(names: Sequence[str], given: dict[str, Any]) -> list[dict[str, Any]]:
    """Options per algorithm: each takes the given flags it accepts; a flag that no
    listed algorithm takes is a :class:`UsageError` naming it."""
    from splitopt.placement import algorithm_class

    accepted = {n: set(algorithm_class(n).option_names()) for n in names}
    specs = all_options()
    for key in given:
        if not any(key in acc for acc in accepted.values()):
            noun = "placement algorithm" if len(names) == 1 else "any of the algorithms"
            raise UsageError(f"{specs[key].flag} is not accepted by {noun} {', '.join(names)}")
    return [{k: v for k, v in given.items() if k in accepted[n]} for n in names]


def replay(args: argparse.Namespace, cluster: Any) -> tuple[list[Any], bool]:
    """Re-run every result of the placement file ``args.replay`` on ``cluster`` with its
    algorithm and recorded options; (new results, whether every placement and route is
    the same). Prints one line per result."""
    from splitopt.formats.placement_file import read_runs
    from splitopt.placement import get_algorithm

    name, runs = read_runs(args.replay, cluster)
    if name is not None and name != cluster.name:
        raise InputError(
            args.replay,
            ["cluster"],
            f"the file is for cluster {name!r}, {args.cluster} is {cluster.name!r}",
        )
    algorithms = []
    for i, (alg, options, _, _) in enumerate(runs):
        try:
            algorithms.append(get_algorithm(alg, **options))
        except UserError as exc:
            raise InputError(args.replay, ["results", i, "options"], str(exc)) from None
    results, all_same = [], True
    stream = sys.stderr if args.json == "-" else sys.stdout
    for algorithm, (alg, options, placement, routes) in zip(algorithms, runs, strict=True):
        res = algorithm.solve(cluster)
        results.append(res)
        same = (
            res.placement is not None
            and res.placement.first.tolist() == placement.first.tolist()
            and res.placement.count.tolist() == placement.count.tolist()
            and tuple(res.routes) == tuple(routes)
        )
        all_same &= same
        what = "the same placement and routes" if same else "a DIFFERENT placement or routes"
        print(
            f"replay of {args.replay}: {alg} with {options or 'default options'} gives {what}",
            file=stream,
        )
    return results, all_same


__all__ = ["add_flags", "given_options", "per_algorithm", "replay"]
