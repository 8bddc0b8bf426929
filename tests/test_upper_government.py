"""The upper government and the council's coordination (docs/ODD.md 7.3, 7.5, 7.11.1):
assessment relative to provincial peers, river compensation pacts, negotiation costs and the
council's cut of them, topic groups by domain, rebates by dues paid, profiles from the data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config.loading import load_config
from sim.config.schema import DOMAINS
from sim.data import load_region
from sim.model import decisions
from sim.model.city_model import CityModel
from sim.model.industry import industry_sectors
from sim.model.upper_government import peer_share
from sim.runs.runner import simulate

FAST = ["output.figures=false", "output.events=false"]
T = "mechanism.three_tier"
ECO = DOMAINS.index("ecology")


def run(*overrides):
    return simulate(load_config([*FAST, *overrides]))


def model_of(*overrides) -> CityModel:
    cfg = load_config([*FAST, *overrides])
    return CityModel(cfg, load_region(cfg.region))


# ------------------------------------------------------------------ relative assessment
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=1, max_size=30))
def test_relative_credit_is_zero_sum_within_a_province_of_equals(cities):
    """With equal GDP and attention, credit done_i - (share of i's provincial peers that did it)
    sums to zero over every province of two or more cities, and a city alone keeps 1[done]."""
    done = np.array([c[0] for c in cities], dtype=bool)
    province = np.array([c[1] for c in cities])
    relative = done - peer_share(done, province)
    for p in np.unique(province):
        members = province == p
        if members.sum() > 1:
            assert relative[members].sum() == pytest.approx(0.0, abs=1e-9)
        else:
            assert relative[members][0] == float(done[members][0])


def test_assessment_relative_to_peers_is_what_the_run_credits():
    """The run's political credit is kappa A_i Y_i (1[implemented] - peer share) in every domain,
    and with absolute assessment kappa A_i Y_i 1[implemented]; the decisions are the same."""
    for assessment in ("relative", "absolute"):
        result = run("seed=2", "years=2", f"model.upper.assessment={assessment}")
        model = result.model
        p = model.params
        expected = 0.0
        for d, name in enumerate(DOMAINS):
            done = model.outcomes[name].implemented.astype(float)
            if assessment == "relative":
                done = done - peer_share(model.outcomes[name].implemented, model.province_code)
            expected += (p.attention.credit * model.attention_city * model.gdp_before * done).sum()
        assert result.timeseries["ledger_political_credit"].iloc[-1] == pytest.approx(expected, rel=1e-9)
    signed = [run("seed=2", "years=1", f"model.upper.assessment={a}").timeseries.filter(like="signed_")
              for a in ("relative", "absolute")]
    assert signed[0].equals(signed[1])


# ------------------------------------------------------------------ river compensation pacts
def test_the_xinan_pact_pays_by_the_upstream_citys_implementation():
    """Yangtze River Delta, pact from 2012 (Huangshan upstream of Hangzhou): each year the
    downstream city pays the stake if Huangshan implemented in ecology, else receives it; the
    centre pays Huangshan its grant; both cities are bound to sign ecology agreements."""
    result = run("seed=4", "years=3", "region=yangtze_delta")
    model = result.model
    names = list(model.names)
    up, down = names.index("Huangshan"), names.index("Hangzhou")
    eco = model.outcomes["ecology"]
    assert eco.signed[up] and eco.signed[down]
    stake = 1.0 if eco.implemented[up] else -1.0
    assert model.river_pacts.met.tolist() == [bool(eco.implemented[up])]
    ledger = result.timeseries.iloc[-1]
    assert ledger["ledger_river_compensation"] == pytest.approx(0.0)
    assert ledger["ledger_river_central_grant"] == pytest.approx(3.0)
    # this year's fiscal flow = matching grants - subsidies + the pact's flows, city by city
    grants = sum(model.outcomes[name].grant for name in DOMAINS)
    placed = model.placement.host >= 0
    subsidy = np.bincount(model.placement.host[placed], weights=model.placement.subsidy[placed], minlength=model.n)
    pact_flow = np.zeros(model.n)
    pact_flow[up], pact_flow[down] = stake + 3.0, -stake
    assert np.allclose(model.fiscal_flow - grants + subsidy, pact_flow)
    plain = run("seed=4", "years=1", "region=yangtze_delta", "model.upper.river_pacts=false")
    assert "ledger_river_compensation" not in plain.timeseries and plain.model.river_pacts.pacts.empty


def test_the_stake_makes_the_upstream_city_implement_more():
    """Learning off, so both runs draw the same uniforms each year: in every year Huangshan is a
    party with and without the pact, the stake's swing (2 x 100 million yuan, about one base
    cost) raises its implement probability, so it implements whenever it would have without
    the pact, and more often over 12 seeds x 10 years."""
    more = 0
    for seed in range(12):
        runs = [model_of(f"seed={seed}", "region=yangtze_delta", "model.learning.revision_rate=0",
                         f"model.upper.river_pacts={pacts}") for pacts in (True, False)]
        up = list(runs[0].names).index("Huangshan")
        for _ in range(10):
            with_pact, without = (m.step() or m.outcomes["ecology"] for m in runs)
            if with_pact.party[up] and without.party[up]:
                assert with_pact.implemented[up] >= without.implemented[up]
                more += int(with_pact.implemented[up]) - int(without.implemented[up])
    assert more > 0


# ------------------------------------------------------------------ negotiation cost and the council's cut
def test_a_cut_in_negotiation_cost_raises_signing_this_year_not_implementing():
    base = np.full(3, 0.5)
    levers = dict(credit=np.full(3, 0.5), detection=np.full(3, 0.2), cost=np.ones(3), grant=0.5, sanction=1.0)
    reference = decisions.Levers(**levers, negotiation=0.2)
    full = decisions.probabilities(base, base, decisions.Levers(**levers, negotiation=0.2), reference, 1.0)
    cut = decisions.probabilities(base, base, decisions.Levers(**levers, negotiation=0.1), reference, 1.0)
    assert np.allclose(full[0], 0.5) and np.all(cut[0] > full[0] + 0.02)
    assert np.array_equal(cut[1], full[1])


def test_the_council_cuts_members_negotiation_cost_in_agenda_domains_only():
    result = run("seed=1", "years=1", "+mechanism=three_tier", f"{T}.cost_cut=0.5")
    model, council = result.model, result.model.mechanisms[0]
    nu, c = model.params.domains.ecology.negotiation, model.params.domains.ecology.cost
    for d, name in enumerate(DOMAINS):
        out = model.outcomes[name]
        factor = np.where(council.member & (d in council.agenda), 0.5, 1.0)
        expected = np.where(out.signed, nu * c * model.gdp_before * factor, 0.0)
        assert np.allclose(out.negotiation, expected)
        if getattr(model.params.domains, name).rivalry == 0:   # the implementation cost is not cut
            assert np.allclose(out.cost[out.implemented], (c * model.gdp_before)[out.implemented])


# ------------------------------------------------------------------ topic groups and rebates
def test_topic_groups_are_per_domain_and_led_by_members_with_a_record_there():
    """After a year, each agenda domain's first topic group holds members that implemented in it
    last year (those first, by reputation), and the domains' groups differ."""
    result = run("seed=3", "years=2", "+mechanism=three_tier", f"{T}.founders=list",
                 f"{T}.founder_names=[Wuhan,Changsha,Nanchang,Yichang,Xiangyang,Yueyang,Jiujiang,Zhuzhou]",
                 f"{T}.topic_group_size=3", f"{T}.agenda_size=5")
    model, council = result.model, result.model.mechanisms[0]
    members = np.flatnonzero(council.member)
    reputation = model.reputation.estimate()
    groups_by_domain = []
    for d in range(len(DOMAINS)):
        groups = council.topic_groups(model, d)
        assert sorted(np.concatenate(groups).tolist()) == sorted(members.tolist())
        did = model.outcomes[DOMAINS[d]].implemented
        ranked = sorted(members, key=lambda i: (not did[i], -reputation[i]))
        assert set(groups[0]) == set(ranked[:3])
        groups_by_domain.append([frozenset(g) for g in groups])
    assert len({tuple(g) for g in groups_by_domain}) > 1


def test_the_rebate_returns_unspent_dues_to_those_who_paid_them():
    """Half the members shirk their dues: the rebate goes only to those who paid, in proportion to
    what they paid; fines stay in the pool."""
    model = model_of("seed=0", "years=2", "+mechanism=three_tier", f"{T}.shirk_rate=0.5",
                     f"{T}.second_order=false", f"{T}.fine=50")
    council = model.mechanisms[0]
    model.step()
    before = model.fiscal_flow.copy()
    paid = council.dues_paid.copy()
    council.balance += 1e6   # a large surplus: the rebate is capped at this year's dues
    balance = council.balance
    council._rebate(model)
    rebate = model.fiscal_flow - before
    assert np.allclose(rebate, paid) and paid.sum() > 0
    assert np.all(rebate[council.member & (paid == 0)] == 0)
    assert council.balance == pytest.approx(balance - paid.sum())


# ------------------------------------------------------------------ industry profiles from the data
@pytest.mark.parametrize("sectors, concentration", [(4, 20.0), (2, 1.0), (5, 0.01), (1, 20.0)])
def test_each_citys_industry_sectors_hold_its_secondary_share(sectors, concentration):
    """Also at the smallest concentration, where gamma draws underflow to zero (no NaN)."""
    model = model_of("seed=0", f"model.firms.sectors={sectors}", f"model.firms.profile_concentration={concentration}")
    industry = industry_sectors(sectors)
    assert np.isfinite(model.profile).all() and np.allclose(model.profile.sum(axis=1), 1.0)
    if sectors > 1:
        assert np.allclose(model.profile[:, industry].sum(axis=1), model.secondary_share)
