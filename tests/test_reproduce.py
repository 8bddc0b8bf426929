"""Published models on the shared engine (``sim/reproduce/studies.py``, ``sim/reproduce/kernels.py``): small and fast."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.reproduce import kernels
from sim.errors import ConfigError
from sim.model.game import fermi_probability, pair_weights, public_good_returns
from sim.model.network import Groups, ego_groups
from sim.reproduce.config import load_study_config
from sim.reproduce.studies import equal_share_terms, payoff_bounds, run_study, von_neumann_partners


def random_groups(rng: np.random.Generator, n: int, k: int, extra: int) -> Groups:
    """Ego groups of k random partners, plus ``extra`` random groups (one-member groups included)."""
    partners = np.array([rng.choice(np.delete(np.arange(n), i), k, replace=False) for i in range(n)])
    blocks = [rng.choice(n, rng.integers(1, n + 1), replace=False) for _ in range(extra)]
    return ego_groups(partners).with_groups(blocks)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 25), st.integers(1, 5), st.integers(0, 4), st.floats(0, 1), st.booleans(),
       st.floats(0, 8), st.booleans(), st.integers(0, 10_000))
def test_kernel_payoff_equals_the_engine(n, k, extra, kept, kept_per_membership, synergy, merge, seed):
    """Per-player payoff of the kernel == public_good_returns minus contributions, for any groups,
    kept shares, spill weights and contributions per membership."""
    rng = np.random.default_rng(seed)
    groups = random_groups(rng, n, min(k, n - 1), extra)
    weights = pair_weights(groups, rng.random(len(groups.pair_src)) + 0.01)
    kept_share = rng.random(len(groups.mem_city)) if kept_per_membership else kept
    unit = rng.random(len(groups.mem_city)) + 0.1
    strategy = (rng.random(n) < 0.5).astype(np.int8)
    contribution = strategy[groups.mem_city] * unit
    expected = (public_good_returns(groups, contribution, synergy, kept_share, weights)
                - groups.player_sum(contribution))
    terms = kernels.payoff_terms(groups, synergy, kept_share, weights, unit, merge=merge)
    args = (strategy, terms.ptr, terms.source, terms.coef, terms.cost)
    assert np.allclose(kernels.all_payoffs(*args), expected, atol=1e-10)
    assert np.allclose([kernels.payoff(i, *args) for i in range(n)], expected, atol=1e-10)
    upper, lower = payoff_bounds(terms)
    assert (lower - 1e-10 <= expected).all() and (expected <= upper + 1e-10).all()


def test_lattice_payoff_is_the_published_formula():
    """Szolnoki et al. 2009: sum over the 5 groups of r n_C / 5, minus 5 for a cooperator."""
    side, r = 6, 3.8
    partners = von_neumann_partners(side)
    groups = ego_groups(partners)
    terms = equal_share_terms(groups, r)
    strategy = (np.random.default_rng(1).random(side * side) < 0.5).astype(np.int8)
    centres = np.column_stack([np.arange(side * side), partners])      # group g = site g and its neighbours
    n_coop = strategy[centres].sum(axis=1)
    expected = np.array([sum(r * n_coop[g] / 5 for g in centres[i]) - 5 * strategy[i]
                         for i in range(side * side)])
    assert np.allclose(kernels.all_payoffs(strategy, terms.ptr, terms.source, terms.coef, terms.cost), expected)


def test_kernel_fermi_is_the_engine_rule():
    for a, b, noise in [(0.0, 0.0, 0.5), (1.0, 3.0, 0.5), (3.0, 1.0, 0.1), (0.0, 1.0, 1e-9), (5.0, -2.0, 1e-9)]:
        assert kernels.fermi(a, b, noise) == pytest.approx(fermi_probability(np.array([a]), np.array([b]), noise)[0])
    assert kernels.adoption_probability(kernels.REPLICATOR, 1.0, 3.0, 0.0, 4.0) == pytest.approx(0.5)
    assert kernels.adoption_probability(kernels.REPLICATOR, 3.0, 1.0, 0.0, 4.0) == 0.0


def lattice(*overrides, seed=0):
    return run_study(load_study_config(["study=lattice_pgg", *overrides]).study, seed)


def test_same_seed_same_trajectory_other_seed_another():
    a = lattice("study.size=20", "study.sweeps=40", "study.r=4.5")
    b = lattice("study.size=20", "study.sweeps=40", "study.r=4.5")
    c = lattice("study.size=20", "study.sweeps=40", "study.r=4.5", seed=1)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert a.summary["cooperator_density"] == b.summary["cooperator_density"]
    assert not np.array_equal(a.timeseries["density"], c.timeseries["density"])


def test_cooperators_die_out_at_low_r_and_take_over_at_high_r():
    """Below r = 3.74 defectors win, above r = 5.49 cooperators win (K = 0.5; L = 30, 300 sweeps)."""
    low = lattice("study.size=30", "study.sweeps=300", "study.r=3.0")
    high = lattice("study.size=30", "study.sweeps=300", "study.r=6.5")
    assert low.summary["cooperator_density"] < 0.05
    assert high.summary["cooperator_density"] > 0.95
    assert len(low.timeseries) == 301 and low.timeseries["density"].iloc[-1] == 0.0


@pytest.mark.parametrize("extra", [["study.cost=per_game"],
                                   ["study.cost=per_individual", "study.update=asynchronous"]])
def test_scale_free_study_runs(extra):
    cfg = load_study_config(["study=scale_free_pgg", "study.nodes=150", "study.generations=60",
                             "study.networks=2", "study.eta=0.7", *extra])
    result = run_study(cfg.study, 3)
    s = result.summary
    assert 0.0 <= s["cooperator_density"] <= 1.0
    assert s["r"] == pytest.approx(0.7 * 5)
    assert len(s["networks"]) == 2 and 3.5 < s["realised_mean_degree"] <= 4
    assert set(result.timeseries["network"]) == {0, 1} and result.timeseries["density"].between(0, 1).all()
    again = run_study(cfg.study, 3)
    pd.testing.assert_frame_equal(result.timeseries, again.timeseries)


@pytest.mark.parametrize("override, fragment", [
    ("study.r=-1", "study.r = -1.0 is outside its allowed range"),
    ("study.noise=0", "study.noise"),
    ("+study.foo=1", "study.foo is not a parameter of study lattice_pgg"),
])
def test_bad_study_values_are_rejected(override, fragment):
    with pytest.raises(ConfigError, match="study") as err:
        load_study_config([override])
    assert fragment in str(err.value)


def test_scale_free_degree_must_be_even():
    with pytest.raises(ConfigError, match="odd"):
        load_study_config(["study=scale_free_pgg", "study.mean_degree=5"])


def call_reproduce(cwd, *args):
    code = (f"import sys; sys.argv = ['reproduce', *{list(args)!r}]; "
            "from sim.reproduce.command import reproduce; reproduce()")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_command_writes_a_run_folder(tmp_path):
    proc = call_reproduce(tmp_path, "study=lattice_pgg", "study.size=20", "study.sweeps=50", "seed=4",
                          "hydra.run.dir=out")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    assert f"Results: {out.resolve()}" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert 0 <= summary["cooperator_density"] <= 1 and summary["seed"] == 4
    assert summary["parameters"]["size"] == 20 and summary["timeseries"]["steps_averaged"] == 5
    assert summary["command"] == "python -m sim reproduce study=lattice_pgg study.size=20 study.sweeps=50 seed=4"
    assert "numba" in summary["versions"]
    assert len(pd.read_parquet(out / "timeseries.parquet")) == 51
    assert {"density.png", "density.pdf", "density.json"} <= {p.name for p in (out / "figures").iterdir()}
    assert not list(out.rglob("*.tmp"))


def test_command_sweeps_over_r(tmp_path):
    proc = call_reproduce(tmp_path, "-m", "study.r=3.0,6.5", "study.size=16", "study.sweeps=20",
                          "hydra.sweep.dir=sweep")
    assert proc.returncode == 0, proc.stderr
    r = sorted(json.loads(p.read_text())["parameters"]["r"] for p in (tmp_path / "sweep").rglob("summary.json"))
    assert r == [3.0, 6.5]


def test_command_rejects_a_bad_value_clearly(tmp_path):
    proc = call_reproduce(tmp_path, "study.r=-1", "hydra.run.dir=out")
    assert proc.returncode == 2
    assert "study.r = -1.0 is outside its allowed range [0, 1000]" in proc.stderr
    assert "command-line override 'study.r=-1'" in proc.stderr
    assert not (tmp_path / "out").exists()
