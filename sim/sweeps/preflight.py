"""What a sweep of ``python -m sim run -m`` checks before Hydra writes anything in its folder.

:class:`SweepPreflight`, a callback of run's primary config that Hydra calls before the sweeper
saves ``multirun.yaml`` and before the progress callback starts its count, refuses a sweep folder
that is the working folder, a launcher that would run nothing, and a folder that holds complete
runs: without ``resume=true``, or (with it) runs of other jobs than this sweep's. The values of
every job are checked next, by the sweeper (:mod:`sim.sweeps.basic`); a sweep stopped there leaves
no folder it made.
"""

from __future__ import annotations

from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim import interrupts
from sim.errors import UserError
from sim.runs.layout import completed_runs
from sim.runs.preflight import checked, hold_folder, writable_folder
from sim.sweeps.basic import NEW_SWEEPS, check_resumed_job, job_overrides

def check_sweep(config: DictConfig) -> None:
    """Raise :class:`UserError` for a sweep that must not start."""
    sweep_dir = Path(str(config.hydra.sweep.dir))
    resolved, cwd = sweep_dir.resolve(), Path.cwd().resolve()
    if not str(sweep_dir).strip() or resolved == cwd or resolved in cwd.parents:
        raise UserError(f"hydra.sweep.dir={str(sweep_dir)!r} is the working folder or one above it; a sweep needs a "
                        "folder of its own. Nothing was run. Give a new folder, e.g. hydra.sweep.dir=results/my_sweep.")
    if (n_jobs := OmegaConf.select(config, "hydra.launcher.n_jobs")) is not None and int(n_jobs) == 0:
        raise UserError("hydra.launcher.n_jobs=0 runs nothing. Nothing was run. Give the number of parallel jobs "
                        "(1, 2, ...), or -1 for all cores.")
    hold_folder(sweep_dir, "hydra.sweep.dir")
    done = [found for job in sorted(sweep_dir.glob("*")) if job.is_dir() for found in completed_runs(job)]
    if done and not config.get("resume"):
        raise UserError(f"{sweep_dir} already holds complete runs of a sweep (e.g. {done[0].parent}). "
                        "Nothing was run or changed. Add resume=true to run only what is missing (the same sweep), "
                        "or give another folder with hydra.sweep.dir=PATH.")
    if done and "BasicSweeper" in str(OmegaConf.select(config, "hydra.sweeper._target_")):
        jobs = job_overrides(OmegaConf.select(config, "hydra.sweeper.params") or {}, list(config.hydra.overrides.task))
        for num, overrides in enumerate(jobs):
            check_resumed_job(config, num, overrides)
    if not sweep_dir.exists():
        NEW_SWEEPS.add(sweep_dir.resolve())
    writable_folder(sweep_dir, "hydra.sweep.dir")


class SweepPreflight(Callback):
    """Installed by the primary config of ``python -m sim run`` (``hydra.callbacks``), before progress."""

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        interrupts.resume()   # the config is composed (sim.cli deferred signals meanwhile)
        checked(check_sweep, config)
