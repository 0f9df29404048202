"""``python -m splitopt`` runs the command line."""

import sys

try:
    from splitopt.cli import main
except KeyboardInterrupt:  # Ctrl-C while the CLI is still importing: nothing ran yet
    sys.stderr.write("splitopt: interrupted\n")
    sys.exit(130)

sys.exit(main())
