"""The ``splitopt`` command line (SPEC §7).

Exit codes: 0 success (infeasible requests are a result), 2 bad input or usage
(one line on stderr naming the file and field, no traceback, no partial output
file), 1 internal error (set ``SPLITOPT_DEBUG=1`` for the traceback).

Every output file follows the one policy of :mod:`splitopt.outputs` (symlinks are
written through, devices and FIFOs written directly, inputs never overwritten);
every input file is read exactly once; ``--json FILE`` is written last.

One module per command group, each importing what a command uses only when it runs
(start-up stays light): :mod:`~splitopt.cli.entry` (:func:`main`, errors and exit
codes, interrupts, warnings), :mod:`~splitopt.cli.parser` (:func:`build_parser` and
the argument types), :mod:`~splitopt.cli.solve` (solve, evaluate, validate, compile,
solvers, generate), :mod:`~splitopt.cli.experiment` (verify, experiment, benchmark),
:mod:`~splitopt.cli.place` (place; its flags are :mod:`splitopt.cli_place`),
:mod:`~splitopt.cli.simulate`, :mod:`~splitopt.cli.profile`, and
:mod:`~splitopt.cli.common` (exit codes, output targets).
"""

from __future__ import annotations

from splitopt.cli.common import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK
from splitopt.cli.entry import main
from splitopt.cli.experiment import cmd_benchmark, cmd_experiment, cmd_verify
from splitopt.cli.parser import COST_MODEL_CHOICES, build_parser
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

__all__ = [
    "COST_MODEL_CHOICES",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "build_parser",
    "cmd_benchmark",
    "cmd_compile",
    "cmd_evaluate",
    "cmd_experiment",
    "cmd_generate",
    "cmd_place",
    "cmd_profile",
    "cmd_simulate",
    "cmd_solve",
    "cmd_solvers",
    "cmd_validate",
    "cmd_verify",
    "main",
]
