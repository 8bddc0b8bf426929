"""Behaviour of the joint investment platform (联合招商), beyond the shared mechanism harness.

P5 (docs/ODD.md section 1.1): joint investment cuts subsidy per firm, and unravels when secret
outbidding is rarely detected. The platform's rules are checked directly: one member bids per
sector at the smallest offer that keeps the region's nest value (or, with offer_rule=beat_outside,
that just beats leaving), lead shares are psi x the host's gain and net to
zero, a caught outbidder stays out for exactly T_ex years, council monitoring raises detection.
"""

from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.mechanisms.joint_investment as ji
from sim.model import firms
from sim.config.loading import load_config
from sim.errors import ConfigError
from sim.model.city_model import CityModel
from sim.model.traits import SUBSIDY
from sim.data import load_region
from sim.runs.runner import simulate

J = "mechanism.joint_investment"
HONEST = ("+mechanism=joint_investment", f"{J}.outbidding=false")
BEAT_OUTSIDE = (*HONEST, f"{J}.offer_rule=beat_outside")   # the first model's offer
SEEDS = range(4)


def config(*overrides):
    return load_config(["output.figures=false", "output.events=false", "years=10", *overrides])


def model_of(*overrides) -> CityModel:
    cfg = config(*overrides)
    return CityModel(cfg, load_region(cfg.region))


@lru_cache(maxsize=None)
def pooled(*overrides) -> dict[str, float]:
    """Firm and platform totals over ten years, summed over four seeds."""
    frames = [simulate(config(f"seed={s}", *overrides)).timeseries for s in SEEDS]
    total = {k: sum(float(ts[k].sum()) for ts in frames) for k in
             ("subsidy_total", "firms_placed", "firms_arrived", "firms_lost", "duplicate_bids")}
    if "platform_members" in frames[0]:
        total.update({k: sum(float(ts[k].sum()) for ts in frames) for k in
                      ("platform_members", "platform_defections")})
    total["subsidy_per_firm"] = total["subsidy_total"] / total["firms_placed"]
    total["lost_share"] = total["firms_lost"] / total["firms_arrived"]
    return total


# ---------------------------------------------------------------------- configuration
def test_unknown_member_names_raise_a_config_error_naming_them():
    with pytest.raises(ConfigError, match=r"members.*Atlantis.*membership=all"):
        model_of("+mechanism=joint_investment", f"{J}.membership=list", f"{J}.members=[Wuhan,Atlantis]")


def test_a_listed_platform_has_exactly_the_listed_members():
    model = model_of(*HONEST, f"{J}.membership=list", f"{J}.members=[Wuhan,Changsha,Nanchang]")
    model.step()
    platform = model.mechanisms[0]
    assert sorted(model.names[platform.member]) == ["Changsha", "Nanchang", "Wuhan"]


# ---------------------------------------------------------------------- the common offer
def test_common_offer_just_beats_the_outside_option():
    value = np.array([5.0, 3.0, 2.0, -10.0])
    rate = ji.common_offer(value, outside=3.5, beta=10.0, stay_target=0.5, upper=0.3)
    assert rate == pytest.approx([0.0, 0.05, 0.15, 0.3])          # 0 if already above; capped
    assert np.all(value[1:3] + 10.0 * rate[1:3] == pytest.approx(3.5))
    higher = ji.common_offer(value, outside=3.5, beta=10.0, stay_target=0.8, upper=0.3)
    assert np.all(higher >= rate) and higher[1] == pytest.approx(0.05 + np.log(4.0) / 10.0)
    assert not ji.common_offer(value, 3.5, beta=0.0, stay_target=0.5, upper=0.3).any()


def test_only_the_best_fitting_member_bids_in_each_sector():
    model = model_of(*BEAT_OUTSIDE)
    model.step()
    market, platform = model.market, model.mechanisms[0]
    before = firms.bidders(model.profile)                          # who would bid without the platform
    assert platform.member.all()
    assert (market.bid.sum(axis=1) == before.any(axis=1)).all()    # one bidder per targeted sector
    for s in np.flatnonzero(before.any(axis=1)):
        best = np.flatnonzero(before[s])[market.value_utility[s, before[s]].argmax()]
        assert np.flatnonzero(market.bid[s]).tolist() == [best]
        rate, fit = market.offers[s, best], market.value_utility[s, best]
        if rate == 0.0:
            assert fit >= market.outside                            # already beats leaving
        elif rate == pytest.approx(model.trait_upper[SUBSIDY]):
            assert fit + market.beta_subsidy * rate <= market.outside + 1e-9  # capped at s_max
        else:
            assert fit + market.beta_subsidy * rate == pytest.approx(market.outside)
    assert model.recorder.rows[-1]["duplicate_bids"] == 0
    assert model.recorder.rows[-1]["platform_duplicate_bids_avoided"] > 0


def test_the_region_keeping_offer_is_the_smallest_that_keeps_the_nest_value():
    model = model_of(*HONEST)
    cfg = model.cfg
    before = CityModel(cfg, load_region(cfg.region))
    before.mechanisms = []
    model.step(), before.step()                                    # same draws up to the market
    target = firms.inclusive_value(before.market.utility(), before.market.nest)
    value = firms.inclusive_value(model.market.utility(), model.market.nest)
    offered = model.market.offers.max(axis=1)
    targeted = model.market.bid.any(axis=1)
    assert (value[targeted] >= target[targeted] - 1e-9).all()
    lower = model.market.utility() - model.market.beta_subsidy * 1e-6 * model.market.bid
    short = firms.inclusive_value(lower, model.market.nest) < target
    inside = targeted & (offered > 1e-6) & (offered < model.trait_upper[SUBSIDY] - 1e-9)
    assert inside.any() and short[inside].all()                    # a hair less falls short


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**16), cities=st.integers(2, 12), nest=st.floats(0.05, 1.0),
       beta=st.floats(0.0, 20.0), upper=st.floats(0.01, 2.0), shift=st.floats(-3.0, 3.0))
def test_the_closed_form_offer_equals_a_bisection(seed, cities, nest, beta, upper, shift):
    """The closed-form rate is the one a 60-step bisection on the nest value finds: 0 where the
    matched member already keeps the target, ``upper`` where no rate in range does."""
    rng = np.random.default_rng(seed)
    utility = rng.normal(0.0, 1.0, (6, cities))
    matched = rng.integers(0, cities, 6)
    target = firms.inclusive_value(utility, nest) + shift * rng.random(6)
    rate = ji.region_keeping_offer(utility, matched, beta, nest, target, upper)
    rows = np.arange(6)

    def value(s):
        u = utility.copy()
        u[rows, matched] += beta * s
        return firms.inclusive_value(u, nest)

    low, high = np.zeros(6), np.full(6, upper)
    for _ in range(60):
        mid = (low + high) / 2
        ok = value(mid) >= target
        high, low = np.where(ok, mid, high), np.where(ok, low, mid)
    expected = np.where(value(np.zeros(6)) >= target, 0.0, high)
    assert np.allclose(rate, expected, rtol=1e-7, atol=1e-9 * max(1.0, upper))


def test_joint_promotion_lowers_the_offer_that_keeps_the_region():
    """Same seed, one year: with promotion every matched offer is at most the one without, and lower
    where it is not already 0 (promotion raises members' appeal, the target is the region's value
    without the platform)."""
    offers = []
    for delta in (0.0, 0.5):
        model = model_of(*HONEST, f"{J}.promotion={delta}")
        model.step()
        offers.append(np.where(model.market.bid, model.market.offers, 0.0).max(axis=1))
    plain, promoted = offers
    assert (promoted <= plain + 1e-12).all() and (promoted < plain - 1e-6).any()


def test_in_its_first_year_the_platform_keeps_the_regions_firms_at_a_lower_subsidy():
    """Paired by seed (the same firms and draws), 20 seeds: firms placed within 2% of the
    baseline's, subsidy per placed firm lower."""
    def first_year(*overrides):
        rows = [simulate(config(f"seed={s}", "years=1", *overrides)).timeseries.iloc[0] for s in range(20)]
        return sum(r["firms_placed"] for r in rows), sum(r["subsidy_total"] for r in rows)
    (base_firms, base_paid), (firms_, paid) = first_year(), first_year(*HONEST)
    assert firms_ >= 0.98 * base_firms
    assert paid / firms_ < base_paid / base_firms


def test_over_20_years_and_20_seeds_the_default_platform_pays_less_per_firm_and_keeps_the_firms():
    """Issue criterion, default parameters (outbidding on, lambda = 0.5), 20 paired seeds x 20
    years: mean subsidy per firm lower than the baseline's, and the share of firms lost not higher
    beyond 0.005 (half a percentage point: about two standard errors of the 20-seed mean paired
    difference, whose sd over 100 seeds is 0.012; the first model's platform lost 3.7 points more)."""
    def per_seed(*overrides):
        runs = [simulate(config(f"seed={s}", "years=20", *overrides)).summary for s in range(20)]
        return (np.array([r["subsidy_per_firm_mean"] for r in runs]),
                np.array([r["firms_lost_share"] for r in runs]))
    (base_subsidy, base_lost), (subsidy, lost) = per_seed(), per_seed("+mechanism=joint_investment")
    assert (subsidy - base_subsidy).mean() < 0
    assert (lost - base_lost).mean() < 0.005


# ---------------------------------------------------------------------- P5
def test_platform_cuts_subsidy_per_firm_and_keeps_most_firms():
    """An honest all-city platform with the first model's offer (beat leaving) pays under a third
    of the baseline's subsidy per firm. It keeps most, not all, firms: one matched offer that just
    beats leaving holds fewer firms than many competing offers, so more leave than in the baseline."""
    base, platform = pooled(), pooled(*BEAT_OUTSIDE)
    assert platform["subsidy_per_firm"] < 0.3 * base["subsidy_per_firm"]
    assert platform["firms_placed"] > 0.85 * base["firms_placed"]
    assert platform["duplicate_bids"] == 0 < base["duplicate_bids"]


def test_a_higher_stay_target_buys_firms_with_subsidies():
    runs = [pooled(*BEAT_OUTSIDE, f"{J}.stay_target={p}") for p in (0.5, 0.8, 0.9)]
    subsidy = [r["subsidy_per_firm"] for r in runs]
    lost = [r["lost_share"] for r in runs]
    assert subsidy == sorted(subsidy)
    # Fewer firms lost at p* = 0.9; between 0.5 and 0.8 the change is within the noise of ~1,200
    # firms (the region's nest value already holds most of them: docs/ODD.md 7.6).
    assert lost[2] < lost[0] - 0.02 and lost[1] <= lost[0] + 0.01
    assert lost[-1] <= 1 - 0.9 + 0.02        # the region's nest value is at least its matched member's


def test_platform_unravels_when_outbidding_is_rarely_detected():
    honest = pooled(*BEAT_OUTSIDE)
    unravelled = pooled(*BEAT_OUTSIDE[:1], *BEAT_OUTSIDE[2:], "model.traits.outbid=0.8", f"{J}.detection=0",
                        "model.enforcement.detection=0")
    assert unravelled["platform_defections"] > 0.4 * unravelled["platform_members"]
    assert unravelled["subsidy_per_firm"] > 3 * honest["subsidy_per_firm"]
    assert unravelled["duplicate_bids"] > 0.4 * pooled()["duplicate_bids"]


# ---------------------------------------------------------------------- money between members
def test_lead_transfers_are_psi_times_the_host_gain_and_net_to_zero(monkeypatch):
    """With every lead brought by the city after the host, each firm at a member moves
    psi x max(b v - subsidy, 0) from its host to that city."""
    model = model_of(*HONEST, f"{J}.lead_share=0.3")
    monkeypatch.setattr(ji, "draw_by_weight", lambda rng, weight, column: (model.placement.host[
        (model.placement.host >= 0)] + 1) % model.n)
    model.step()
    pl, platform = model.placement, model.mechanisms[0]
    placed = pl.host >= 0
    host = pl.host[placed]
    gain = model.params.firms.benefit_rate * pl.value[placed] - pl.subsidy[placed]
    amount = 0.3 * np.maximum(gain, 0.0)
    expected = (np.bincount((host + 1) % model.n, weights=amount, minlength=model.n)
                - np.bincount(host, weights=amount, minlength=model.n))
    assert platform.city_stats["lead_net"] == pytest.approx(expected)
    assert model.ledger["joint_investment.lead_share"] == pytest.approx(0.0, abs=1e-9)
    assert model.recorder.rows[-1]["platform_lead_transfers"] == pytest.approx(amount.sum())


def test_caught_outbidders_are_fined_and_excluded_for_exactly_t_ex_years():
    t_ex = 2
    model = model_of("+mechanism=joint_investment", "model.traits.outbid=1.0", f"{J}.detection=1",
                     f"{J}.exclusion_years={t_ex}", "years=9")
    platform = model.mechanisms[0]
    members = {}
    for _ in range(9):
        model.step()
        members[model.year - 1] = platform.member.copy()
        assert model.ledger.get("joint_investment.fine", 0.0) == pytest.approx(0.0, abs=1e-9)
    caught = platform.tables()["platform_exclusions"]
    assert len(caught) and (caught["fine"] >= 0).all() and (caught["fine"] > 0).any()
    for year, city in zip(caught["year"], caught["city"]):
        assert members[year][city]
        out = [members[y][city] for y in range(year + 1, year + t_ex + 1) if y in members]
        assert not any(out)
        if year + t_ex + 1 in members:
            assert members[year + t_ex + 1][city]


def test_a_council_raises_the_detection_of_its_members_outbids():
    """Detection is max(q_P, q_i): with q_P = q_0 = 0 only council members (q_E = 1) are caught.
    The entry threshold keeps the council to its founders, the three provincial capitals."""
    result = simulate(config("+mechanism=[three_tier,joint_investment]", "model.traits.outbid=0.8",
                             f"{J}.detection=0", "model.enforcement.detection=0",
                             "mechanism.three_tier.detection=1", "mechanism.three_tier.income_threshold=10"))
    council, platform = result.model.mechanisms
    cities = platform.tables()["platform_cities"]
    founders = council.member
    never = ~founders
    assert founders.sum() == 3 and (council.joined[founders] == result.model.cfg.start_year).all()
    assert cities["defections"][never].sum() > 0 and cities["detections"][never].sum() == 0
    assert cities["detections"][founders].sum() > 0
    # a founder is a council member every year, so every outbid of a founder that made a secret bid is caught
    assert (cities["detections"][founders] == cities["defections"][founders]).all()


def test_opt_in_members_are_drawn_with_their_platform_trait():
    model = model_of("+mechanism=joint_investment", f"{J}.membership=opt_in", "model.traits.platform=0.2")
    platform = model.mechanisms[0]
    expected = observed = 0.0
    for _ in range(10):
        trait = model.traits[:, model.vocabulary.trait("platform")].copy()
        eligible = model.year > platform.excluded_until
        model.step()
        assert not platform.member[(trait == 0) | ~eligible].any()
        expected += trait[eligible].sum()
        observed += platform.member.sum()
    assert abs(observed - expected) < 4 * np.sqrt(expected)
