"""``python -m sim report``: tables, paired effects, figures and provenance of real sweep folders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis import report

TINY = ["years=3", "output.figures=false", "output.events=false"]


def sim_run(cwd, *args):
    return subprocess.run([sys.executable, "-m", "sim", "run", "-m", *args, *TINY], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def mech_sweep(tmp_path_factory):
    """Baseline and three-tier council, seeds 0-2: six jobs, reported once."""
    tmp = tmp_path_factory.mktemp("report")
    proc = sim_run(tmp, "+mechanism=none,three_tier", "seed=0,1,2", "hydra.sweep.dir=mech")
    assert proc.returncode == 0, proc.stderr
    assert report.main([str(tmp / "mech")]) == 0
    return tmp / "mech"


@pytest.fixture(scope="module")
def failing_sweep(tmp_path_factory):
    """Two replicates per job; the second job's trust rate is out of range, so it fails. (Hydra's
    own basic sweeper: ours refuses such a sweep before any job runs.)"""
    tmp = tmp_path_factory.mktemp("report_fail")
    proc = sim_run(tmp, "model.trust.rate=0.5,7", "replicates=2", "hydra.sweep.dir=fail", "hydra/sweeper=basic")
    assert proc.returncode != 0 and (tmp / "fail" / "1" / "error.txt").exists()
    return tmp / "fail"


def read(sweep, name="runs.parquet"):
    path = sweep / "report" / name
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith(".csv"):
        return pd.read_csv(path)
    return json.loads(path.read_text()) if name.endswith(".json") else path.read_text()


def t_half(x) -> float:
    x = np.asarray(x, float)
    return stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))


def test_runs_table_has_one_row_per_run_with_overrides_and_seeds(mech_sweep):
    runs = read(mech_sweep)
    assert len(runs) == 6
    assert sorted(runs["run_dir"]) == [str(j) for j in range(6)]
    assert list(runs["job"]) == list(range(6))
    assert set(runs["mechanism"]) == {"none", "three_tier"}
    assert set(runs["design"]) == {"baseline", "mechanism=three_tier"}
    assert (runs.groupby("design")["seed"].apply(sorted) == pd.Series({"baseline": [0, 1, 2],
            "mechanism=three_tier": [0, 1, 2]})).all()
    assert (runs["years"] == "3").all() and (runs["summary_years"] == "2015-2017").all()
    for metric in ("cooperation_index", "gdp_total_final", "config_hash", "mechanisms"):
        assert runs[metric].notna().all(), metric
    baseline = runs[runs["design"] == "baseline"]
    assert (baseline["mechanisms"] == "none").all() and baseline["council_size_final"].isna().all()


def test_replicates_are_rows_of_their_own(failing_sweep):
    assert report.main([str(failing_sweep)]) == 0
    runs = read(failing_sweep)
    assert list(runs["run_dir"]) == ["0/seed_0", "0/seed_1"]
    assert list(runs["seed"]) == [0, 1] and list(runs["job"]) == [0, 0]
    assert (runs["model.trust.rate"] == "0.5").all() and (runs["replicates"] == "2").all()


def test_comparison_means_and_intervals_match_a_hand_computation(mech_sweep):
    runs, comparison = read(mech_sweep), read(mech_sweep, "comparison.csv")
    for design, group in runs.groupby("design"):
        for metric in ("cooperation_index", "gdp_total_final", "theil_final", "firms_lost_share"):
            row = comparison[(comparison["design"] == design) & (comparison["metric"] == metric)].iloc[0]
            x = group[metric].to_numpy(float)
            assert row["n"] == 3
            assert row["mean"] == pytest.approx(x.mean(), rel=1e-12)
            assert row["sd"] == pytest.approx(x.std(ddof=1), rel=1e-9)
            assert row["ci_high"] - row["mean"] == pytest.approx(t_half(x), rel=1e-9, abs=1e-12)
    council = comparison[comparison["metric"] == "council_size_final"]
    assert list(council["design"]) == ["mechanism=three_tier"]   # a mechanism metric only where present


def test_paired_difference_is_the_mean_of_per_seed_differences(mech_sweep):
    runs, comparison = read(mech_sweep), read(mech_sweep, "comparison.csv")
    wide = runs.pivot(index="seed", columns="design", values="cooperation_index")
    diff = wide["mechanism=three_tier"] - wide["baseline"]
    row = comparison[(comparison["design"] == "mechanism=three_tier")
                     & (comparison["metric"] == "cooperation_index")].iloc[0]
    assert row["baseline"] == "baseline" and row["n_pairs"] == 3
    assert row["diff_mean"] == pytest.approx(diff.mean(), abs=1e-12)
    assert row["diff_ci_high"] - row["diff_mean"] == pytest.approx(t_half(diff), rel=1e-9, abs=1e-12)
    base = comparison[comparison["design"] == "baseline"]
    assert base["diff_mean"].isna().all()


def test_baseline_is_detected_and_can_be_chosen(mech_sweep, tmp_path):
    md = read(mech_sweep, "comparison.md")
    assert "Baseline: 'baseline', the only design without a mechanism." in md
    assert read(mech_sweep, "provenance.json")["report"]["baseline"] == "baseline"
    out = tmp_path / "other"
    assert report.main([str(mech_sweep), "--baseline", "mechanism=three_tier", "--out", str(out)]) == 0
    comparison = pd.read_csv(out / "comparison.csv")
    assert (comparison["baseline"] == "mechanism=three_tier").all()
    assert comparison.loc[comparison["design"] == "baseline", "diff_mean"].notna().any()


def test_unknown_baseline_is_a_clear_error(mech_sweep, tmp_path, capsys):
    out = tmp_path / "never"
    assert report.main([str(mech_sweep), "--baseline", "nope", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--baseline 'nope' is not a design" in err and "'mechanism=three_tier'" in err
    assert not out.exists()


def test_failed_jobs_are_listed_and_the_report_still_succeeds(failing_sweep):
    assert report.main([str(failing_sweep)]) == 0
    prov = read(failing_sweep, "provenance.json")
    assert [(f["job"], f["run_dir"], f["error_file"]) for f in prov["failed"]] == \
        [(1, "1/seed_0", "1/error.txt"), (1, "1/seed_1", "1/error.txt")]   # the job failed before its replicates
    for failure in prov["failed"]:
        assert failure["design"] == "model.trust.rate=7"
        assert failure["error"].startswith("sim.errors.ConfigError") and "model.trust.rate" in failure["error"]
    assert prov["missing"] == []
    assert "## Failed runs" in read(failing_sweep, "comparison.md")
    assert "model.trust.rate=0.5,7" in prov["sweep"]["command"]


def test_missing_job_and_run_are_listed(mech_sweep, tmp_path):
    sweep = tmp_path / "sweep"
    shutil.copytree(mech_sweep, sweep, ignore=shutil.ignore_patterns("report"))
    shutil.rmtree(sweep / "4")                      # three_tier, seed 1: the whole job folder
    (sweep / "0" / "summary.json").unlink()         # baseline, seed 0: an interrupted run
    assert report.main([str(sweep)]) == 0
    prov = json.loads((sweep / "report" / "provenance.json").read_text())
    missing = {m["job"]: m for m in prov["missing"]}
    assert set(missing) == {0, 4}
    assert missing[4]["run_dir"] is None and missing[4]["seeds"] == [1]
    assert "+mechanism=three_tier" in missing[4]["overrides"] and "seed=1" in missing[4]["overrides"]
    assert missing[0]["run_dir"] == "0"
    assert prov["sweep"]["expected_jobs"] == 6 and prov["sweep"]["job_folders_found"] == 5
    comparison = pd.read_csv(sweep / "report" / "comparison.csv")
    row = comparison[(comparison["design"] == "mechanism=three_tier")
                     & (comparison["metric"] == "cooperation_index")].iloc[0]
    assert row["n"] == 2 and row["n_pairs"] == 1      # seeds {0, 2} vs baseline seeds {1, 2}


def test_figures_are_written_as_pdf_png_and_sidecar(mech_sweep):
    figures = mech_sweep / "report" / "figures"
    for stem in ("cooperation_trajectories", "effects_forest", "inequality_output"):
        assert (figures / f"{stem}.pdf").read_bytes().startswith(b"%PDF")
        assert (figures / f"{stem}.png").read_bytes().startswith(b"\x89PNG")
        sidecar = json.loads((figures / f"{stem}.json").read_text())
        assert sidecar["command"] == f"python -m sim report {mech_sweep}"
        assert sidecar["sweep_command"].startswith("python -m sim run -m +mechanism=none,three_tier")
        assert sidecar["seeds"] == {"baseline": [0, 1, 2], "mechanism=three_tier": [0, 1, 2]}


def test_provenance_records_sweep_versions_and_hashes(mech_sweep):
    prov = read(mech_sweep, "provenance.json")
    assert prov["sweep"]["task_overrides"][:2] == ["+mechanism=none,three_tier", "seed=0,1,2"]
    assert "BasicSweeper" in prov["sweep"]["sweeper"]["_target_"]
    assert "BasicLauncher" in prov["sweep"]["launcher"]["_target_"]
    assert len(prov["runs"]) == 6 and all(len(r["config_hash"]) == 16 for r in prov["runs"])
    assert prov["git_revisions"] and prov["versions"]["mesa"][0].startswith("3.")
    assert prov["report"]["versions"]["sim"] and prov["report"]["common_settings"] == {"years": "3"}


def test_rerunning_overwrites_atomically(mech_sweep):
    before = read(mech_sweep, "comparison.csv")
    assert report.main([str(mech_sweep)]) == 0
    pd.testing.assert_frame_equal(before, read(mech_sweep, "comparison.csv"))
    assert not list((mech_sweep / "report").rglob("*.tmp"))


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_bad_folder_exits_2_with_a_clear_message_and_writes_nothing(tmp_path, make):
    target = tmp_path / "sweep"
    if make == "empty":
        (target / "something").mkdir(parents=True)
    proc = subprocess.run([sys.executable, "-m", "sim.analysis.report", str(target)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")
    assert ("does not exist" if make == "missing" else "holds no run folders") in proc.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == \
        ([] if make == "missing" else [target.relative_to(tmp_path), (target / "something").relative_to(tmp_path)])


def test_report_never_imports_or_runs_the_model(mech_sweep, tmp_path, monkeypatch):
    code = ("import sys, sim.analysis.report; rc = sim.analysis.report.main([sys.argv[1], '--out', sys.argv[2]]); "
            "sys.exit(10 if 'sim.model.city_model' in sys.modules or 'sim.runs.runner' in sys.modules or 'mesa' in sys.modules "
            "else rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(mech_sweep), str(tmp_path / "a")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr

    import sim.runs.runner

    def forbidden(*args, **kwargs):
        raise AssertionError("the report ran the model")

    monkeypatch.setattr(sim.runs.runner, "simulate", forbidden)
    folders = sorted(p.name for p in mech_sweep.iterdir())
    assert report.main([str(mech_sweep), "--out", str(tmp_path / "b")]) == 0
    assert sorted(p.name for p in mech_sweep.iterdir()) == folders


def test_registered_as_sim_report_command(mech_sweep, tmp_path):
    ok = subprocess.run([sys.executable, "-m", "sim", "report", str(mech_sweep), "--out", str(tmp_path / "r")],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "-m", "sim", "report", str(tmp_path / "nope")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "does not exist" in bad.stderr
