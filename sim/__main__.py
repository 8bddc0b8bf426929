"""``python -m sim``: dispatch to a sub-command (see sim.cli)."""

import gc
import sys

from sim.cli import main

try:
    sys.exit(main())
finally:
    # The ~1M objects that pandas, scipy and mesa create at import die with the process anyway;
    # freezing them spares the interpreter's last full collection (~0.2 s of every command).
    gc.freeze()
