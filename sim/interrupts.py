"""Ctrl-C (SIGINT), SIGTERM and SIGHUP: stop cleanly, say so in one line, exit 128 + the signal.

Python turns SIGINT into a KeyboardInterrupt wherever the main thread is; one raised inside a
finalizer is printed and swallowed, and the command would go on. So the signal is also
remembered, and :func:`check` raises it again at the points that must not pass after an
interrupt (before a run's summary.json marks it complete, and when a command ends).
"""

from __future__ import annotations

import signal
import sys

received: int | None = None
deferred = False   # while Hydra composes a config: remember the signal, raise it when composition is over


class Interrupted(KeyboardInterrupt):
    """The command was stopped by a signal."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum


def _handler(signum, frame) -> None:
    global received
    received = signum
    if not deferred:
        raise Interrupted(signum)


def defer() -> None:
    """Only remember signals from now on: raised inside OmegaConf's flag handling (Hydra composing a
    config), a KeyboardInterrupt leaves a node half-set and surfaces as an AttributeError with
    Hydra's traceback. :func:`resume` (the preflight callbacks, after composition) or :func:`check`
    (the command's end) raises it instead."""
    global deferred
    deferred = True


def resume() -> None:
    """Raise signals again as they come, and one that came while deferred now."""
    global deferred
    deferred = False
    check()


def _unraisable(hook):
    def quiet(unraisable) -> None:
        """Our interrupt, swallowed in a finalizer: remembered already, so no traceback."""
        if not isinstance(unraisable.exc_value, Interrupted):
            hook(unraisable)
    return quiet


def install() -> None:
    """Handle SIGINT, SIGTERM and SIGHUP in this process (the main thread of a command)."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):   # SIGHUP: the terminal closed
        signal.signal(signum, _handler)
    if getattr(sys.unraisablehook, "__name__", "") != "quiet":
        sys.unraisablehook = _unraisable(sys.unraisablehook)


def check() -> None:
    """Raise :class:`Interrupted` if a signal arrived, even one whose exception was swallowed."""
    if received is not None:
        raise Interrupted(received)


def message(err: BaseException | None = None) -> tuple[str, int]:
    """The one line an interrupted command prints, and its exit code (128 + the signal)."""
    signum = int(getattr(err, "signum", None) or received or signal.SIGINT)
    return (f"interrupted ({signal.Signals(signum).name}): stopped before finishing; complete run folders are "
            "kept, an interrupted one has no summary.json. Run the command again (for a sweep, add "
            "resume=true to run only what is missing).", 128 + signum)
