"""The entry point: parse, run the command under the interrupt and output-lock
policies, turn errors into exit codes, list collected warnings."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from splitopt.cli.common import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK
from splitopt.cli.experiment import cmd_experiment, cmd_verify
from splitopt.cli.parser import build_parser
from splitopt.errors import UserError


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
        try:
            return int(args.func(args))
        except SystemExit as exc:  # the harness stopped cleanly on SIGINT/SIGTERM
            if exc.code in (130, 143):
                raise interrupts.Interrupted(int(exc.code) - 128) from None
            raise
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
