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
from sim.runs.layout import JOB_FILE


# What a run (or Hydra for it) writes into its folder; anything else there is someone else's.
RUN_ENTRIES = (".hydra", "run.log", "reproduce.log", "error.txt", "config.json", SUMMARY_FILE, JOB_FILE, "figures", "*.parquet", "*.tmp",
               "seed_*")


def run_entries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if any(p.match(pattern) for pattern in RUN_ENTRIES)]


def foreign_entries(folder: Path) -> list[Path]:
    """Files and folders in ``folder`` that no run writes (a user's own)."""
    return [p for p in folder.iterdir() if not any(p.match(pattern) for pattern in RUN_ENTRIES)]


def remove_with_empty_parents(out_dir: Path) -> None:
    """Delete what a run wrote in its folder, then the folder and the date folders above it if
    that leaves them empty; never anything else (a folder the user gave may hold their files)."""
    if out_dir.is_dir():
        remove_entries(run_entries(out_dir))
        prune_empty(out_dir)


def remove_entries(entries) -> None:
    for entry in entries:
        shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)


def prune_empty(folder: Path) -> None:
    """Remove ``folder`` and the folders above it (below the working folder) while they are empty."""
    cwd = Path.cwd().resolve()
    for current in (folder.resolve(), *folder.resolve().parents):
        if current == cwd or cwd not in current.parents or any(current.iterdir()):
            break
        current.rmdir()


def report_failure(err: BaseException, out_dir: Path, user_error: bool) -> None:
    """Report a failed run: its error stays in its folder; a mistaken single run leaves nothing,
    and a folder that holds a complete run is left as it is.

    In a multirun the error is re-raised as an ordinary exception, so that Hydra records the
    job as failed and carries on with the others.
    """
    hc = HydraConfig.get()
    complete = (out_dir / SUMMARY_FILE).exists()   # a complete run is never written into
    if user_error and hc.mode == RunMode.RUN and not complete:
        remove_with_empty_parents(out_dir)
    elif not complete:
        write_text("".join(traceback.format_exception(err)), out_dir / "error.txt")
    if user_error:
        print(f"error: {err}", file=sys.stderr)
        if hc.mode == RunMode.RUN:
            sys.exit(2)
