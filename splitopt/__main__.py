"""``python -m splitopt`` runs the command line."""

import sys

from splitopt.cli import main

sys.exit(main())
