"""Shipped experiments: each overlay composes into a parallel multirun, and one runs end to end."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXPERIMENTS = sorted(p.stem for p in (Path(__file__).parents[1] / "sim" / "runs" / "configs" / "experiment").glob("*.yaml"))


def sim(*args, cwd):
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_the_shipped_experiments_are_found():
    assert {"compare_mechanisms", "enclave_rules_monitoring", "sensitivity_mechanisms"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_is_a_parallel_multirun_and_documented(name, tmp_path):
    proc = sim("run", f"+experiment={name}", "--cfg", "hydra", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "mode: MULTIRUN" in proc.stdout and "hydra/launcher: local" in proc.stdout
    readme = (Path(__file__).parents[1] / "experiments" / "README.md").read_text()
    assert f"+experiment={name}" in readme


def test_compare_mechanisms_runs_and_reports(tmp_path):
    sweep = tmp_path / "sweep"
    proc = sim("run", "+experiment=compare_mechanisms", "seed=0", "replicates=2", "years=3",
               f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "progress: 10/10 runs done" in (sweep / "progress.log").read_text()
    assert sim("report", str(sweep), cwd=tmp_path).returncode == 0
    runs = pd.read_parquet(sweep / "report" / "runs.parquet")
    assert len(runs) == 10 and runs["design"].nunique() == 5


def test_progress_counts_each_jobs_runs_once(tmp_path):
    """The ledger adds every job's own finished runs (complete or failed), never a run twice."""
    from sim.runs.layout import finished_runs
    from sim.sweeps.progress import record_job

    replicated, single = tmp_path / "0", tmp_path / "1"
    for seed, marker in [(0, "summary.json"), (1, "error.txt"), (2, "summary.json")]:
        (replicated / f"seed_{seed}").mkdir(parents=True)
        (replicated / f"seed_{seed}" / marker).write_text("{}")
    (replicated / "seed_3").mkdir()   # unfinished
    single.mkdir()
    (single / "summary.json").write_text("{}")
    assert finished_runs(replicated) == 3 and finished_runs(single) == 1
    assert record_job(tmp_path, finished_runs(replicated)) == 3
    assert record_job(tmp_path, finished_runs(single)) == 4
