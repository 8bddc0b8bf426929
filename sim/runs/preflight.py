"""What ``python -m sim run`` checks before Hydra writes anything in the output folder.

Hydra creates a run's folder and writes ``.hydra/`` (config, overrides) before it calls the run.
A mistake found only then would leave a folder behind, or, in a folder that already holds a
complete run, overwrite its record of how it was made. :class:`Preflight`, a Hydra callback of the
primary config, checks first: the configuration (ranges, unknown keys, mechanism selection), a
folder that is not the run's own or already holds a complete run (refused unless ``resume=true``,
which then has nothing to do when every replicate is complete), and an output folder that cannot
be created.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim import interrupts
from sim.config.loading import validate
from sim.errors import UserError
from sim.runs.failures import foreign_entries
from sim.runs.layout import JOB_FILE, completed_runs, is_complete, is_complete_job, job_hashes_match, replicate_dirs


def _seeded(cfg, seed: int):
    copy = cfg.copy()
    copy.seed = seed
    return copy


_LOCKS: list = []   # open lock files, held for the life of this process


def hold_folder(folder: Path, key: str) -> None:
    """One command at a time per output folder: two runs into one folder would mix their files.
    The lock (flock) lives in the system's temporary folder, not in the run's, and goes with the
    process, however it ends."""
    import fcntl
    import hashlib
    import tempfile

    resolved = str(folder.resolve())
    locks = Path(tempfile.gettempdir()) / "sim-locks"
    locks.mkdir(exist_ok=True)
    handle = open(locks / (hashlib.sha256(resolved.encode()).hexdigest()[:24] + ".lock"), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise UserError(f"Another sim command ({owner}) is writing into {folder} right now. Nothing was run. Wait "
                        f"for it to finish, or give another folder with {key}=PATH.") from None
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    _LOCKS.append(handle)


def writable_folder(folder: Path, key: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        what = {NotADirectoryError: "lies under a file", FileExistsError: "is a file",
                PermissionError: "cannot be created here (permission denied)"}.get(type(err), f"cannot be created ({err.strerror})")
        raise UserError(f"The output folder {folder} {what}. Nothing was run. Choose another folder with "
                        f"{key}=PATH (a folder you can write to).") from None
    probe = folder / ".sim-write-test"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError:
        raise UserError(f"The output folder {folder} is not writable. Nothing was run. Choose another folder "
                        f"with {key}=PATH, or make it writable.") from None


def _own_folder(folder: Path, key: str) -> None:
    """A run's folder must be its own: not the working folder or one above it, not a folder that
    holds a user's files (a failed run cleans up what it wrote, and nothing else)."""
    resolved, cwd = folder.resolve(), Path.cwd().resolve()
    if not str(folder).strip() or resolved == cwd or resolved in cwd.parents:
        raise UserError(f"{key}={str(folder)!r} is the working folder or one above it; a run needs a folder of its "
                        f"own. Nothing was run. Give a new folder, e.g. {key}=results/my_run.")
    if resolved.is_dir() and (foreign := foreign_entries(resolved)):
        raise UserError(f"{folder} already exists and holds files that no run writes (e.g. {foreign[0].name}). "
                        f"Nothing was run or changed. Give a new or empty folder with {key}=PATH.")


def check_run(config: DictConfig) -> str | None:
    """Raise :class:`UserError` for a run that must not start; return a note when there is
    nothing to do (resume of a complete run)."""
    hydra = config.hydra
    cfg = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
    validate(cfg, list(hydra.overrides.task), dict(hydra.runtime.choices))
    out_dir = Path(str(hydra.run.dir))
    _own_folder(out_dir, "hydra.run.dir")
    hold_folder(out_dir, "hydra.run.dir")
    done = completed_runs(out_dir)
    if done:
        if not cfg.resume:
            raise UserError(
                f"{out_dir} already holds a complete run ({done[0]}). Nothing was run or changed. "
                "Choose another folder (hydra.run.dir=PATH), delete that one first, or add resume=true to "
                "finish only its missing replicates.")
        if cfg.output.layout == "table":
            other = [d for d in done if d.name != JOB_FILE or not job_hashes_match(out_dir, cfg)]
            complete = not other and is_complete_job(out_dir, cfg)
        else:
            expected = {path: _seeded(cfg, seed) for seed, path in replicate_dirs(cfg, out_dir)}
            other = [d for d in done if d.parent not in expected or not is_complete(d.parent, expected[d.parent])]
            complete = len(done) == len(expected)
        if other:
            raise UserError(
                f"{other[0].parent} holds a complete run of another configuration or layout ({other[0].name}), so "
                "resume=true cannot continue it with this one. Nothing was run or changed. Choose another folder "
                f"(hydra.run.dir=PATH), or repeat the command that made it ({other[0].name} records it).")
        if complete:
            return f"resume: every run in {out_dir} is complete; nothing to do."
    writable_folder(out_dir, "hydra.run.dir")
    return None


def checked(check, config: DictConfig):
    """``check(config)``: a user's mistake exits 2 with its paragraph; a fault in the check itself
    exits 1 with its traceback (Hydra would only warn, and the run would go on unchecked)."""
    try:
        return check(config)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except Exception as err:
        traceback.print_exc()
        print(f"error: the check before running failed ({type(err).__name__}: {err}). Nothing was run. This is a "
              "fault in sim, not in your command: please report it with the traceback above.", file=sys.stderr)
        sys.exit(1)


class Preflight(Callback):
    """Installed by the primary config of ``python -m sim run`` (``hydra.callbacks``) for single runs;
    sweeps have :class:`sim.sweeps.preflight.SweepPreflight`."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        interrupts.resume()   # the config is composed (sim.cli deferred signals meanwhile)
        note = checked(check_run, config)
        if note:
            print(note)
            sys.exit(0)
