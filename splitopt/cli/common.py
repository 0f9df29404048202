"""What the command modules share: the exit codes, ``-`` or a file as the output, and
whether a path is columnar (Parquet)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


def _write_output(target: str, text: str, inputs: Sequence[str] = ()) -> None:
    """``-`` is stdout; anything else follows the output policy (:mod:`splitopt.outputs`)."""
    from splitopt.outputs import write_text

    if target == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    else:
        sys.stdout.flush()  # /dev/stdout as a target: keep the order of what is printed
        write_text(target, text, inputs)


def _columnar(path: str) -> bool:
    from splitopt.formats.columnar import is_columnar

    return is_columnar(path)


def _columnar_target(path: str) -> bool:
    from splitopt.formats.columnar import SUFFIXES

    return os.path.splitext(path)[1].lower() in SUFFIXES
