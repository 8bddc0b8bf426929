"""``python -m sim validate``: the quick mode end to end, the pattern statistics on synthetic inputs,
and the calibration of the three-tier entry thresholds."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from sim.analysis import calibration, design_runs, stats as analysis_stats, validate
from sim.analysis import validation_checks as checks, validation_measures as measures
from sim.analysis import validation_nulls as null_models
from sim.config.loading import config_hash, load_config

CHECK_FIELDS = ("id", "pattern", "claim", "statistic", "value", "interval", "band", "band_text", "band_source",
                "pass", "n_seeds", "overrides", "per_seed", "status", "null")
STATUSES = ("FAIL", "validated", "not diagnostic", "inconclusive", "unchecked", "side condition")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("validate") / "out"
    code = validate.main(["--quick", "--out", str(out), "--jobs", "1"])
    return out, code


# ---------------------------------------------------------------- end to end
def test_quick_mode_writes_every_pattern_with_the_documented_fields(quick):
    out, _ = quick
    result = json.loads((out / "validation.json").read_text())
    assert [p["id"] for p in result["patterns"]] == ["P1", "P2", "P3", "P4", "P5", "P8", "P9"]
    for p in result["patterns"]:
        assert p["claim"] and p["source"] and isinstance(p["pass"], bool) and p["checks"]
        for c in p["checks"]:
            for key in CHECK_FIELDS:
                assert key in c, (c["id"], key)
            assert c["pattern"] == p["id"] and c["claim"] == p["claim"]
            assert len(c["interval"]) == 2 and len(c["band"]) == 2
            assert c["n_seeds"] == validate.QUICK_SEEDS or c["n_seeds"] <= validate.QUICK_SEEDS
            assert c["overrides"] and all(isinstance(v, list) for v in c["overrides"].values())
            assert len(c["per_seed"]) <= validate.QUICK_SEEDS
        assert p["pass"] == all(c["pass"] for c in p["checks"])
    assert result["quick"] is True and result["n_seeds"] == validate.QUICK_SEEDS
    assert result["calibration"]["posterior"] == validate.DEFAULT_POSTERIOR


def test_quick_mode_exit_code_is_one_iff_a_check_failed(quick):
    out, code = quick
    result = json.loads((out / "validation.json").read_text())
    failed = [c["id"] for p in result["patterns"] for c in p["checks"] if not c["pass"]]
    assert result["failed"] == failed
    assert code == (1 if failed else 0)
    assert result["all_pass"] == (not failed)


def test_quick_mode_report_and_figures(quick):
    out, _ = quick
    report = (out / "report.md").read_text()
    assert "| check | statistic | value | 95% interval | band | result | null model |" in report
    assert report.count("*Null models.* ") == 7
    for pid in ("P1", "P2", "P3", "P4", "P5", "P8", "P9"):
        assert f"## {pid} " in report
    for stem in ("p1_council_size", "p1_entry_order", "p2_cooperation"):
        for ext in ("png", "pdf", "json"):
            assert (out / "figures" / f"{stem}.{ext}").stat().st_size > 0
        assert json.loads((out / "figures" / f"{stem}.json").read_text())["command"].startswith(
            "python -m sim validate")
    assert not list(out.rglob("*.tmp"))


def test_every_check_is_also_run_under_its_null_model(quick):
    """Each check carries its null: the check's own designs with just the null's keys changed, and a
    status among the documented ones; the summary lists follow the statuses."""
    out, _ = quick
    result = json.loads((out / "validation.json").read_text())
    null_of = null_models.nulls(null_models.null_facts())
    statuses = {}
    for c in (c for p in result["patterns"] for c in p["checks"]):
        null, n = null_of[c["id"]], c["null"]
        assert c["status"] in STATUSES
        statuses[c["id"]] = c["status"]
        if null is None:
            assert n is None and c["status"] in ("side condition", "FAIL")
            continue
        assert n["name"] == null.name and n["why"] and set(null.changes) & set(c["overrides"])   # changes its own runs
        for design, overrides in c["overrides"].items():
            expected = null_models.with_changes(tuple(overrides), null.changes[design]) if design in null.changes else overrides
            assert n["overrides"][design] == list(expected)
    assert result["not_diagnostic"] == [k for k, s in statuses.items() if s == "not diagnostic"]
    assert result["validated"] == [k for k, s in statuses.items() if s == "validated"]


def _check(low, high, passed=True):
    return {"interval": [low, high], "pass": passed}


def _null(low, high, passed):
    return {"interval": [low, high], "pass": passed, "value": (low + high) / 2, "n_seeds": 3, "overrides": {}}


@pytest.mark.parametrize("check, null, status", [
    (_check(-0.75, -0.72), _null(-0.05, 0.03, False), "validated"),        # null around 0, check far from it
    (_check(0.65, 0.69), _null(0.02, 0.10, True), "not diagnostic"),       # the null passes "> 0" too
    (_check(0.10, 0.40), _null(0.0, 0.0, False), "validated"),             # an exact 0 is not "> 0"
    (_check(0.05, 0.40), _null(-0.1, 0.2, False), "inconclusive"),         # the null does not pass, but overlaps
    (_check(0.05, 0.40), _null(math.nan, math.nan, False), "unchecked"),
    (_check(0.05, 0.40, passed=False), _null(0.0, 0.0, False), "FAIL"),
])
def test_the_status_follows_the_check_and_its_null(check, null, status):
    rule = null_models.Null("n", "why", {})
    assert validate.null_verdict(check, rule, null)["status"] == status
    assert validate.null_verdict(check, None, None)["status"] == ("side condition" if check["pass"] else "FAIL")


def test_every_null_changes_the_composed_config_of_its_designs():
    """A null that changed nothing would compare the model with itself; the one exception is
    declared: circles are not cooperation groups by default, so that null is the model (P8)."""
    designs = checks.run_designs_spec(True, checks.p1_design(validate.DEFAULT_POSTERIOR))
    null_of = null_models.nulls(null_models.null_facts())
    assert null_of["P5c"] is None and {"P1a", "P2c", "P3a", "P4e", "P5d", "P8a", "P9b"} <= set(null_of)
    for null in {n.name: n for n in null_of.values() if n is not None}.values():
        assert null.why and set(null.changes) <= set(designs)
        for design, changes in null.changes.items():
            same = config_hash(load_config(null_models.with_changes(designs[design], changes))) == \
                config_hash(load_config(designs[design]))
            assert same == (null.name == "circles play no role"), (null.name, design)
    identical = null_of["P3a"].changes["baseline_my"]
    assert "model.domains.innovation.rivalry=0.0" in identical and "model.domains.industry.grant=0.5" in identical
    assert not any(o.startswith("model.domains.infrastructure.") for o in identical)


@given(st.lists(st.sampled_from(["a=1", "b=2", "+c=3", "d=[1,2]"]), max_size=4, unique=True),
       st.lists(st.sampled_from(["a=9", "c=9", "e=9"]), max_size=3, unique=True))
def test_with_changes_replaces_keys_and_keeps_the_rest(design, changes):
    out = null_models.with_changes(tuple(design), tuple(changes))
    keys = [o.lstrip("+~").split("=")[0] for o in out]
    assert len(keys) == len(set(keys))                     # each key once: the null's value wins
    tail = out[len(out) - len(changes):]
    added = {o.lstrip("+").split("=")[0] for o in design if o.startswith("+")}
    assert tail == tuple(("+" if c.split("=")[0] in added else "") + c for c in changes)   # '+' kept for Hydra
    assert [o for o in design if o.lstrip("+").split("=")[0] not in {c.split("=")[0] for c in changes}] == \
        list(out[:len(out) - len(changes)])


def test_a_strict_band_excludes_its_bound():
    below = checks.Band(-math.inf, 0, "< 0", strict=True)
    assert not below.holds(0, 0) and below.holds(-2, -1e-9) and not below.holds(-1, 1)
    assert checks.Band(2, 2.8).holds(2, 2.8) and not checks.Band(2, 2.8).holds(math.nan, 2.5)


def test_quick_mode_draws_the_council_from_the_posterior(quick):
    """P1 is a posterior predictive check: its runs take the posterior draw of their seed; P1d judges the
    held-out counts against the runs' predictive distribution."""
    out, _ = quick
    result = json.loads((out / "validation.json").read_text())
    p1 = result["designs"]["p1_council_yrd"]
    assert "region=yangtze_delta" in p1 and "start_year=1992" in p1 and "years=28" in p1
    assert f"posterior={validate.DEFAULT_POSTERIOR}" in p1 and not any(o.startswith("mechanism.three_tier.entry")
                                                                         for o in p1)
    p1d = next(c for c in result["patterns"][0]["checks"] if c["id"] == "P1d")
    years = p1d["extra"]["predictive_intervals_held_out"]
    assert set(years) == {str(y) for y in calibration.HELD_OUT}
    assert p1d["value"] == pytest.approx(min(e["p_value"] for e in years.values()))
    assert p1d["pass"] == (p1d["interval"][0] >= p1d["band"][0])


def test_the_point_estimate_and_draws_files_make_p1_designs(tmp_path):
    point = checks.p1_design(None)
    for key, value in calibration.CALIBRATED.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        assert f"mechanism.three_tier.{key}={text}" in point
    assert checks.p1_design("/x/posterior_draws.csv")[-2:] == ("posterior=csv", "posterior.path=/x/posterior_draws.csv")
    for bad in ("no_such_posterior", str(tmp_path / "missing.csv")):
        out = tmp_path / "out"
        assert validate.main(["--quick", "--posterior", bad, "--out", str(out)]) == 2
        assert not out.exists()


# ---------------------------------------------------------------- runs
def test_setting_the_seed_equals_the_seed_override():
    overrides = ["+mechanism=three_tier", "years=2"]
    cfg = load_config([*overrides, "seed=0"])
    cfg.seed = 7
    assert config_hash(cfg) == config_hash(load_config([*overrides, "seed=7"]))


def test_founders_are_cities_of_the_region():
    table = pd.read_csv(__import__("importlib.resources").resources.files("sim.data") / "yangtze_delta.csv")
    assert set(calibration.FOUNDERS_1992) <= set(table["name"])
    assert len(calibration.FOUNDERS_1992) == 14 == calibration.COUNCIL_DATA[1992]


def test_run_designs_shares_runs_and_keeps_seed_order():
    runs = design_runs.run_designs({"a": ("years=2",), "b": ("years=2",)}, [3, 1], jobs=1)
    assert [r.seed for r in runs["a"]] == [3, 1]
    assert runs["a"][0] is runs["b"][0]   # the same overrides run once, shared by both names
    assert {"similarity", "subsidy_mean", "joined", "circle"} <= set(runs["a"][0].cities)


# ---------------------------------------------------------------- statistics
def test_mean_interval_matches_student_t_and_bootstrap_covers_the_mean():
    x = np.array([1.0, 2.0, 4.0, 3.5, 2.5, np.nan])
    mean, low, high, n = analysis_stats.mean_interval(x)
    ref = stats.t.interval(0.95, 4, loc=np.nanmean(x), scale=stats.sem(x[:5]))
    assert n == 5 and mean == pytest.approx(2.6) and (low, high) == pytest.approx(ref)
    _, blo, bhi, _ = analysis_stats.mean_interval(x, method="bootstrap")
    assert blo < mean < bhi and bhi - blo < high - low + 1.0
    assert all(math.isnan(v) for v in analysis_stats.mean_interval([1.0])[1:3])
    assert analysis_stats.mean_interval([])[3] == 0


def test_band_needs_the_whole_interval_inside():
    band = checks.Band(0, math.inf)
    assert band.holds(0.1, 0.5) and not band.holds(-0.1, 0.5) and not band.holds(math.nan, 1)
    assert checks.Band(2, 2.8).holds(2.1, 2.7) and not checks.Band(2, 2.8).holds(2.1, 2.9)


def test_peak_and_decline_of_a_rise_and_fall():
    years = np.arange(2015, 2035)
    rise_fall = np.concatenate([np.linspace(0.2, 0.5, 3), np.linspace(0.5, 0.25, 17)])
    year, decline = measures.peak_and_decline(years, rise_fall)
    assert 2016 <= year <= 2018   # a slow fall after a quick rise moves the smoothed peak a year on
    assert decline == pytest.approx((measures.smooth(rise_fall).max() - measures.smooth(rise_fall)[-5:].mean())
                                    / measures.smooth(rise_fall).max())
    assert decline > 0.4
    rising = np.linspace(0.1, 0.3, 20)
    year, decline = measures.peak_and_decline(years, rising)
    assert year >= 2033 and decline < 0.1    # a rise ends at its peak: only the tail average lags it


def test_smoothing_keeps_noise_from_making_a_decline():
    rng = np.random.default_rng(0)
    flat = 0.2 + rng.normal(0, 0.02, 20)
    _, raw = measures.peak_and_decline(np.arange(20), flat, window=1)
    _, smoothed = measures.peak_and_decline(np.arange(20), flat, window=3)
    assert smoothed < raw


def test_entry_correlation_poorer_and_never_joined_later():
    founders = np.array([True, True, False, False, False, False])
    per_capita = np.array([9, 8, 7, 5, 3, 1.0])
    joined = np.array([1992, 1992, 1995, 2000, 2010, np.nan])   # the poorest never joins
    assert measures.entry_correlation(joined, per_capita, founders, 2019) == pytest.approx(-1.0)
    assert measures.entry_correlation(joined, -per_capita, founders, 2019) == pytest.approx(1.0)
    assert math.isnan(measures.entry_correlation(np.full(6, np.nan), per_capita, founders, 2019))


def test_rank_correlation_is_spearman():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=30), rng.normal(size=30)
    y[:5] = y[0]   # ties
    assert analysis_stats.rank_correlation(x, y) == pytest.approx(stats.spearmanr(x, y)[0])


def test_domain_ratio_per_domain_means():
    ts = pd.DataFrame({"implemented_infrastructure": [0.4, 0.4], "implemented_ecology": [0.2, 0.2],
                       "implemented_public_services": [0.6, 0.6], "implemented_industry": [0.1, 0.1],
                       "implemented_innovation": [0.1, 0.1]})
    assert measures.domain_ratio(ts) == pytest.approx(0.4 / 0.1)


def test_circle_link_ratio():
    links = pd.DataFrame({"source": [0, 0, 1, 2], "target": [1, 2, 3, 3], "strength": [10, 2, 4, 0]})
    circle = np.array([0, 0, 1, -1])     # 0-1 same circle; 3 outside any circle
    assert measures.circle_link_ratio(links, circle) == pytest.approx(10 / 2)
    assert math.isnan(measures.circle_link_ratio(links, np.array([-1, -1, -1, -1])))


def test_hazards_from_enclave_summaries():
    summary = {"enclave_dissolved_violating": {"dissolutions_per_park_year": 0.3},
               "enclave_dissolved_compliant": {"dissolutions_per_park_year": None},
               "enclave_dissolved_by_rule": {"proportional": {"dissolved": 2, "park_years": 10},
                                             "in_situ": {"dissolved": 3, "park_years": 10}}}
    assert measures.hazard(summary, "enclave_dissolved_violating") == 0.3
    assert math.isnan(measures.hazard(summary, "enclave_dissolved_compliant"))
    assert measures.pooled_hazard(summary) == pytest.approx(0.25)


# ---------------------------------------------------------------- calibration
def test_data_path_is_the_step_function_of_the_dated_counts():
    path = calibration.data_path()
    years = list(calibration.YEARS)
    assert len(path) == 28 and path[0] == 14 and path[-1] == 41
    assert path[years.index(1996)] == 14 and path[years.index(1997)] == 15 and path[years.index(2012)] == 22
    assert calibration.path_rmse(path) == 0
    assert calibration.path_rmse(path + 2) == pytest.approx(2)


def test_calibrated_thresholds_fit_better_than_the_defaults():
    seeds = (calibration.CALIBRATION_SEED0,)
    assert calibration.objective(calibration.CALIBRATED, seeds) < calibration.objective(calibration.DEFAULTS, seeds)


def test_grid_points_and_overrides():
    points = calibration.grid_points(calibration.QUICK_GRID)
    assert len(points) == np.prod([len(v) for v in calibration.QUICK_GRID.values()])
    overrides = calibration.p1_overrides({"contiguity": True, "max_admissions": 2})
    assert "mechanism.three_tier.contiguity=true" in overrides
    assert "mechanism.three_tier.max_admissions=2" in overrides
    load_config(list(overrides))   # composes and passes the range checks
