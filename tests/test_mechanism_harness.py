"""The test harness every coordination mechanism must pass (like Axelrod's strategy harness).

Parametrised over the registry (the entry-point group ``sim.mechanisms``), so a new institution
is tested as soon as it is installed: ``SIM_HARNESS_MECHANISMS=a,b`` limits the run to those.
determinism per seed, no effect when inert, money conserved, observables and tables present,
and a schema that rejects bad values with a clear message.
"""

import math
import os
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from sim.config.loading import load_config
from sim.errors import ConfigError
from sim.mechanisms import registry
from sim.runs.runner import simulate

ONLY = [n for n in os.environ.get("SIM_HARNESS_MECHANISMS", "").split(",") if n]
NAMES = [n for n in registry.names() if n != "none" and (not ONLY or n in ONLY)]
FAST = ["output.figures=false", "years=10"]


def run(*overrides):
    return simulate(load_config([*FAST, *overrides]))


@pytest.fixture(scope="module")
def baseline():
    return run()


@pytest.fixture(scope="module", params=NAMES)
def active(request):
    name = request.param
    return name, run(f"+mechanism={name}")


def test_registry_has_the_institutions():
    assert ONLY or {"three_tier", "enclave", "joint_investment"} <= set(NAMES)
    assert set(ONLY) <= set(NAMES), f"not installed: {sorted(set(ONLY) - set(NAMES))}"


def test_deterministic_per_seed(active):
    name, first = active
    second = run(f"+mechanism={name}")
    pd.testing.assert_frame_equal(first.timeseries, second.timeseries)
    pd.testing.assert_frame_equal(first.cities, second.cities)
    for (key, a), b in zip(first.model.mechanisms[0].tables().items(), second.model.mechanisms[0].tables().values()):
        pd.testing.assert_frame_equal(a, b, obj=key)


def test_different_seed_differs(active):
    name, first = active
    other = run(f"+mechanism={name}", "seed=1")
    assert not first.timeseries["cooperation_index"].equals(other.timeseries["cooperation_index"])


@pytest.mark.parametrize("name", NAMES)
def test_inert_mechanism_changes_nothing(name, baseline):
    cls = registry.get(name)
    assert cls.inert, f"{name} must declare overrides that make it inert"
    result = run(f"+mechanism={name}", *cls.inert)
    own = [c for c in result.timeseries.columns if c not in baseline.timeseries.columns]
    pd.testing.assert_frame_equal(result.timeseries.drop(columns=own), baseline.timeseries)
    pd.testing.assert_frame_equal(result.cities, baseline.cities)
    pd.testing.assert_frame_equal(result.events, baseline.events)


def test_money_is_conserved(active):
    """City receipts + sinks - sources + change in the mechanism's balance = 0, every year."""
    name, result = active
    ts = result.timeseries
    prefix = f"ledger_{name}."
    cols = [c for c in ts.columns if c.startswith(prefix)]
    sinks = [c for c in cols if c.startswith(prefix + "sink.")]
    sources = [c for c in cols if c.startswith(prefix + "source.")]
    to_cities = [c for c in cols if c not in sinks and c not in sources]
    balance = ts[f"balance_{name}"].to_numpy()
    change = np.diff(np.concatenate([[0.0], balance]))
    residual = ts[to_cities].sum(axis=1) + ts[sinks].sum(axis=1) - ts[sources].sum(axis=1) + change
    scale = max(1.0, ts[cols].abs().to_numpy().max())
    assert np.allclose(residual, 0.0, atol=1e-9 * scale), residual.tolist()
    assert to_cities, f"{name} records no payments to or from cities"


def test_payoffs_add_up_with_mechanisms(active):
    """Each city's payoff is the sum of its ledger accounts, mechanisms included."""
    name, result = active
    last = result.timeseries.iloc[-1]
    flows = sum(v for k, v in last.items() if k.startswith("ledger_") and k != "ledger_benefit_created"
                and ".sink." not in k and ".source." not in k)
    year = result.cities[result.cities["year"] == last["year"]]
    assert year["payoff"].sum() == pytest.approx(flows, rel=1e-9, abs=1e-6)


def test_observables_summary_and_tables_present(active):
    name, result = active
    mechanism = result.model.mechanisms[0]
    observed = mechanism.observables()
    assert observed and set(observed) <= set(result.timeseries.columns)
    summary = mechanism.summary(result.timeseries)
    assert summary and set(summary) <= set(result.summary)
    assert f"balance_{name}" in result.timeseries
    # its figure plots only columns it records
    assert mechanism.figure_panels and {c for c, _ in mechanism.figure_panels} <= set(observed)


@pytest.mark.parametrize("name", NAMES)
def test_schema_rejects_out_of_range_values(name):
    schema = registry.schemas()[name]
    checked = 0
    for f in fields(schema):
        hi, choices = f.metadata.get("hi", math.inf), f.metadata.get("choices")
        if choices:
            bad = "not_a_choice"
        elif math.isfinite(hi) and f.type in ("int", "float", int, float):
            bad = hi + 1
        else:
            continue
        with pytest.raises(ConfigError, match=rf"mechanism\.{name}\.{f.name}"):
            load_config([f"+mechanism={name}", f"mechanism.{name}.{f.name}={bad}"])
        checked += 1
    assert checked


@pytest.mark.parametrize("name", NAMES)
def test_schema_rejects_unknown_keys_and_wrong_types(name):
    with pytest.raises(ConfigError, match=rf"mechanism\.{name}"):
        load_config([f"+mechanism={name}", f"+mechanism.{name}.no_such_key=1"])
    number = next(f.name for f in fields(registry.schemas()[name]) if f.type in ("float", float))
    with pytest.raises(ConfigError, match=number):
        load_config([f"+mechanism={name}", f"mechanism.{name}.{number}=lots"])


def test_all_mechanisms_compose():
    result = run(f"+mechanism=[{','.join(NAMES)}]")
    assert [m.name for m in result.model.mechanisms] == NAMES
    for name in NAMES:
        assert f"balance_{name}" in result.timeseries
