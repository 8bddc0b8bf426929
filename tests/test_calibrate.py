"""``python -m sim calibrate``: an ABC-SMC posterior of the entry parameters, reproducible and checked."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyabc", reason="the calibrate extra (pyabc) is not installed")

from sim.analysis import calibration, posterior  # noqa: E402


def calibrate(cwd, *args):
    return subprocess.run([sys.executable, "-m", "sim", "calibrate", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("calibrate")
    for name in ("a", "b"):
        done = calibrate(tmp, "--quick", "--jobs", "1", "--seed", "7", "--out", name)
        assert done.returncode == 0, done.stderr[-3000:]
    return tmp


def test_a_calibration_writes_its_posterior_and_diagnostics(runs):
    result = json.loads((runs / "a" / "posterior.json").read_text())
    frame = pd.read_csv(runs / "a" / "posterior.csv")
    assert len(frame) == posterior.QUICK["population"] and frame["weight"].sum() == pytest.approx(1.0)
    for key, (dist, (loc, scale), _) in posterior.PRIORS.items():
        low, high = (loc, loc + scale) if dist == "uniform" else (loc, scale)
        assert frame[key].between(low, high).all(), key
        p = result["parameters"][key]
        assert low <= p["interval_95"][0] <= p["median"] <= p["interval_95"][1] <= high
    tolerances = [g["epsilon"] for g in result["per_generation"]]
    assert len(tolerances) == posterior.QUICK["generations"] and tolerances == sorted(tolerances, reverse=True)
    assert result["data"] == {str(y): v for y, v in calibration.FIT_DATA.items()}   # only the calibration split
    assert result["versions"]["pyabc"] and result["versions"]["numpy"]   # bit-reproducible only with the same versions
    assert sum(g["simulations"] for g in result["per_generation"]) <= result["simulations"]
    for name in ("posterior.md", "posterior_overrides.yaml", "abc.db", "figures/posterior.png", "figures/posterior.pdf"):
        assert (runs / "a" / name).is_file(), name


def test_its_draws_are_what_posterior_csv_runs_take(runs):
    """posterior_draws.csv: particles resampled by weight, the fixed settings added, and each run of
    posterior=csv takes the draw of its seed."""
    from sim.config.loading import load_config, resolved

    frame = pd.read_csv(runs / "a" / "posterior.csv")
    draws = pd.read_csv(runs / "a" / "posterior_draws.csv", comment="#")
    assert len(draws) == len(frame)
    particles = {tuple(row) for row in frame[list(posterior.PRIORS)].itertuples(index=False)}
    keys = [f"mechanism.three_tier.{k}" for k in posterior.PRIORS]
    assert {tuple(row) for row in draws[keys].itertuples(index=False)} <= particles
    for seed in (0, 5):
        council = resolved(load_config(["+mechanism=three_tier", "posterior=csv", f"seed={seed}",
                                        f"posterior.path={runs / 'a' / 'posterior_draws.csv'}"]))["mechanism"]["three_tier"]
        assert {k: council[k] for k in posterior.PRIORS} == {k: draws[f"mechanism.three_tier.{k}"][seed]
                                                             for k in posterior.PRIORS}
        assert {k: council[k] for k in posterior.FIXED} == posterior.FIXED


def test_the_same_seed_gives_the_same_posterior(runs):
    a, b = (pd.read_csv(runs / name / "posterior.csv") for name in ("a", "b"))
    pd.testing.assert_frame_equal(*(pd.read_csv(runs / name / "posterior_draws.csv", comment="#") for name in "ab"))
    pd.testing.assert_frame_equal(a, b)


def test_a_simulation_depends_on_its_parameters_and_seed_only():
    model = posterior.CouncilModel(seed=3)
    point = {"income_threshold": 0.3, "linkage_threshold": 0.4, "entry_rate": 1.0}
    first = model(point)["path"]
    model({"income_threshold": 0.9, "linkage_threshold": 0.0, "entry_rate": 4.0})   # another point in between
    assert np.array_equal(model(point)["path"], first)
    assert first[0] == calibration.FIT_DATA[min(calibration.FIT_DATA)]   # the 14 founders
    assert len(first) == len(posterior.FIT_YEARS) and posterior.FIT_YEARS[-1] == max(calibration.FIT_DATA)
    assert model.member_seed(point) != posterior.CouncilModel(seed=4).member_seed(point)
    padded = np.concatenate([first, np.full(len(calibration.YEARS) - len(first), np.nan)])
    assert posterior.distance({"path": first}, posterior.observed()) == pytest.approx(calibration.path_rmse(padded))


@pytest.mark.parametrize("args, needle", [
    (["--population", "0"], "--population 0"),
    (["--jobs", "0"], "--jobs 0"),
    (["--seed", "-1"], "--seed -1"),
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, args, needle):
    done = calibrate(tmp_path, *args, "--out", "out")
    assert done.returncode == 2 and needle in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_finished_calibration_is_never_overwritten(runs):
    before = (runs / "a" / "posterior.json").read_bytes()
    done = calibrate(runs, "--quick", "--out", "a")
    assert done.returncode == 2 and "already holds a posterior" in done.stderr
    assert (runs / "a" / "posterior.json").read_bytes() == before
