"""``python -m sim``: dispatch to a sub-command (see sim.cli)."""

import os
import sys

from sim import interrupts

interrupts.install()   # before the imports, which take a second or two
try:
    from sim.cli import console
except KeyboardInterrupt as err:   # Ctrl-C or SIGTERM while the command line is still importing
    print(interrupts.message(err)[0], file=sys.stderr)
    sys.stderr.flush()
    os._exit(interrupts.message(err)[1])

sys.exit(console())
