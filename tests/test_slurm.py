"""A sweep submitted to a real SLURM scheduler through hydra-submitit-launcher, then reported.

Needs an idle SLURM node: .ci/run starts one with scripts/slurm-single-node.sh (as root).
Elsewhere these tests skip and say why.
"""

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest


def slurm_idle() -> bool:
    if not shutil.which("sinfo") or not shutil.which("sbatch"):
        return False
    out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
    return out.returncode == 0 and any(s in ("idle", "mixed") for s in out.stdout.split())


pytestmark = pytest.mark.skipif(
    not slurm_idle(), reason="no idle SLURM node here; start one with 'sudo scripts/slurm-single-node.sh'")


def test_sweep_runs_as_slurm_array_jobs_and_reports(tmp_path):
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", "-m", "hydra/launcher=slurm",   # the cluster preset
         "hydra.launcher.timeout_min=10", "hydra.launcher.mem_gb=1",
         "+mechanism=none,three_tier", "seed=0,1", "years=3",
         "replicates=2", "output.figures=false", f"hydra.sweep.dir={sweep}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # submitit keeps one folder per SLURM job: the jobs really went through the scheduler.
    assert list((sweep / ".submitit").iterdir())
    report = subprocess.run([sys.executable, "-m", "sim", "report", str(sweep)], capture_output=True,
                            text=True, timeout=600)
    assert report.returncode == 0, report.stderr
    runs = pd.read_parquet(sweep / "report" / "runs.parquet")
    assert len(runs) == 8 and sorted(runs["seed"].unique()) == [0, 1, 2]
    provenance = json.loads((sweep / "report" / "provenance.json").read_text())
    assert not provenance["failed"] and not provenance["missing"]
    assert "submitit_launcher.SlurmLauncher" in json.dumps(provenance)
