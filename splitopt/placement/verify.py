"""Moved: the placement verification runs on the experiment harness now.

Use ``python -m splitopt.verify_placement`` (same options, plus ``--family``) or
``splitopt experiment verify-placement``; the generators are in
:mod:`splitopt.families.clusters`. This module only says so (exit 2).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

MOVED = (
    "python -m splitopt.placement.verify has moved: run python -m splitopt.verify_placement "
    "(same options, plus --family tiny|wide|edge|huge) or splitopt experiment verify-placement"
)


def main(argv: Sequence[str] | None = None) -> int:
    print(f"error: {MOVED}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
