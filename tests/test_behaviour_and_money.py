"""Model 2 (docs/ODD.md 7.5, 7.6, 7.7, 7.9): this year's levers move this year's behaviour,
transfers leave GDP alone, monitoring leaves expected trust alone, park output is the host's
GDP, matching grants set the domain mix."""

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.loading import load_config
from sim.config.schema import DOMAINS
from sim.data import load_region
from sim.mechanisms.base import Mechanism
from sim.model.city_model import CityModel
from sim.runs.runner import simulate

FAST = ["output.figures=false", "output.events=false"]
NO_LEARNING = "model.learning.revision_rate=0"


def run(*overrides):
    return simulate(load_config([*FAST, *overrides]))


def mean_signed(ts):
    return ts[[f"signed_{d}" for d in DOMAINS]].mean(axis=1).to_numpy()


# ------------------------------------------------------------------ 7.5: levers act this year
def test_an_attention_pulse_raises_signing_in_its_year_and_the_next_without_learning():
    """Plan year 2017 in a 2015 start, learning off, same seed: the runs draw the same uniforms, so
    they agree exactly before the pulse; signing is higher in 2017 and 2018 with the pulse."""
    common = ("seed=3", "years=6", NO_LEARNING, "model.attention.plan_years=[2017]")
    pulse, flat = run(*common).timeseries, run(*common, "model.attention.pulse=0").timeseries
    a, b = mean_signed(pulse), mean_signed(flat)
    assert np.array_equal(a[:2], b[:2])
    assert a[2] > b[2] + 0.05 and a[3] > b[3]


def test_the_pulse_acts_through_the_decision_rule():
    """With decision intensity 0 the traits alone decide: the pulse year's signing is unchanged."""
    common = ("seed=3", "years=3", NO_LEARNING, "model.attention.plan_years=[2017]", "model.decisions.intensity=0")
    a = mean_signed(run(*common).timeseries)
    b = mean_signed(run(*common, "model.attention.pulse=0").timeseries)
    assert np.array_equal(a, b)


# ------------------------------------------------------------------ 7.7: transfers are not value added
class Transfers(Mechanism):
    """A test institution that moves money between budgets, summing to zero."""

    name = "transfers"

    def __init__(self, model, amounts) -> None:
        super().__init__(model, None)
        self.amounts = amounts

    def after_production(self, model) -> None:
        model.credit("transfers.moved", self.amounts, area=0, kind="fiscal")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31), st.lists(st.floats(-0.05, 0.05), min_size=31, max_size=31))
def test_transfers_between_cities_leave_every_citys_gdp_unchanged(seed, shares):
    cfg = load_config([*FAST, f"seed={seed}", "years=1"])
    region = load_region(cfg.region)
    plain, moved = CityModel(cfg, region), CityModel(cfg, region)
    amounts = (np.array(shares) - np.mean(shares)) * plain.gdp.mean()   # money, summing to zero
    moved.mechanisms.append(Transfers(moved, amounts))
    plain.step(), moved.step()
    assert np.array_equal(plain.gdp, moved.gdp)
    assert np.allclose(moved.fiscal_balance - plain.fiscal_balance, amounts)
    assert moved.payoff.sum() == pytest.approx(plain.payoff.sum(), abs=1e-6 * plain.gdp.sum())


def test_subsidies_grants_and_mechanism_payments_are_fiscal():
    """Subsidies, grants, river pact stakes and the council's dues, fines and rebates: fiscal flows,
    not value added (six years, so that the Lu River pact of 2019 runs in the last)."""
    result = run("seed=1", "years=6", "+mechanism=three_tier")
    ts = result.timeseries.iloc[-1]
    fiscal = (ts["ledger_subsidy"] + ts["ledger_grant"] + ts["ledger_river_compensation"]
              + ts["ledger_river_central_grant"]
              + sum(v for k, v in ts.items() if k.startswith("ledger_three_tier.") and ".sink." not in k))
    cities = result.cities[result.cities["year"] == ts["year"]]
    assert cities["fiscal_flow"].sum() == pytest.approx(fiscal, rel=1e-9, abs=1e-6)
    value = (ts["ledger_negotiation_cost"] + ts["ledger_cooperation_cost"] + ts["ledger_benefit_received"]
             + ts["ledger_firm_benefit"])
    assert cities["value_added"].sum() == pytest.approx(value, rel=1e-9, abs=1e-6)


# ------------------------------------------------------------------ 7.9: monitoring is trust-neutral
def long_run_trust(rate: np.ndarray, detection: float, years: int, seed: int, model) -> tuple:
    """Each year every city is party in every domain and implements with its fixed ``rate``;
    partners see each implementation and the upper government catches each default with
    ``detection``. Mean reputation after a burn-in, and what the first model's rule (an EMA of
    honoured / (honoured + caught), same rate) would read from the same events."""
    rng = np.random.default_rng(seed)
    model._init_reputation()
    model.detection = np.full(model.n, detection)
    old = model.reputation.estimate()
    new_seen, old_seen = [], []
    for year in range(years):
        outcomes = {}
        for d in DOMAINS:
            implemented = rng.random(model.n) < rate
            outcomes[d] = SimpleNamespace(party=np.ones(model.n, bool), implemented=implemented,
                                          detected=~implemented & (rng.random(model.n) < detection))
        model.outcomes = outcomes
        model.update_trust()
        honoured = sum(o.implemented for o in outcomes.values())
        seen = honoured + sum(o.detected for o in outcomes.values())
        old = np.where(seen > 0, 0.7 * old + 0.3 * honoured / np.maximum(seen, 1), old)
        if year >= 20:
            new_seen.append(model.reputation.estimate())
            old_seen.append(old)
    return np.mean(new_seen, axis=0), np.mean(old_seen, axis=0)


def test_raising_detection_leaves_expected_trust_unchanged():
    """Behaviour fixed (implementation rates 0.3-0.9 over the 31 cities), detection 0.2 vs 0.8,
    400 years after a burn-in. The reputation's weighted counts are unbiased for the counts; what
    remains is the ratio bias of a noisy denominator, largest at q = 0.2 (one catch stands for
    five defaults, about 0.7 catches a year for a city implementing half the time): measured, the
    mean over cities is 0.03 above the true rate at q = 0.2 and 0.0004 at q = 0.8. So the
    tolerance on the q = 0.2 vs 0.8 difference is 0.04; the first model's rule, from the same
    events, reads 0.87 at q = 0.2 and 0.64 at q = 0.8."""
    cfg = load_config([*FAST, "seed=0"])
    model = CityModel(cfg, load_region(cfg.region))
    rate = np.linspace(0.3, 0.9, model.n)
    low, old_low = long_run_trust(rate, 0.2, 420, 1, model)
    high, old_high = long_run_trust(rate, 0.8, 420, 1, model)
    assert abs(low.mean() - high.mean()) < 0.04 and abs(high.mean() - rate.mean()) < 0.01
    assert old_low.mean() - old_high.mean() > 0.15   # the first model's rule: more monitoring, less trust


def test_trust_starts_at_its_steady_state():
    cfg = load_config([*FAST, "seed=0"])
    model = CityModel(cfg, load_region(cfg.region))
    rate = model.traits[:, len(DOMAINS):2 * len(DOMAINS)].mean(axis=1)
    assert np.allclose(model.reputation.estimate(), rate)
    assert np.allclose(model.edges.trust, rate[model.edges.dst])


# ------------------------------------------------------------------ 7.11.2: park output is GDP
PARKS = ("+mechanism=enclave", "mechanism.enclave.sender_income_ratio=0.8", "mechanism.enclave.host_income_ratio=1.5",
         "model.traits.enclave=1.0", "model.traits.spread=0")


@pytest.mark.parametrize("statistics_share", [0.0, 0.4])
def test_park_value_added_is_in_the_gdp_of_host_and_sender_by_the_statistics_rule(statistics_share):
    ts = run("seed=2", "years=8", *PARKS, f"mechanism.enclave.statistics_share={statistics_share}").timeseries
    produced = ts["ledger_enclave.source.park_value_added"]
    assert produced.sum() > 0
    assert np.allclose(ts["ledger_enclave.value_added_host"], (1 - statistics_share) * produced)
    assert np.allclose(ts["ledger_enclave.value_added_sender"], statistics_share * produced)
    assert np.allclose(ts["ledger_enclave.revenue_share"], 0.0, atol=1e-9 * produced.max())   # a transfer


# ------------------------------------------------------------------ 7.5: matching grants, "three more"
def three_more_ratio(*overrides, seeds=range(6)) -> float:
    """P3a's statistic: implementing share of infrastructure, ecology, public services over
    industry and innovation, summed over years and seeds."""
    total = {d: 0.0 for d in DOMAINS}
    for seed in seeds:
        ts = run(f"seed={seed}", "years=12", *overrides).timeseries
        for d in DOMAINS:
            total[d] += ts[f"implemented_{d}"].sum()
    return np.mean([total[d] for d in DOMAINS[:3]]) / np.mean([total[d] for d in DOMAINS[3:]])


def grants(*values):
    return [f"model.domains.{d}.grant={v}" for d, v in zip(DOMAINS, values)]


def test_matching_grants_drive_the_domain_mix():
    default = three_more_ratio()
    none = three_more_ratio(*grants(0, 0, 0, 0, 0))
    reversed_ = three_more_ratio(*grants(0, 0, 0, 0.5, 0.5))
    assert reversed_ < none < default


# ------------------------------------------------------------------ 7.6: subsidies as best responses
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([1.0, 0.5]))
def test_the_best_response_offer_maximises_the_citys_expected_firm_profit(seed, nest):
    """Rivals' offers fixed: the best response is the first-order condition at this year's shares,
    so approached by partial adjustment it reaches a rate where expected profit is locally maximal
    (with several target sectors of different appeal the profit need not be concave, so not always
    the global one). At the default lambda = 0.5 and at 1; with very tight nests (lambda = 0.2)
    the damped iteration can keep cycling between two rates."""
    from sim.model import firms

    rng = np.random.default_rng(seed)
    sectors, cities, beta, b = 3, 6, 10.0, 0.25
    value = rng.normal(0, 1, (sectors, cities))
    bid = rng.random((sectors, cities)) < 0.6
    bid[0, 0] = True
    offers = bid * rng.uniform(0, 0.3, cities)[None, :]
    weights = rng.dirichlet(np.ones(sectors))

    def market(rate):
        o = offers.copy()
        o[:, 0] = bid[:, 0] * rate
        return firms.Market(value, bid, o, beta, outside=0.5, nest=nest)

    def profit(rate):
        p = firms.nested_choice_probabilities(market(rate).utility(), 0.5, nest)[:, 0]
        return float((weights * p * bid[:, 0]).sum() * (b - rate))

    best = firms.best_response_offers(market(offers[0, 0]), b, weights)[0]
    for _ in range(300):   # damped, as the model's partial adjustment: undamped it can cycle
        best += 0.3 * (firms.best_response_offers(market(best), b, weights)[0] - best)
    near = max(profit(r) for r in best + np.linspace(-0.02, 0.02, 401))
    assert profit(best) >= near - 1e-12 * max(1.0, abs(near))


def test_subsidies_move_towards_the_best_response_by_alpha():
    cfg = load_config([*FAST, "seed=4", "model.firms.adjustment=0.3"])
    model = CityModel(cfg, load_region(cfg.region))
    column = model.vocabulary.trait("subsidy")
    model.step()
    before = model.traits[:, column].copy()
    model.reset_levers(), model.cooperate()
    model.area_payoff[:] = 0
    model.value_added = np.zeros(model.n)
    model.fiscal_flow = np.zeros(model.n)
    model.attract_investment()
    target = np.clip(np.where(np.isnan(model.best_response), before, model.best_response), 0, model.trait_upper[column])
    model.adjust_subsidies(before)
    assert np.allclose(model.traits[:, column], before + 0.3 * (target - before))
    assert not np.allclose(target, before)


# ------------------------------------------------------------------ 7.11.1: the council's levers
T = "mechanism.three_tier"


def test_at_a_forum_members_sign_in_the_agenda_domains():
    result = run("seed=5", "years=3", "+mechanism=three_tier", f"{T}.forum_interval=2")
    council = result.model.mechanisms[0]
    events = result.timeseries
    assert events["council_forum"].tolist() == [1.0, 0.0, 1.0]
    # the last forum (year 3): every member signed in each agenda domain
    model = result.model
    for d in council.agenda:
        assert model.outcomes[DOMAINS[d]].signed[council.member].all()


def test_the_pool_refunds_its_share_of_members_agenda_costs():
    result = run("seed=6", "years=2", "+mechanism=three_tier", f"{T}.cofund=0.4")
    model, council = result.model, result.model.mechanisms[0]
    cost = sum(model.outcomes[DOMAINS[d]].cost[council.member].sum() for d in council.agenda)
    assert result.timeseries["ledger_three_tier.cofunding"].iloc[-1] == pytest.approx(0.4 * cost)
    assert cost > 0


def admitted_at_the_2018_forum(*overrides, seeds=range(12)) -> int:
    return sum(int(run(f"seed={s}", "years=4", "+mechanism=three_tier", f"{T}.forum_interval=3",
                       *overrides).timeseries["council_admitted"].iloc[3]) for s in seeds)


def test_upper_government_attention_drives_council_entry():
    """The second forum (year 4) in a plan year admits more applicants than without the plan, and
    no attention admits none."""
    plan = admitted_at_the_2018_forum("model.attention.plan_years=[2018]")
    none = admitted_at_the_2018_forum("model.attention.plan_years=[]")
    assert plan > none > 0
    assert admitted_at_the_2018_forum("model.attention.plan_years=[]", "model.attention.base=0") == 0


# ------------------------------------------------------------------ inputs: per-capita values of one year
def test_population_follows_the_census_trend_through_both_censuses():
    cfg = load_config([*FAST, "seed=0", "start_year=2015"])
    region = load_region(cfg.region)
    model = CityModel(cfg, region)
    p2010, p2020 = region.cities["population_2010"].to_numpy(), region.cities["population"].to_numpy()
    assert np.allclose(model.population_in(2010), p2010) and np.allclose(model.population_in(2020), p2020)
    assert np.allclose(model.population, np.sqrt(p2010 * p2020))   # 2015: halfway on the log scale
    model.step()
    cities = model.recorder.cities()
    assert np.allclose(cities["gdp_per_capita"], cities["gdp"] * 1e8 / np.sqrt(p2010 * p2020))


def test_a_table_without_2010_population_has_no_trend_and_says_so(tmp_path):
    from sim.data.city_table import table_from_text

    text = ("name,province,lat,lon,gdp_2015,population_2020,population_2010,secondary_share_2020\n"
            "A,P,30,114,1000,2000000,,40\nB,P,31,115,500,1500000,1200000,40\n")
    cities = table_from_text(text, "cities.csv")
    assert cities["population_2010"].tolist() == [2000000, 1200000]
    assert cities["imputed"].tolist() == ["population_2010", ""]
