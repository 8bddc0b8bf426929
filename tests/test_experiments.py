"""Shipped experiments: each overlay composes into a parallel multirun, and one runs end to end."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXPERIMENTS = sorted(p.stem for p in (Path(__file__).parents[1] / "configs" / "experiment").glob("*.yaml"))


def sim(*args, cwd):
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_is_a_parallel_multirun_and_documented(name, tmp_path):
    proc = sim("run", f"+experiment={name}", "--cfg", "hydra", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "mode: MULTIRUN" in proc.stdout and "hydra/launcher: joblib" in proc.stdout
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
