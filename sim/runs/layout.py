"""Where a job's runs are written: the run-folder contract in its two layouts.

* ``output.layout=folders`` (the default): every run has a folder of its own, the job's or, with
  ``replicates`` > 1, ``seed_<s>`` below it, holding its tables, figures, ``config.json`` and,
  written last, ``summary.json``, whose presence marks a complete run.
* ``output.layout=table``: a job writes each kind of table once for all its replicates (a
  ``seed`` column first, then a column per value the job's overrides set), ``config.json`` and,
  written last, ``summaries.json``: every replicate's summary as its ``summary.json`` would hold
  it, and the replicates that failed (:mod:`sim.runs.job_table`). At ~7 ms a parquet file and ten
  files a run, the folder layout's writing is a third of a sweep's time on two cores; a cluster's
  shared file system also fares better with a few large files than with millions of small ones.

Everything that finds, counts or resumes runs (preflights, launcher, progress, report,
sensitivity) asks this module, so the two layouts are described once.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.config.loading import config_hash
from sim.files import SUMMARY_FILE

JOB_FILE = "summaries.json"   # a table-layout job's summaries, written last: its presence marks it complete
LAYOUTS = ("folders", "table")


def seed_dirs(first: int, count: int, folder: Path) -> list[tuple[int, Path]]:
    """(seed, run folder) of each replicate in the folder layout: the job's folder itself, or
    ``seed_<s>`` below it when there are several."""
    if count == 1:
        return [(first, folder)]
    return [(first + k, folder / f"seed_{first + k}") for k in range(count)]


def replicate_dirs(cfg, out_dir: Path) -> list[tuple[int, Path]]:
    """:func:`seed_dirs` of a job's config (a sweep's recorded config may lack the keys)."""
    return seed_dirs(int(cfg.get("seed", 0) or 0), int(cfg.get("replicates", 1) or 1), Path(out_dir))


def read_job_file(folder: Path) -> dict | None:
    """A table-layout job's ``summaries.json``; None if it has none (ValueError if unreadable)."""
    path = Path(folder) / JOB_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list) or not isinstance(data.get("failed"), list):
        raise ValueError(f"{path} is not a job's summaries (no 'runs' and 'failed' lists)")
    return data


def finished_runs(folder: Path) -> int:
    """Runs of one job that are complete or have failed, in either layout."""
    try:
        data = read_job_file(folder)
    except ValueError:
        data = None
    if data is not None:
        return len(data["runs"]) + len(data["failed"])
    return sum(len(list(Path(folder).glob(pattern))) for pattern in
               (SUMMARY_FILE, "error.txt", f"seed_*/{SUMMARY_FILE}", "seed_*/error.txt"))


def completed_runs(out_dir: Path) -> list[Path]:
    """Files at or directly below ``out_dir`` that mark complete runs (summary.json, or a
    table-layout job's summaries.json)."""
    out_dir = Path(out_dir)
    found = [out_dir / name for name in (SUMMARY_FILE, JOB_FILE) if (out_dir / name).is_file()]
    if out_dir.is_dir():
        found += sorted(out_dir.glob(f"seed_*/{SUMMARY_FILE}"))
    return found


def is_complete(out_dir: Path, cfg) -> bool:
    """A folder holds a finished run of this very config, in the folder layout (used to resume)."""
    path = Path(out_dir) / SUMMARY_FILE
    if not path.exists():
        return False
    try:
        return json.loads(path.read_text()).get("config_hash") == config_hash(cfg)
    except ValueError:
        return False


def job_hashes_match(out_dir: Path, cfg) -> bool | None:
    """Whether a table-layout job's summaries are all of this job's config (seeds seed, seed+1, ...,
    ``cfg.seed`` changed in place meanwhile); None if the folder has no readable summaries.json."""
    try:
        data = read_job_file(out_dir)
    except ValueError:
        return None
    if data is None:
        return None
    hashes = {entry.get("seed"): entry.get("config_hash") for entry in data["runs"]}
    first = int(cfg.seed)
    try:
        for seed in list(hashes):
            cfg.seed = seed if isinstance(seed, int) else first
            if hashes[seed] != config_hash(cfg) or not first <= cfg.seed < first + int(cfg.replicates):
                return False
    finally:
        cfg.seed = first
    return True


def is_complete_job(out_dir: Path, cfg) -> bool:
    """A table-layout job holds every replicate of this very config, none failed (used to resume)."""
    if not job_hashes_match(out_dir, cfg):
        return False
    data = read_job_file(out_dir)
    return not data["failed"] and len(data["runs"]) == int(cfg.replicates)
