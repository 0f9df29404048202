"""``python -m splitopt.cli`` runs the command line (as ``python -m splitopt`` does)."""

import sys

from splitopt.cli.entry import main

sys.exit(main())
