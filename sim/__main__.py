"""``python -m sim``: dispatch to a sub-command (see sim.cli)."""

import os
import sys

from sim import interrupts

interrupts.install()   # before the imports, which take a second or two
try:
    from sim.cli import console
except BaseException as err:   # Ctrl-C or SIGTERM while the command line is still importing
    # An extension module's init (pandas' Cython modules) turns the KeyboardInterrupt raised inside it
    # into an ImportError: the signal, remembered by the handler, says what really happened.
    if not isinstance(err, KeyboardInterrupt) and interrupts.received is None:
        raise
    print(interrupts.message(err)[0], file=sys.stderr)
    sys.stderr.flush()
    os._exit(interrupts.message(err)[1])

sys.exit(console())
