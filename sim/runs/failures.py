"""What a command does with a run that failed (``python -m sim run`` and ``reproduce``).

A user's mistake in a single run is printed as one line and leaves no folder behind; any other
failure, and every failure in a multirun, keeps its traceback in the run folder's ``error.txt``.
"""

from __future__ import annotations

import shutil
import sys
import traceback
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from sim.files import SUMMARY_FILE, write_text


def remove_with_empty_parents(out_dir: Path) -> None:
    """Delete a run folder and the date folders above it that only it filled."""
    shutil.rmtree(out_dir, ignore_errors=True)
    cwd = Path.cwd().resolve()
    for parent in out_dir.resolve().parents:
        if parent == cwd or cwd not in parent.parents or any(parent.iterdir()):
            break
        parent.rmdir()


def report_failure(err: BaseException, out_dir: Path, user_error: bool) -> None:
    """Report a failed run: its error stays in its folder; a mistaken single run leaves nothing.

    In a multirun the error is re-raised as an ordinary exception, so that Hydra records the
    job as failed and carries on with the others.
    """
    hc = HydraConfig.get()
    if user_error and hc.mode == RunMode.RUN and not (out_dir / SUMMARY_FILE).exists():
        remove_with_empty_parents(out_dir)
    else:
        write_text("".join(traceback.format_exception(err)), out_dir / "error.txt")
    if user_error:
        print(f"error: {err}", file=sys.stderr)
        if hc.mode == RunMode.RUN:
            sys.exit(2)
