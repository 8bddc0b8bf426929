"""``python -m sim``: dispatch to a sub-command (see sim.cli)."""

import sys

from sim.cli import main

sys.exit(main())
