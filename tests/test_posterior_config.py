"""``posterior=<name>``: runs that take their parameters from a calibration's equally weighted draws."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis import posterior as calibrate_posterior
from sim.analysis.stats import predictive_p_value
from sim.config import posterior
from sim.config.loading import config_hash, load_config, resolved
from sim.errors import ConfigError

KEYS = ("mechanism.three_tier.income_threshold", "mechanism.three_tier.entry_rate", "mechanism.three_tier.contiguity")
COUNCIL = "+mechanism=three_tier"


def write_draws(path, rows) -> str:
    frame = pd.DataFrame(rows, columns=list(KEYS))
    path.write_text("# draws for a test\n" + frame.to_csv(index=False))
    return str(path)


def entry_values(cfg) -> tuple:
    council = resolved(cfg)["mechanism"]["three_tier"]
    return tuple(council[key.rsplit(".", 1)[1]] for key in KEYS)


rows_strategy = st.lists(st.tuples(st.floats(0, 1), st.floats(0.01, 5), st.booleans()), min_size=1, max_size=6)


@settings(max_examples=15, deadline=None)
@given(rows=rows_strategy, seed=st.integers(0, 50))
def test_a_run_takes_the_draw_of_its_seed_modulo_the_draws(tmp_path_factory, rows, seed):
    file = write_draws(tmp_path_factory.mktemp("draws") / "d.csv", rows)
    posterior.read_draws.cache_clear()
    cfg = load_config([COUNCIL, "posterior=csv", f"posterior.path={file}", f"seed={seed}"])
    assert entry_values(cfg) == pytest.approx(rows[seed % len(rows)])
    assert resolved(cfg)["posterior"]["draw"] == seed


def test_changing_only_the_seed_moves_the_draw_as_replicates_do(tmp_path):
    """Replicates and validation batches compose once and change cfg.seed in place."""
    file = write_draws(tmp_path / "d.csv", [(0.1, 1.0, True), (0.9, 2.0, False), (0.5, 0.5, True)])
    cfg = load_config([COUNCIL, "posterior=csv", f"posterior.path={file}"])
    seen = []
    for seed in range(3):
        cfg.seed = seed
        seen.append(entry_values(cfg))
    assert seen == [(0.1, 1.0, True), (0.9, 2.0, False), (0.5, 0.5, True)]
    fixed = load_config([COUNCIL, "posterior=csv", f"posterior.path={file}", "posterior.draw=1", "seed=2"])
    assert entry_values(fixed) == (0.9, 2.0, False)


def test_an_override_of_a_drawn_key_wins_and_the_hash_follows_the_values(tmp_path):
    file = write_draws(tmp_path / "d.csv", [(0.1, 1.0, True), (0.9, 2.0, False)])
    base = [COUNCIL, "posterior=csv", f"posterior.path={file}"]
    cfg = load_config([*base, "mechanism.three_tier.entry_rate=0.3", "seed=1"])
    assert entry_values(cfg) == (0.9, 0.3, False)
    assert config_hash(load_config([*base, "seed=0"])) != config_hash(load_config([*base, "seed=0", "posterior.draw=1"]))


def test_the_embedded_posterior_is_the_calibrations_draws():
    cfg = load_config([COUNCIL, "posterior=yrd_council", "seed=7"])
    draws = posterior.read_draws(str(cfg.posterior.path))
    assert draws.count == 200 and set(draws.values) >= set(KEYS)
    council = resolved(cfg)["mechanism"]["three_tier"]
    for key, values in draws.values.items():
        assert council[key.rsplit(".", 1)[1]] == values[7]
    assert set(draws.values["mechanism.three_tier.contiguity"]) == {True}   # fixed at the grid's estimate


@pytest.mark.parametrize("overrides, needle", [
    (["posterior=yrd_council"], "add +mechanism=three_tier"),
    ([COUNCIL, "posterior=csv", "posterior.path=missing.csv"], "no such file"),
    ([COUNCIL, "posterior=csv", "posterior.path={bad_value}"], "not a number"),
    ([COUNCIL, "posterior=csv", "posterior.path={bad_key}"], "no parameters of the schema"),
    ([COUNCIL, "posterior=csv", "posterior.path={ragged}"], "values for 2 columns"),
])
def test_a_posterior_that_cannot_apply_is_a_config_error(tmp_path, overrides, needle):
    files = {"bad_value": "mechanism.three_tier.entry_rate\nhigh\n",
             "bad_key": "mechanism.three_tier.entry_rat\n0.5\n",
             "ragged": "mechanism.three_tier.entry_rate,mechanism.three_tier.income_threshold\n0.5\n"}
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    paths = {name: tmp_path / f"{name}.csv" for name in files}
    with pytest.raises(ConfigError, match=re.escape(needle)):
        load_config([o.format(**paths) for o in overrides])


def test_sim_run_refuses_an_added_posterior_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "sim", "run", COUNCIL, "+posterior=yrd_council",
                           f"hydra.run.dir={out}"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "write posterior=yrd_council (without '+')" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_replicates_record_the_draw_of_each_seed(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "sim", "run", COUNCIL, "posterior=yrd_council", "replicates=2",
                           "seed=3", "years=2", "output.figures=false", "output.events=false",
                           f"hydra.run.dir={out}"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    draws = posterior.read_draws(posterior.PACKAGED + "sim.runs.configs/posterior/yrd_council.csv")
    for seed in (3, 4):
        config = json.loads((out / f"seed_{seed}" / "config.json").read_text())
        assert config["posterior"]["draw"] == seed
        assert config["mechanism"]["three_tier"]["entry_rate"] == draws.values["mechanism.three_tier.entry_rate"][seed]


@settings(max_examples=25, deadline=None)
@given(weights=st.lists(st.floats(0, 1), min_size=2, max_size=30).filter(lambda w: sum(w) > 0),
       seed=st.integers(0, 2**32 - 1))
def test_resampled_draws_are_particles_with_positive_weight(weights, seed):
    frame = pd.DataFrame({key: np.arange(len(weights)) + offset for offset, key in enumerate(calibrate_posterior.PRIORS)})
    frame["weight"] = weights
    draws = calibrate_posterior.equal_weight_draws(frame, seed)
    assert len(draws) == len(frame)
    picked = draws[f"mechanism.three_tier.{next(iter(calibrate_posterior.PRIORS))}"].to_numpy()
    assert all(weights[int(i)] > 0 for i in picked)
    for key, value in calibrate_posterior.FIXED.items():
        assert (draws[f"mechanism.three_tier.{key}"] == value).all()


def test_resampling_follows_the_weights():
    frame = pd.DataFrame({key: np.arange(2.0) for key in calibrate_posterior.PRIORS})
    frame["weight"] = [0.9, 0.1]
    share = np.mean([calibrate_posterior.equal_weight_draws(pd.concat([frame] * 100, ignore_index=True), s)
                     [f"mechanism.three_tier.{next(iter(calibrate_posterior.PRIORS))}"].mean() for s in range(5)])
    assert share == pytest.approx(0.1, abs=0.03)


@given(st.lists(st.integers(0, 50), min_size=1, max_size=40), st.integers(-5, 55))
def test_predictive_p_value_is_twice_the_smaller_tail(sample, observed):
    p = predictive_p_value(sample, observed)
    s = np.asarray(sample)
    assert 0 <= p <= 1
    farther = observed + (1 if observed >= np.median(s) else -1)   # a value farther into its tail
    assert predictive_p_value(sample, farther) <= p
    if observed < s.min() or observed > s.max():
        assert p == 0
    if np.mean(s <= observed) >= 0.5 and np.mean(s >= observed) >= 0.5:
        assert p == 1


def test_predictive_p_value_of_a_known_sample():
    assert predictive_p_value(np.arange(100), 2) == pytest.approx(0.06)     # 3 of 100 at or below, twice
    assert predictive_p_value(np.arange(100), 97) == pytest.approx(0.06)
    assert np.isnan(predictive_p_value([np.nan], 1.0))


def test_cfg_job_says_the_draw_comes_later(tmp_path):
    """Hydra prints --cfg before any task code runs, so it cannot show the draw; the command says where it is."""
    done = subprocess.run([sys.executable, "-m", "sim", "run", COUNCIL, "posterior=yrd_council", "--cfg", "job"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "posterior:" in done.stdout
    assert "before the posterior draw is applied" in done.stderr and "config.json" in done.stderr
    plain = subprocess.run([sys.executable, "-m", "sim", "run", COUNCIL, "--cfg", "job"], capture_output=True, text=True,
                           cwd=tmp_path)
    assert "posterior draw" not in plain.stderr
