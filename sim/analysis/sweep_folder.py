"""Reading the folder of a ``python -m sim run -m ...`` sweep: its jobs, their overrides and run folders.

Nothing here runs the model. A sweep folder holds ``multirun.yaml`` and one folder per job with
``.hydra/`` (config, overrides, job number); a job of ``replicates`` > 1 holds ``seed_<s>``
folders, one per replicate. A complete run has ``summary.json``; a failed one ``error.txt`` (in
its own folder or its job's).
"""

from __future__ import annotations

import functools
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sim.files import SUMMARY_FILE
from sim.runs.layout import JOB_FILE, read_job_file, seed_dirs
from sim.sweeps.basic import job_overrides

ERROR_FILE = "error.txt"


@dataclass
class Job:
    num: int | None
    folder: Path | None             # None: the sweep expected this job but its folder is missing
    overrides: list[str]
    run_dirs: list[Path] = field(default_factory=list)
    replicates: int = 1
    seeds: list[int] = field(default_factory=list)   # the seeds it runs (or would have run, if missing)
    table: bool = False                               # output.layout=table: one table per kind, summaries.json


def not_a_folder(path: Path) -> str | None:
    """What keeps ``path`` from being a sweep folder ("does not exist", "is not a folder", "is one
    run's folder"); None if it is one."""
    if path.is_dir():
        return "is one run's folder, not a sweep's" if (path / SUMMARY_FILE).is_file() else None
    return "is not a folder" if path.exists() else "does not exist"


def load_yaml(path: Path):
    """The YAML file's content; None if it is missing or unreadable."""
    try:
        return yaml.safe_load(path.read_text()) if path.exists() else None
    except (OSError, yaml.YAMLError):
        return None


def get(data, dotted: str, default=None):
    """``data["a"]["b"]`` for ``"a.b"``; ``default`` where a level is missing."""
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return default
        data = data[part]
    return data


def _as_int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@functools.cache
def _parser():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create()


def override_values(overrides: list[str]) -> dict[str, str]:
    """Override key -> value as a string; lists joined by '+', booleans and null as in YAML."""

    def text(value) -> str:
        if isinstance(value, (list, tuple)):
            return "+".join(text(v) for v in value)
        if isinstance(value, bool) or value is None:
            return json.dumps(value)
        return str(value)

    out: dict[str, str] = {}
    for override in _parser().parse_overrides(list(overrides)):
        key = override.key_or_group
        if not key.startswith("hydra."):
            out[key] = "~" if override.is_delete() else text(override.value())
    return out


def expected_job_overrides(sweep: dict | None) -> list[list[str]] | None:
    """The override list of every job of the sweep, by job number, as Hydra's BasicSweeper makes it
    (None for another sweeper, or if the expansion needs more than the overrides)."""
    if sweep is None or "BasicSweeper" not in str(get(sweep, "hydra.sweeper._target_", "")):
        return None
    try:
        return job_overrides(get(sweep, "hydra.sweeper.params") or {}, list(get(sweep, "hydra.overrides.task") or []))
    except Exception:   # e.g. glob() sweeps need the config loader: expected jobs unknown
        return None


def _job_runs(job: Job) -> None:
    """Fill in the run folders a present job should hold (:mod:`sim.runs.layout`): itself, or
    seed_<s> per replicate; a table-layout job's replicates all live in the job's folder."""
    config = load_yaml(job.folder / ".hydra" / "config.yaml") or {}
    job.replicates = _as_int(config.get("replicates"), 1)
    job.table = get(config, "output.layout") == "table"
    seeds = seed_dirs(_as_int(config.get("seed"), 0), job.replicates, job.folder)
    job.seeds = [seed for seed, _ in seeds]
    job.run_dirs = [job.folder] * job.replicates if job.table else [folder for _, folder in seeds]


@dataclass
class RunRecord:
    """One run of a present job as its files tell it: complete (``summary``), failed (``error``)
    or missing (neither)."""

    folder: Path                    # its run folder; a table-layout job's own folder
    summary: dict | None = None
    error: str | None = None        # the error's last line
    error_file: Path | None = None  # the error.txt holding it, if any


def job_runs(job: Job) -> list[RunRecord]:
    """The runs of a present job, in seed order, in either layout."""
    if job.table:
        try:
            data = read_job_file(job.folder)
        except ValueError as err:
            return [RunRecord(job.folder, error=f"unreadable {JOB_FILE}: {err}") for _ in job.seeds]
        if data is not None:
            entries = [(r.get("seed"), RunRecord(job.folder, summary=r)) for r in data["runs"]]
            error = job.folder / ERROR_FILE
            entries += [(f.get("seed"), RunRecord(job.folder, error=str(f.get("error")),
                                                  error_file=error if error.is_file() else None)) for f in data["failed"]]
            return [record for _, record in sorted(entries, key=lambda e: e[0] if isinstance(e[0], int) else -1)]
    records = []
    for run_dir in job.run_dirs:
        try:
            records.append(RunRecord(run_dir, summary=read_summary(run_dir)))
        except FileNotFoundError:
            error = error_file(job, run_dir)
            records.append(RunRecord(run_dir, error=_last_line(error) if error else None, error_file=error))
        except ValueError as err:
            records.append(RunRecord(run_dir, error=f"unreadable summary.json: {err}"))
    return records


def discover(sweep_dir: Path, out_dir: Path) -> tuple[list[Job], dict | None, list[list[str]] | None]:
    """The jobs of a sweep (the job folders present, and those the sweep expected but lack), the
    content of multirun.yaml and the expected jobs' overrides. Folders in ``out_dir`` are skipped."""
    sweep = load_yaml(sweep_dir / "multirun.yaml")
    expected = expected_job_overrides(sweep)
    found: dict[int | None, list[Job]] = {}
    for path in sorted(sweep_dir.rglob(".hydra/overrides.yaml")):
        folder = path.parent.parent
        if folder == out_dir or out_dir in folder.parents:
            continue
        num = get(load_yaml(folder / ".hydra" / "hydra.yaml"), "hydra.job.num")
        job = Job(num if isinstance(num, int) else None, folder, list(load_yaml(path) or []))
        _job_runs(job)
        found.setdefault(job.num, []).append(job)
    jobs = [job for group in found.values() for job in group]
    default_replicates = _as_int(get(sweep, "replicates"), 1)
    for num, overrides in enumerate(expected or []):
        if num not in found:
            values = override_values(overrides)
            replicates = _as_int(values.get("replicates"), default_replicates)
            seed = _as_int(values.get("seed"), _as_int(get(sweep, "seed"), 0))
            jobs.append(Job(num, None, overrides, replicates=replicates, seeds=list(range(seed, seed + replicates))))
    jobs.sort(key=lambda j: (j.num is None, j.num if j.num is not None else 0, str(j.folder)))
    return jobs, sweep, expected


def read_summary(run_dir: Path) -> dict:
    """A run's summary.json (FileNotFoundError if the run is not complete, ValueError if unreadable)."""
    return json.loads((run_dir / SUMMARY_FILE).read_text())


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(empty error.txt)"


def error_file(job: Job, run_dir: Path) -> Path | None:
    """The error.txt of a failed run: in its own folder or its job's; None if it has none."""
    return next((p for p in (run_dir / ERROR_FILE, job.folder / ERROR_FILE) if p.exists()), None)


def add_versions(versions: dict[str, list[str]], found: dict | None) -> None:
    """Add a run's package versions to ``versions`` (package -> versions seen, in order found)."""
    for package, version in (found or {}).items():
        if version not in versions.setdefault(package, []):
            versions[package].append(version)


def sweep_command(sweep: dict | None) -> str | None:
    """The command that made the sweep, from multirun.yaml (None without it)."""
    if sweep is None:
        return None
    hydra_overrides = [o for o in get(sweep, "hydra.overrides.hydra", []) if o != "hydra.mode=MULTIRUN"]
    return shlex.join(["python", "-m", "sim", "run", "-m", *get(sweep, "hydra.overrides.task", []),
                       *hydra_overrides])
