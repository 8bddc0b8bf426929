"""``output.layout=table``: a job's replicates in one table per kind, read by ``sim report`` like folders.

The same sweep is run in both layouts; every table row and every summary of the table layout must
be the folder layout's, so the layout changes where results are written, never what they are.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from sim.analysis import report
from sim.analysis.report_figures import trajectory_bands
from sim.analysis.sweep_folder import Job, job_runs
from sim.runs.layout import JOB_FILE, finished_runs

SWEEP = ["+mechanism=none,enclave", "model.trust.rate=0.3", "seed=0", "replicates=2", "years=3",
         "output.figures=false"]
PROVENANCE = ("config_hash", "command")   # the layout is part of the config, so of its hash and command


def sim(cwd, *args):
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    """The same four runs (two designs x two seeds) in the folder and the table layout, reported."""
    tmp = tmp_path_factory.mktemp("layouts")
    for layout in ("folders", "table"):
        done = sim(tmp, "run", "-m", *SWEEP, f"output.layout={layout}", f"hydra.sweep.dir={layout}")
        assert done.returncode == 0, done.stderr[-3000:]
        assert report.main([str(tmp / layout)]) == 0
    return tmp


def test_a_table_job_writes_one_file_per_kind_and_no_run_folders(sweeps):
    job = sweeps / "table" / "1"   # enclave: its parks table too
    assert not list(job.glob("seed_*")) and not (job / "figures").exists()
    assert {p.name for p in job.glob("*.parquet")} == {p.name for p in (sweeps / "folders" / "1" / "seed_0").glob("*.parquet")}
    assert finished_runs(job) == 2
    assert "progress: 4/4 runs done" in (sweeps / "table" / "progress.log").read_text()


def test_table_rows_are_the_folder_runs_rows_with_seed_and_swept_columns(sweeps):
    for job in ("0", "1"):
        for path in (sweeps / "table" / job).glob("*.parquet"):
            table = pd.read_parquet(path)
            leading = [c.removesuffix(" (swept)") for c in table.columns[:4]]   # the suffix: a table's own column
            assert leading == ["seed", "mechanism", "model.trust.rate", "years"], path
            assert set(table["mechanism"]) == {"none" if job == "0" else "enclave"}
            assert (table["model.trust.rate"] == 0.3).all() and table["model.trust.rate"].dtype == float
            for seed in (0, 1):
                alone = pd.read_parquet(sweeps / "folders" / job / f"seed_{seed}" / path.name)
                member = table[table["seed"] == seed].drop(columns=table.columns[:4]).reset_index(drop=True)
                pd.testing.assert_frame_equal(member, alone, check_exact=True)


def test_summaries_are_the_folder_runs_summaries(sweeps):
    data = json.loads((sweeps / "table" / "1" / JOB_FILE).read_text())
    assert data["failed"] == [] and data["swept"] == {"mechanism": "enclave", "model.trust.rate": 0.3, "years": 3}
    for entry in data["runs"]:
        alone = json.loads((sweeps / "folders" / "1" / f"seed_{entry['seed']}" / "summary.json").read_text())
        assert entry.keys() == alone.keys()
        assert {k: v for k, v in entry.items() if k not in PROVENANCE} == \
               {k: v for k, v in alone.items() if k not in PROVENANCE}
        assert "output.layout=table" in entry["command"]


def test_report_reads_both_layouts_alike(sweeps):
    tables = {layout: pd.read_parquet(sweeps / layout / "report" / "runs.parquet") for layout in ("folders", "table")}
    assert list(tables["table"]["run_dir"]) == ["0", "0", "1", "1"]
    assert list(tables["folders"]["run_dir"]) == ["0/seed_0", "0/seed_1", "1/seed_0", "1/seed_1"]
    drop = ["run_dir", "output.layout", "config_hash", "command"]
    pd.testing.assert_frame_equal(tables["table"].drop(columns=drop), tables["folders"].drop(columns=drop))
    comparisons = [pd.read_csv(sweeps / layout / "report" / "comparison.csv") for layout in ("folders", "table")]
    pd.testing.assert_frame_equal(*comparisons)
    bands = [trajectory_bands(tables[layout], sweeps / layout) for layout in ("folders", "table")]
    assert len(bands[0]) == 6   # two designs x three years
    pd.testing.assert_frame_equal(*bands)


def test_resume_skips_complete_table_jobs_and_reruns_the_rest(sweeps):
    marker = sweeps / "table" / "0" / JOB_FILE
    kept = (sweeps / "table" / "1" / JOB_FILE).stat().st_mtime_ns
    before = marker.read_text()
    marker.unlink()
    done = sim(sweeps, "run", "-m", *SWEEP, "output.layout=table", "hydra.sweep.dir=table", "resume=true")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (sweeps / "table" / "1" / JOB_FILE).stat().st_mtime_ns == kept
    def results(text):
        return [{k: v for k, v in run.items() if k != "command"} for run in json.loads(text)["runs"]]
    assert results(marker.read_text()) == results(before)   # the same runs again (the command adds resume=true)


def test_a_job_that_fails_lists_its_runs_as_failed(tmp_path):
    done = sim(tmp_path, "run", "-m", "model.trust.rate=0.5,7", "replicates=2", "years=2", "output.layout=table",
               "output.figures=false", "hydra.sweep.dir=fail", "hydra/sweeper=basic")
    assert done.returncode != 0 and (tmp_path / "fail" / "1" / "error.txt").is_file()
    assert report.main([str(tmp_path / "fail")]) == 0
    provenance = json.loads((tmp_path / "fail" / "report" / "provenance.json").read_text())
    assert [(f["job"], f["run_dir"]) for f in provenance["failed"]] == [(1, "1"), (1, "1")]
    assert "model.trust.rate" in provenance["failed"][0]["error"]


def test_runs_of_a_table_job_come_in_seed_order_with_their_state(tmp_path):
    (tmp_path / "error.txt").write_text("Traceback ...\nValueError: boom\n")
    (tmp_path / JOB_FILE).write_text(json.dumps({"runs": [{"seed": 5, "x": 1}, {"seed": 3, "x": 2}],
                                                 "failed": [{"seed": 4, "error": "ValueError: boom"}]}))
    job = Job(0, tmp_path, [], run_dirs=[tmp_path] * 3, replicates=3, seeds=[3, 4, 5], table=True)
    runs = job_runs(job)
    assert [r.summary and r.summary["seed"] for r in runs] == [3, None, 5]
    assert runs[1].error == "ValueError: boom" and runs[1].error_file == tmp_path / "error.txt"
    (tmp_path / JOB_FILE).write_text("[1, 2]")
    assert all(r.summary is None and JOB_FILE in r.error for r in job_runs(job))


@pytest.mark.parametrize("args, code, needle", [
    (["output.layout=table"], 2, "already holds a complete run"),
    (["output.layout=table", "resume=true"], 0, "nothing to do"),
    (["output.layout=table", "resume=true", "model.trust.rate=0.35"], 2, "another configuration or layout"),
    (["output.layout=folders", "resume=true"], 2, "another configuration or layout"),
])
def test_a_complete_table_run_is_never_overwritten(tmp_path, args, code, needle):
    first = sim(tmp_path, "run", "years=2", "replicates=2", "output.layout=table", "hydra.run.dir=one")
    assert first.returncode == 0, first.stderr[-3000:]
    files = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir() if p.is_file() and p.name != "run.log"}
    again = sim(tmp_path, "run", "years=2", "replicates=2", "hydra.run.dir=one", *args)
    assert again.returncode == code and needle in again.stdout + again.stderr, again.stderr[-2000:]
    assert "Traceback" not in again.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir() if p.is_file() and p.name != "run.log"} == files
