"""Joint investment attraction (联合招商): a shared investment promotion platform.

Cities with similar industries bid against each other for the same mobile firms (seed document
001: similar industrial structures breed "bad competition" in 招商引资). The platform of seed
document 003 sets up a unified promotion platform (统一的招商平台), shares leads and policies
(共享招商信息和资源) and so avoids internal friction and duplicate bidding (避免内耗和重复招商).

Here, the platform promotes its members jointly (their appeal to firms rises by delta_P) and
members pool their firm leads: in each sector the firm is matched to the member where it
creates most value, only that member bids, with one common offer: the smallest that keeps the
region's value to the firm (its nest's inclusive value, so the share of firms it keeps) at what
the members' independent bids gave (or, with offer_rule=beat_outside, one that need only beat
the firm's outside option); the member that brought the lead gets a share psi of the host's gain. The
platform is a cartel of bidders (Black & Hoyt 1989), so each member is tempted to outbid in
secret; a caught outbidder is fined and kept off the platform for T_ex years.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.mechanisms.base import Mechanism, Trait
from sim.model.firms import inclusive_value
from sim.model.traits import SUBSIDY
from sim.config.schema import param

if TYPE_CHECKING:   # tables are built after the run; a bad command line fails before pandas loads
    import pandas as pd

MEMBERSHIP = ("all", "list", "opt_in")
OFFER_RULES = ("keep_region", "beat_outside")


@dataclass
class JointInvestmentConfig:
    membership: str = param(doc="who is on the platform: all cities, the cities in 'members', or opt_in "
                                "(each year a city is a member with probability = its platform trait)",
                            choices=MEMBERSHIP)
    members: list[str] = field(default_factory=list, metadata={"doc": "members when membership=list"})
    offer_rule: str = param(doc="common offer: keep_region (the smallest rate that keeps the region's "
                                "nest value, so its share of firms, at that of the members' independent "
                                "bids) or beat_outside (the smallest rate that beats leaving, see stay_target)",
                            choices=OFFER_RULES)
    stay_target: float = param(0.01, 0.99, "beat_outside rule, p*: the common offer is the smallest rate at which the matched "
                                           "member beats leaving with binary-logit probability p* "
                                           "(0.5: its utility equals the outside option's)")
    promotion: float = param(0, 10, "delta_P: utility a firm gains at every member from the platform's joint "
                                    "promotion and investor services (log-odds): the region becomes more attractive")
    lead_share: float = param(0, 1, "psi: share of the host's gain (benefit - subsidy) paid to the member "
                                    "that brought the lead")
    outbidding: bool = param(doc="members may secretly outbid, each year with probability = their outbid trait")
    detection: float = param(0, 1, "q_P: probability that a secret outbid is detected (a city's q_i "
                                   "applies if larger, e.g. a council's q_E)")
    sanction: float = param(0, 100, "fine on a caught outbidder, multiple of the secret subsidy it paid "
                                    "this year; paid to the other members")
    exclusion_years: int = param(0, 100, "T_ex: years a caught outbidder is kept off the platform")
    operating_cost: float = param(0, 0.1, "yearly cost of running the platform, share of each member's GDP")


@dataclass
class Plan:
    """What the platform did to this year's market, kept for the checks after placement."""

    matched: np.ndarray        # (sectors,) member the sector's firms are matched to; -1: none
    rate: np.ndarray           # (sectors,) common offer s_P; 0 where no member bids
    secret: np.ndarray         # (sectors, cities) secret (duplicate or higher) bids of outbidders
    bidders_before: np.ndarray  # (sectors,) bidders before the platform rewrote the market
    member_bidders: np.ndarray  # (sectors,) members bidding after the rewrite (1 without outbids)


def common_offer(value_utility: np.ndarray, outside: float, beta: float, stay_target: float,
                 upper: float) -> np.ndarray:
    """Smallest rate s in [0, upper] with U + beta s >= U_0 + logit(p*): the offer only has to beat
    leaving, not the other members, because they no longer bid."""
    need = outside + np.log(stay_target / (1.0 - stay_target)) - value_utility
    rate = np.divide(need, beta, out=np.zeros_like(need), where=beta > 0)
    return np.clip(rate, 0.0, upper)


def region_keeping_offer(utility: np.ndarray, matched: np.ndarray, beta: float, nest: float,
                         target: np.ndarray, upper: float) -> np.ndarray:
    """Per row (sector), the smallest rate s in [0, upper] at which the market ``utility`` (the
    members' bids withdrawn) with beta s added at column ``matched`` has a nest value at least
    ``target`` (the value under independent bids); ``upper`` where none does.

    Closed form: I(s) = lambda ln(E + exp((U_m + beta s) / lambda)), E the other cities' sum of
    exp(U_j / lambda), so I(s) = target at s = (target + lambda ln(1 - E e^(-target/lambda)) - U_m) / beta.
    """
    rows = np.arange(len(matched))
    others = utility.copy()
    others[rows, matched] = -np.inf
    rest = np.exp((inclusive_value(others, nest) - target) / nest)   # E e^(-target/lambda)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (target + nest * np.log1p(-rest) - utility[rows, matched]) / beta
    reachable = (rest < 1.0) & (beta > 0) & (rate <= upper)
    enough = inclusive_value(utility, nest) >= target
    return np.where(enough, 0.0, np.where(reachable, np.maximum(rate, 0.0), float(upper)))


def draw_by_weight(rng, weight: np.ndarray, column: np.ndarray) -> np.ndarray:
    """One row index per entry of ``column``, drawn with probability proportional to
    ``weight[:, column]`` (inverse CDF, one uniform per draw, vectorised per column)."""
    cdf = np.cumsum(weight, axis=0)
    u = rng.random(len(column)) * cdf[-1, column]
    row = np.empty(len(column), dtype=np.int64)
    for c in np.unique(column):
        at = column == c
        row[at] = np.searchsorted(cdf[:, c], u[at], side="right")
    return np.minimum(row, len(weight) - 1)


class JointInvestment(Mechanism):
    """Members share leads, bid once per sector, split the host's gain with the lead's bringer."""

    name = "joint_investment"
    schema = JointInvestmentConfig
    figure_panels = (("platform_members", "Platform members"),
                     ("platform_subsidy_per_firm_members", "Subsidy per firm at\nmembers (100 million yuan)"),
                     ("platform_defections", "Secret outbidders"))
    inert = ("mechanism.joint_investment.membership=list", "mechanism.joint_investment.members=[]")
    # Propensities to join an opt-in platform and to outbid on it in secret, judged by investment payoffs.
    traits = (Trait("platform", area="investment", mean="traits.platform"),
              Trait("outbid", area="investment", mean="traits.outbid"))
    report_metrics = {"platform_members_final": ("Platform members, final year", "cities")}

    def __init__(self, model, params: Any) -> None:
        super().__init__(model, params)
        self.eligible = self._eligible(model, params)
        self.member = np.zeros(model.n, dtype=bool)
        self.excluded_until = np.full(model.n, np.iinfo(np.int64).min)
        self.plan: Plan | None = None
        self.flows: dict[str, float] = {}
        self.city_stats = {k: np.zeros(model.n) for k in
                           ("member_years", "defections", "detections", "leads_shared", "lead_net", "fines")}
        self.exclusion_rows: list[dict] = []

    @staticmethod
    def _eligible(model, p) -> np.ndarray:
        """Cities that may be members at all (before exclusions and opt-in draws)."""
        if p.membership != "list":
            return np.ones(model.n, dtype=bool)
        return model.city_mask(p.members, "mechanism.joint_investment.members", "membership=all")

    # ------------------------------------------------------------------ schedule
    def before_round(self, model) -> None:
        """Only resets this year's counters: the platform acts on the market of step 4."""
        self.plan = None
        self.flows = dict.fromkeys(
            ("excluded", "defections", "detections", "exclusions", "lead_transfers", "fines", "operating_cost",
             "firms_members", "subsidy_members", "firms_others", "subsidy_others",
             "duplicate_bids_avoided", "duplicate_bids_members"), 0.0)

    def before_investment(self, model, market) -> None:
        excluded = self.eligible & (model.year <= self.excluded_until)
        self.flows["excluded"] = float(excluded.sum())
        self.member = self._members_this_year(model, self.eligible & ~excluded)
        if not self.member.any():
            return
        self.city_stats["member_years"] += self.member
        self.plan = self._rewrite_market(model, market)

    def _members_this_year(self, model, eligible: np.ndarray) -> np.ndarray:
        """Eligible cities that are not excluded; with opt_in, drawn with probability = the platform trait."""
        if self.params.membership != "opt_in" or not eligible.any():
            return eligible
        return eligible & (model.rng.random(model.n) < model.traits[:, model.vocabulary.trait("platform")])

    def _rewrite_market(self, model, market) -> Plan:
        """Joint promotion raises every member's appeal; members' bids become one bid per sector by the
        best-fitting member at the common offer; members that outbid this year add their own offer as
        a secret (duplicate) bid."""
        p = self.params
        target = inclusive_value(market.utility(), market.nest)   # the region's value under independent bids
        market.value_utility = market.value_utility + p.promotion * self.member[None, :]
        bid0, offers0 = market.bid, market.offers
        member_bids = bid0 & self.member[None, :]
        fit = np.where(member_bids, market.value_utility, -np.inf)
        sectors = np.flatnonzero(member_bids.any(axis=1))
        matched = np.full(len(bid0), -1)
        matched[sectors] = fit[sectors].argmax(axis=1)
        bid = bid0 & ~self.member[None, :]           # non-members bid as before
        offers = np.where(bid, offers0, 0.0)
        rate = np.zeros(len(bid0))
        if p.offer_rule == "keep_region":
            withdrawn = market.value_utility + market.beta_subsidy * offers
            rate[sectors] = region_keeping_offer(
                withdrawn[sectors], matched[sectors], market.beta_subsidy, market.nest, target[sectors],
                model.trait_upper[SUBSIDY])
        else:
            rate[sectors] = common_offer(fit[sectors, matched[sectors]], market.outside, market.beta_subsidy,
                                         p.stay_target, model.trait_upper[SUBSIDY])
        bid[sectors, matched[sectors]] = True
        offers[sectors, matched[sectors]] = rate[sectors]
        secret = bid0 & self._outbidders(model)[None, :] & (offers0 > offers)
        market.bid = bid | secret
        market.offers = np.where(secret, offers0, offers)
        return Plan(matched, rate, secret, bid0.sum(axis=1), (market.bid & self.member[None, :]).sum(axis=1))

    def _outbidders(self, model) -> np.ndarray:
        """Members that outbid in secret this year, each with probability = its outbid trait."""
        if not self.params.outbidding:
            return np.zeros(model.n, dtype=bool)
        return self.member & (model.rng.random(model.n) < model.traits[:, model.vocabulary.trait("outbid")])

    def after_production(self, model) -> None:
        """Catch and fine outbidders, share the hosts' gains with the leads' bringers, pay the office."""
        if self.plan is None:
            return
        placement = model.placement
        self._count(placement)
        self._sanction(model, placement)
        self._share_leads(model, placement)
        cost = self.params.operating_cost * model.gdp * self.member
        self.pay("operating_cost", -cost, "investment")
        self.sink("operating", cost.sum())
        self.flows["operating_cost"] = float(cost.sum())

    def _count(self, pl) -> None:
        """Subsidies at members and elsewhere; bids the platform removed; members' duplicate bids."""
        placed = pl.host >= 0
        at_member = placed & self.member[np.maximum(pl.host, 0)]
        at_other = placed & ~at_member
        f = self.flows
        f["firms_members"], f["subsidy_members"] = float(at_member.sum()), float(pl.subsidy[at_member].sum())
        f["firms_others"], f["subsidy_others"] = float(at_other.sum()), float(pl.subsidy[at_other].sum())
        f["duplicate_bids_avoided"] = float((self.plan.bidders_before[pl.sector] - pl.n_bidders).sum())
        f["duplicate_bids_members"] = float(np.maximum(self.plan.member_bidders[pl.sector] - 1, 0).sum())

    def _sanction(self, model, pl) -> None:
        """Outbidders are caught with max(q_P, q_i); a caught one pays `sanction` x the subsidy it paid
        on secretly won firms to the other members (by GDP) and is excluded for T_ex years."""
        p = self.params
        outbidders = self.plan.secret.any(axis=0)
        self.flows["defections"] = float(outbidders.sum())
        self.city_stats["defections"] += outbidders
        if not outbidders.any():
            return
        caught = outbidders & (model.rng.random(model.n) < np.maximum(p.detection, model.detection))
        host = np.maximum(pl.host, 0)
        won_secretly = (pl.host >= 0) & self.plan.secret[pl.sector, host]
        secret_paid = np.bincount(host[won_secretly], weights=pl.subsidy[won_secretly], minlength=model.n)
        fine = p.sanction * secret_paid * caught
        others = self.member & ~caught
        if others.any():
            weight = model.gdp * others
            received = fine.sum() * weight / weight.sum()
        else:   # nobody left to compensate: the fine leaves the region
            received = np.zeros(model.n)
            self.sink("unallocated_fines", fine.sum())
        self.pay("fine", received - fine, "investment")
        self.excluded_until[caught] = model.year + p.exclusion_years
        self.flows.update(detections=float(caught.sum()), fines=float(fine.sum()),
                          exclusions=float(caught.sum()) if p.exclusion_years > 0 else 0.0)
        self.city_stats["detections"] += caught
        self.city_stats["fines"] += fine
        self.exclusion_rows += [{"year": model.year, "city": int(i), "name": str(model.names[i]),
                                 "fine": float(fine[i]), "excluded_through": model.year + p.exclusion_years}
                                for i in np.flatnonzero(caught)]

    def _share_leads(self, model, pl) -> None:
        """Each firm first contacted a city drawn with probability proportional to Y_i h_{i,s} (its
        sector's market there; our assumption); if that city is a member and the host another member,
        the host pays it psi x max(b v - subsidy, 0)."""
        firms = np.flatnonzero((pl.host >= 0) & self.member[np.maximum(pl.host, 0)])
        if len(firms) == 0:
            return
        contact = draw_by_weight(model.rng, model.gdp[:, None] * model.profile, pl.sector[firms])
        host = pl.host[firms]
        gain = model.params.firms.benefit_rate * pl.value[firms] - pl.subsidy[firms]
        shared = (contact != host) & self.member[contact]
        amount = np.where(shared, self.params.lead_share * np.maximum(gain, 0.0), 0.0)
        flows = (np.bincount(contact, weights=amount, minlength=model.n)
                 - np.bincount(host, weights=amount, minlength=model.n))
        self.pay("lead_share", flows, "investment")
        self.flows["lead_transfers"] = float(amount.sum())
        self.city_stats["leads_shared"] += np.bincount(contact[shared], minlength=model.n)
        self.city_stats["lead_net"] += flows

    # ------------------------------------------------------------------ outputs
    def observables(self) -> dict[str, float]:
        f = self.flows

        def per_firm(subsidy, count):
            return f[subsidy] / f[count] if f.get(count) else float("nan")

        return {"platform_members": int(self.member.sum()),
                "platform_subsidy_per_firm_members": per_firm("subsidy_members", "firms_members"),
                "platform_subsidy_per_firm_others": per_firm("subsidy_others", "firms_others"),
                **{f"platform_{k}": v for k, v in f.items()}}

    def summary(self, timeseries: pd.DataFrame) -> dict[str, Any]:
        firms = timeseries["platform_firms_members"].sum()
        subsidy = timeseries["platform_subsidy_members"].sum()
        return {"platform_members_final": int(self.member.sum()),
                "platform_members_mean": float(timeseries["platform_members"].mean()),
                "platform_defections_total": int(timeseries["platform_defections"].sum()),
                "platform_detections_total": int(timeseries["platform_detections"].sum()),
                "platform_subsidy_per_firm_mean": float(subsidy / firms) if firms else None,
                "platform_lead_transfers_total": float(timeseries["platform_lead_transfers"].sum())}

    def tables(self) -> dict[str, pd.DataFrame]:
        import pandas as pd

        columns = ("year", "city", "name", "fine", "excluded_through")
        exclusions = pd.DataFrame(self.exclusion_rows, columns=list(columns))
        cities = pd.DataFrame({"city": np.arange(self.model.n), "name": self.model.names,
                               **{k: v.copy() for k, v in self.city_stats.items()}})
        return {"platform_exclusions": exclusions, "platform_cities": cities}
