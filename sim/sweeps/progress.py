"""Sweep progress in the log: runs done out of the total, and the time left.

A Hydra callback. At the start of a multirun it expands the sweep with Hydra's own sweeper
to count the runs (jobs x replicates) and notes the start time in the sweep folder; at the
end of every job, in whichever process or cluster node ran it, it counts the job's finished
runs, appends that number to a ledger in the sweep folder and logs one line with the ledger's
sum, also appended to ``<sweep dir>/progress.log``. Counting only the job's own folder keeps
the cost per job constant: scanning the whole sweep folder after every job made a sweep of
thousands of runs quadratic.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sim.runs.layout import finished_runs
from sim.sweeps.basic import job_overrides

log = logging.getLogger("sim.sweeps.progress")
STATE = ".progress.json"
LEDGER = ".progress_runs"   # one line per finished job: its number of finished runs


def expected_jobs(hydra_cfg: DictConfig) -> int:
    """Number of jobs of a sweep, by Hydra's own expansion of its overrides."""
    return len(job_overrides(hydra_cfg.sweeper.get("params") or {}, list(hydra_cfg.overrides.task)))


def record_job(sweep_dir: Path, runs: int) -> int:
    """Add a job's finished runs to the sweep's ledger; the runs finished so far in the sweep.

    Appending one short line is atomic on local file systems, so parallel jobs do not clash.
    """
    with open(sweep_dir / LEDGER, "a") as fh:
        fh.write(f"{runs}\n")
    return sum(int(line) for line in (sweep_dir / LEDGER).read_text().split())


def describe(done: int, total: int, elapsed: float) -> str:
    left = elapsed / done * (total - done) if done else float("nan")
    return (f"progress: {done}/{total} runs done ({done / max(total, 1):.0%}), "
            f"elapsed {elapsed / 60:.1f} min, about {left / 60:.1f} min left")


class SweepProgress(Callback):
    """Log 'runs done / total, time left' after every job of a multirun."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        total = expected_jobs(config.hydra) * int(config.get("replicates", 1))
        (sweep_dir / STATE).write_text(json.dumps({"total": total, "start": time.time()}))
        (sweep_dir / LEDGER).unlink(missing_ok=True)   # a resumed sweep recounts its jobs
        log.info("sweep of %d runs started in %s", total, sweep_dir)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        state_file = sweep_dir / STATE
        if config.hydra.mode is None or str(config.hydra.mode) != "RunMode.MULTIRUN" or not state_file.exists():
            return
        state = json.loads(state_file.read_text())
        done = record_job(sweep_dir, finished_runs(Path(config.hydra.runtime.output_dir)))
        line = describe(done, state["total"], time.time() - state["start"])
        log.info(line)
        with open(sweep_dir / "progress.log", "a") as fh:
            fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
