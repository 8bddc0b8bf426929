"""Global sensitivity: the SALib sweeper's design and jobs, the analysis glue, and a tiny sweep."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.analysis import sensitivity as sa
from sim.analysis import sensitivity_indices
from sim.sweeps import salib
from sim.config.loading import CONFIG_MODULE, load_config, register_schema


@pytest.fixture(scope="module")
def cfg():
    return load_config(["+mechanism=[three_tier,enclave]", "replicates=2"])


TWO = {"mechanism.three_tier.detection": [0.2, 1.0], "model.enforcement.detection": None}


def sweeper(cfg, **kw) -> salib.SalibSweeper:
    s = salib.SalibSweeper(**{"parameters": TWO, **kw})
    s.config = cfg
    return s


# ---------------------------------------------------------------------------------- design


@pytest.mark.parametrize("method, samples, second_order, k, jobs", [
    ("morris", 3, False, 2, 3 * (2 + 1)),
    ("morris", 2, False, 3, 2 * (3 + 1)),
    ("sobol", 4, False, 2, 4 * (2 + 2)),
    ("sobol", 4, True, 3, 4 * (2 * 3 + 2)),
])
def test_design_expands_into_one_job_per_row_with_its_overrides(cfg, method, samples, second_order, k, jobs):
    params = {**TWO, "mechanism.enclave.tax_rate": [0.05, 0.2]} if k == 3 else TWO
    s = sweeper(cfg, method=method, samples=samples, second_order=second_order, parameters=params)
    base = ["+mechanism=[three_tier,enclave]", "years=3"]
    design, overrides = s.plan(base)
    assert len(overrides) == design["n_jobs"] == jobs == salib.expected_jobs(method, k, samples, second_order)
    names = design["problem"]["names"]
    assert names == list(params) and design["replicates"] == 2 and design["model_seed"] == 0
    bounds = np.array(design["problem"]["bounds"])
    assert bounds[names.index("model.enforcement.detection")].tolist() == [0.0, 1.0]   # null: the schema's range
    x = np.array(design["samples"])
    assert ((x >= bounds[:, 0]) & (x <= bounds[:, 1])).all()
    for row, job in zip(x, overrides):
        assert job[:2] == base
        assert job[2:] == [f"{n}={v!r}" for n, v in zip(names, row.tolist())]
    if method == "morris":   # consecutive points of a trajectory differ in exactly one parameter
        for t in x.reshape(samples, k + 1, k):
            assert ((np.diff(t, axis=0) != 0).sum(axis=1) == 1).all()
    again, _ = sweeper(cfg, method=method, samples=samples, second_order=second_order, parameters=params).plan(base)
    assert again["samples"] == design["samples"]   # the sampler is seeded


def test_sweeper_runs_every_row_in_batches_and_keeps_its_design(tmp_path):
    from hydra import compose, initialize_config_module

    register_schema()
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        full = compose("config", overrides=["+mechanism=three_tier", f"hydra.sweep.dir={tmp_path}"],
                       return_hydra_config=True)

    class Ret:
        def __init__(self, num, fail):
            self.num, self.fail = num, fail

        @property
        def return_value(self):
            if self.num in self.fail:
                raise RuntimeError(f"job {self.num} failed")

    class Launcher:
        def __init__(self, fail=()):
            self.calls, self.fail = [], fail

        def launch(self, batch, initial_job_idx):
            self.calls.append((initial_job_idx, [list(j) for j in batch]))
            return [Ret(initial_job_idx + i, self.fail) for i in range(len(batch))]

    def make(seed=0, composes=True):
        s = sweeper(full, samples=3, max_batch_size=4, seed=seed)
        s.launcher = Launcher()
        s.composed = []

        def validate(batch):   # stands in for Hydra's composition of each job's config
            s.composed.append([list(j) for j in batch])
            if not composes:
                raise ValueError("a row does not compose")
        s.validate_batch_is_legal = validate
        return s

    (tmp_path / ".progress.json").write_text(json.dumps({"total": 1, "start": 0}))
    s = make()
    s.sweep(["+mechanism=three_tier"])
    assert [(start, len(batch)) for start, batch in s.launcher.calls] == [(0, 4), (4, 4), (8, 1)]
    jobs = [job for _, batch in s.launcher.calls for job in batch]
    design = json.loads((tmp_path / sa.DESIGN_FILE).read_text())
    assert jobs == salib.row_overrides(design, ["+mechanism=three_tier"]) and len(jobs) == 9
    assert s.composed == [jobs]       # checked once, all rows (by shape: sim/sweeps/basic.py) ...
    s = make(composes=False)
    with pytest.raises(ValueError, match="does not compose"):
        s.sweep(["+mechanism=three_tier"])
    assert s.launcher.calls == []     # ... and before any job starts
    assert json.loads((tmp_path / ".progress.json").read_text())["total"] == 9   # progress counts the design
    assert (tmp_path / "multirun.yaml").exists()
    s = make()   # the same design again (resume); a failed job does not stop the others
    s.launcher.fail = (2,)
    with pytest.raises(RuntimeError, match="job 2 failed"):
        s.sweep(["+mechanism=three_tier", "resume=true"])
    assert sum(len(batch) for _, batch in s.launcher.calls) == 9
    with pytest.raises(sa.SensitivityError, match="different design"):
        make(seed=1).sweep(["+mechanism=three_tier"])


def test_sweeper_refuses_other_sweeps_and_clashing_overrides(cfg):
    with pytest.raises(sa.SensitivityError, match="replicates=R"):
        sweeper(cfg).plan(["seed=0,1"])
    with pytest.raises(sa.SensitivityError, match="set on the command line and varied"):
        sweeper(cfg).plan(["model.enforcement.detection=0.3"])


# ---------------------------------------------------------------------------------- ranges


@pytest.mark.parametrize("parameters, message", [
    ({"model.firms.beta_subsidy": None}, r"model.firms.beta_subsidy.*\[0, 1000\].*give an explicit range"),
    ({"mechanism.three_tier.fine": None}, r"three_tier.fine.*\[0, 100\].*explicit range"),
    ({"model.growth.base_rate": None}, r"base_rate.*\[-0.5, 0.5\].*explicit range"),
    ({"model.enforcement.detection": [0.0, 2.0]}, r"\[0, 2\] leaves the schema's allowed range \[0, 1\]"),
    ({"model.enforcement.detection": [0.5, 0.5]}, "finite lo < hi"),
    ({"model.enforcement.detection": [0.1, math.inf]}, "finite lo < hi"),
    ({"model.enforcement.detection": "wide"}, "is not a range"),
    ({"model.enforcement.detectoin": None}, r"not a parameter of the schema \(did you mean"),
    ({"mechanism.joint_investment.detection": None}, r"not selected: add it, e\.g\. \+mechanism=\[enclave,three_tier,joint_investment\]"),
    ({"mechanism.enclave.patience": [1, 5]}, "type int; only float parameters"),
    ({}, "is empty"),
])
def test_bad_ranges_give_a_clear_error(cfg, parameters, message):
    with pytest.raises(sa.SensitivityError, match=message):
        salib.parameter_ranges(parameters, cfg)


def test_ranges_from_the_schema_and_explicit_ones(cfg):
    nested = {"model": {"enforcement": {"detection": None}}, "mechanism.enclave.tax_rate": [0.05, 0.2]}
    ranges = salib.parameter_ranges(nested, cfg)   # nested keys, as a command-line override makes them
    assert [(r["parameter"], r["lo"], r["hi"], r["source"]) for r in ranges] == [
        ("model.enforcement.detection", 0.0, 1.0, "schema"), ("mechanism.enclave.tax_rate", 0.05, 0.2, "explicit")]
    assert ranges[0]["value"] == 0.2


# -------------------------------------------------------------------------------- analysis


def linear_problem(method, samples, **kw):
    ranges = [{"parameter": p, "lo": lo, "hi": hi, "source": "explicit", "value": None, "doc": ""}
              for p, lo, hi in (("a", 0.0, 1.0), ("b", 0.0, 2.0), ("c", -1.0, 1.0))]
    return salib.make_design(method, ranges, samples, seed=1, **kw)


def test_morris_glue_ranks_a_linear_model_and_removes_common_seed_noise():
    design = linear_problem("morris", 8)
    x = np.array(design["samples"])
    y = 10 * x[:, 0] + 1 * x[:, 1] + 0 * x[:, 2]
    shifts = np.array([0.0, 5.0, -3.0])   # a seed effect shared by every row cancels
    table, _, notes = sensitivity_indices.analyze(design, {"y": y[:, None] + shifts}, seed=0)
    assert not notes
    t = table.set_index("parameter")
    assert t.loc[["a", "b", "c"], "rank"].tolist() == [1, 2, 3]
    # elementary effects per full range: coefficient x range width
    assert t.loc[["a", "b", "c"], "mu_star"].to_numpy() == pytest.approx([10.0, 2.0, 0.0], abs=1e-9)
    assert t.loc["a", "sigma"] == pytest.approx(0, abs=1e-9) and t["noise_floor"].iloc[0] == pytest.approx(0, abs=1e-9)
    assert list(table.columns[:4]) == ["output", "method", "rank", "parameter"]


def test_morris_drops_incomplete_trajectories_and_estimates_the_noise_floor():
    design = linear_problem("morris", 6)
    x = np.array(design["samples"])
    rng = np.random.default_rng(0)
    y = (10 * x[:, 0] + x[:, 1])[:, None] + rng.normal(0, 0.3, (len(x), 4))
    y[5, 2] = np.nan   # one failed replicate: trajectory 1 (rows 4-7) is incomplete
    table, _, notes = sensitivity_indices.analyze(design, {"y": y}, seed=0)
    assert (table["trajectories"] == 5).all() and "dropped 1 of 6 Morris trajectories" in notes[0]
    t = table.set_index("parameter")
    # noise sd 0.3 per run, 4 seeds, steps of 2/3 of the range: the mean effect of a step has noise
    # sd sqrt(2 * 0.09 / 4) / (2/3); with no effect, mu* would average sqrt(2/pi) times that, and
    # the floor is its 95% quantile over the parameter's 5 steps (0.25 -> about 0.39)
    mean_null = math.sqrt(2 / math.pi) * math.sqrt(2 * 0.09 / 4) * 1.5
    assert (t["noise_floor"] > 0.9 * mean_null).all() and (t["noise_floor"] < 2.2 * mean_null).all()
    assert t.loc["a", "mu_star"] > 10 * t.loc["a", "noise_floor"]
    assert t.loc["c", "mu_star"] < t.loc["c", "noise_floor"] * 1.5   # no effect: at noise level
    y[8:, :] = np.nan   # only trajectory 0 is left: too few
    with pytest.raises(sa.SensitivityError, match="at least 2 are needed"):
        sensitivity_indices.analyze(design, {"y": y}, seed=0)


def test_sobol_glue_finds_the_ishigami_indices_and_needs_every_row():
    from SALib.test_functions import Ishigami

    ranges = [{"parameter": p, "lo": -math.pi, "hi": math.pi, "source": "explicit", "value": None, "doc": ""}
              for p in ("x1", "x2", "x3")]
    design = salib.make_design("sobol", ranges, 256, second_order=True, seed=3)
    assert design["n_jobs"] == 256 * 8
    y = Ishigami.evaluate(np.array(design["samples"]))
    table, second, _ = sensitivity_indices.analyze(design, {"ishigami": y[:, None]}, seed=0)
    t = table.set_index("parameter")
    # analytic: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    assert t.loc[["x1", "x2", "x3"], "S1"].to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.08)
    assert t.loc[["x1", "x2", "x3"], "ST"].to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.08)
    assert t.loc[["x1", "x2", "x3"], "rank"].tolist() == [1, 2, 3]
    s2 = second.set_index(["parameter_1", "parameter_2"])["S2"]
    assert s2[("x1", "x3")] == pytest.approx(0.244, abs=0.12) and abs(s2[("x1", "x2")]) < 0.1
    y[7] = np.nan
    with pytest.raises(sa.SensitivityError, match="need every row.*jobs 7.*resume=true"):
        sensitivity_indices.analyze(design, {"ishigami": y[:, None]}, seed=0)


# ------------------------------------------------------------------------------ end to end


def test_tiny_morris_sweep_and_analysis(tmp_path, capsys):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", "-m", "hydra/sweeper=salib", "+mechanism=three_tier",
         "hydra.sweeper.parameters={mechanism.three_tier.detection:[0.2,1.0],model.enforcement.detection:null}",
         "hydra.sweeper.samples=2", "replicates=2", "years=3", "output.figures=false", "output.events=false",
         "hydra.sweep.dir=sweep"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    sweep = tmp_path / "sweep"
    design = json.loads((sweep / sa.DESIGN_FILE).read_text())
    assert design["n_jobs"] == 6 and design["method"] == "morris" and design["replicates"] == 2
    assert sorted(int(p.name) for p in sweep.iterdir() if p.name.isdigit()) == list(range(6))
    assert all((sweep / str(j) / f"seed_{s}" / "summary.json").exists() for j in range(6) for s in (0, 1))

    assert sa.main([str(sweep), "--outputs", "cooperation_index,gdp_total_final"]) == 0
    out = sweep / "sensitivity"
    table = pd.read_csv(out / "indices.csv")
    assert len(table) == 4 and set(table["output"]) == {"cooperation_index", "gdp_total_final"}
    assert set(table["parameter"]) == {"mechanism.three_tier.detection", "model.enforcement.detection"}
    assert (table["trajectories"] == 2).all() and table["noise_floor"].notna().all()
    assert "## Cooperation index" in (out / "indices.md").read_text()
    for stem in ("morris_mu_star_sigma", "morris_ranking"):
        for suffix in (".png", ".pdf", ".json"):
            assert (out / "figures" / f"{stem}{suffix}").stat().st_size > 0
    sidecar = json.loads((out / "figures" / "morris_ranking.json").read_text())
    assert sidecar["seeds"] == [0, 1] and "hydra/sweeper=salib" in sidecar["sweep_command"]
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["design"]["samples"] == design["samples"] and provenance["sweep"]["runs"] == 12

    assert sa.main([str(sweep), "--outputs", "cooperation_idx"]) == 2
    assert "not numbers in the runs' summary.json" in capsys.readouterr().err
    assert sa.main([str(tmp_path)]) == 2
    assert "not a sensitivity sweep" in capsys.readouterr().err
