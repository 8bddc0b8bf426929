"""The empirical targets (sim/data/targets.csv): sourced, split once, and recomputable from the shipped data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from sim.analysis import calibration
from sim.data.targets import SPLITS, TARGETS_FILE, targets


def test_every_target_is_sourced_split_and_inside_its_range():
    rows = targets()
    assert rows
    for t in rows:
        assert t.source.strip() and t.split in SPLITS and t.unit, t
        assert t.low <= t.value <= t.high, t


def test_the_calibration_never_sees_the_held_out_council_counts():
    fit, held = calibration.FIT_DATA, calibration.HELD_OUT
    assert fit and held and set(fit) | set(held) == set(calibration.COUNCIL_DATA) and not set(fit) & set(held)
    assert max(fit) < min(held)   # a forecast, not an interpolation
    target = calibration.fit_target()
    years = np.asarray(calibration.YEARS)
    assert np.isnan(target[years > max(fit)]).all() and not np.isnan(target[years <= max(fit)]).any()
    wild = calibration.data_path()
    wild[years > max(fit)] += 100.0   # any values in the held-out years leave the objective unchanged
    assert calibration.path_rmse(wild) == 0.0
    assert calibration.forecast_rmse(wild) == pytest.approx(100.0)


def test_persistence_forecast_error_is_that_of_carrying_the_last_fitted_count():
    last = calibration.FIT_DATA[max(calibration.FIT_DATA)]
    flat = np.full(len(calibration.YEARS), last)
    assert calibration.forecast_rmse(flat) == pytest.approx(calibration.persistence_rmse())


@pytest.mark.parametrize("region", ["middle_yangtze", "yangtze_delta"])
def test_core_periphery_targets_are_the_shipped_tables_values(region):
    from sim.config.loading import load_config
    from sim.data import load_region
    from sim.model.metrics import core_periphery_ratio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the imputation note of the Middle Yangtze table
        cities = load_region(load_config([f"region={region}"]).region).cities
    raw = pd.read_csv(TARGETS_FILE.with_name(f"{region}.csv"))
    core = cities["core"].to_numpy(bool)
    population_2015 = np.sqrt(cities["population_2010"] * cities["population"]).to_numpy()
    computed = {2015: core_periphery_ratio(cities["gdp"].to_numpy(), population_2015, core),
                2020: core_periphery_ratio(raw["gdp_2020"].to_numpy(), raw["population_2020"].to_numpy(),
                                           raw["core"].to_numpy(bool))}
    stored = {t.year: t.value for t in targets("core_periphery_ratio", region)}
    assert stored.keys() == computed.keys()
    for year, value in computed.items():
        assert stored[year] == pytest.approx(value, abs=5e-4), year


def test_p4_bands_follow_the_data_rows_by_the_stated_rule(monkeypatch):
    from sim.analysis import validation_checks as checks
    from sim.data.targets import Target

    def rows(*values):
        return [Target("core_periphery_ratio", "P4", "r", 2015 + 5 * i, v, v, v, "ratio", "validation", "s", "")
                for i, v in enumerate(values)]
    monkeypatch.setattr(checks, "targets", lambda *args: rows(1.5, 1.0))
    band = checks.data_ratio_band("r")
    assert (band.low, band.high) == pytest.approx((0.5, 2.0))
    monkeypatch.setattr(checks, "targets", lambda *args: rows(1.2, 1.2))
    assert (checks.data_ratio_band("r").low, checks.data_ratio_band("r").high) == pytest.approx((1.2, 1.2))
