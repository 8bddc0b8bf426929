"""The agglomeration model: cities cooperating and competing, one step per year.

``CityModel.step`` reads top to bottom as the yearly schedule of docs/ODD.md section 3
("Process overview and scheduling"). Per-city state lives in NumPy arrays on
the model; ``City`` agents are views onto their rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim import interrupts
from sim.mechanisms import registry
from sim.model import decisions, firms, industry
from sim.model.city import City
from sim.errors import ConfigError
from sim.model.cooperation import cooperation_round
from sim.model.game import pair_weights
from sim.model.learning import RULES, LearningState
from sim.model.metrics import core_periphery_ratio, gini, theil
from sim.model.network import (Edges, Groups, circle_blocks, cosine_similarity_rows, ego_groups,
                         gravity_partners, great_circle_km, unit_vectors)
from sim.model.recorder import Recorder
from sim.model.reputation import Reputation
from sim.model.traits import INVESTMENT, SUBSIDY, Vocabulary
from sim.model.upper_government import RiverPacts, attention
from sim.data import Region
from sim.data.river_pacts import river_pacts
from sim.config.schema import DOMAINS, ModelConfig, as_dataclass

D = len(DOMAINS)


@dataclass(frozen=True)
class GroupSet:
    """Groups plus their pairs' distances and trust-edge indices, built once per change."""

    groups: Groups
    pair_km: np.ndarray
    pair_edge: np.ndarray


class CityModel(mesa.Model):
    """Cities of one region under zero or more coordination mechanisms."""

    def __init__(self, cfg, region: Region) -> None:
        super().__init__(rng=int(cfg.seed))
        self.cfg = cfg
        # Plain dataclasses: attribute access on OmegaConf nodes costs ~50 us, which the
        # yearly loop would otherwise pay thousands of times.
        self.params = as_dataclass(cfg.model, ModelConfig)
        self.region = region
        self.start_year = self.year = int(cfg.start_year)
        self._init_cities(region.cities)
        self._init_network()
        self._init_profiles_and_traits()
        self.river_pacts = RiverPacts(river_pacts(self.names if self.params.upper.river_pacts else []),
                                      DOMAINS.index("ecology"))
        self.recorder = Recorder(self)
        self.mechanisms = [cls(self, as_dataclass(params, cls.schema) if cls.schema else params)
                           for cls, params in self._selected_mechanisms(cfg)]

    # ----------------------------------------------------------------- set-up
    def _init_cities(self, table) -> None:
        self.n = len(table)
        self.names = table["name"].to_numpy(dtype=object)
        # Resident population follows each city's 2010-2020 census trend (exponential through both
        # censuses), so per-capita values use the same year's GDP and population.
        self.population_2020 = table["population"].to_numpy(dtype=float)
        self.population_trend = np.log(self.population_2020 / table["population_2010"].to_numpy(dtype=float)) / 10
        self.gdp = table["gdp"].to_numpy(dtype=float).copy()   # 2015 GDP, whatever the start year
        self.secondary_share = table["secondary_share"].to_numpy(dtype=float) / 100
        self.population = self.population_in(self.start_year)
        self.core = table["core"].to_numpy(dtype=bool)
        self.lat = table["lat"].to_numpy(dtype=float)
        self.lon = table["lon"].to_numpy(dtype=float)
        self.province_code = np.unique(table["province"], return_inverse=True)[1]
        circles = table["circle"].to_numpy(dtype=object)
        codes = np.unique(circles, return_inverse=True)[1]
        self.circle_code = np.where(circles == "", -1, codes)
        self.cities = [City(self, i, name, province, circle) for i, (name, province, circle)
                       in enumerate(zip(self.names, table["province"], circles))]

    def _init_network(self) -> None:
        net = self.params.network
        self.xyz = unit_vectors(self.lat, self.lon)
        self.partners, self.partner_km = gravity_partners(
            self.xyz, self.gdp, net.partners, net.gamma, net.min_distance_km)
        groups = ego_groups(self.partners)
        if net.circle_groups:
            groups = groups.with_groups(circle_blocks(self.circle_code))
        self.edges = Edges(self.n, np.ones(self.n))   # reputations set with the traits (_init_reputation)
        self.base_groups = self.group_set(groups)
        self.domain_groups = [self.base_groups] * D
        max_lag = max(getattr(self.params.domains, d).lag for d in DOMAINS)
        self.pending = np.zeros((D, max_lag + 1, self.n))   # benefits maturing, by domain and year

    @staticmethod
    def _selected_mechanisms(cfg):
        """(class, parameters) of each selected mechanism, in the order selected; ``none`` is the baseline."""
        selected = dict(cfg.get("mechanism") or {})
        return [(registry.get(name), params) for name, params in selected.items() if name != "none"]

    def _init_profiles_and_traits(self) -> None:
        """Industry profiles from the secondary share (sim/model/industry.py), then the traits."""
        fc, tr = self.params.firms, self.params.traits
        self.profile = industry.profiles(self.rng, self.province_code, self.secondary_share, fc.sectors,
                                         fc.profile_concentration)
        self.vocabulary = Vocabulary.of(registry.traits(), registry.areas())
        means = self.vocabulary.means(self.params)
        self.trait_upper = self.vocabulary.upper(self.params)
        noise = self.rng.normal(0.0, tr.spread, (self.n, len(means))) * self.trait_upper
        self.traits = np.clip(means + noise, 0.0, self.trait_upper)
        self.trait_names = self.vocabulary.names
        self.learned_areas, self.trait_area = self.vocabulary.judging_areas()
        self.area_payoff = np.zeros((self.n, len(self.vocabulary.areas)))
        self.payoff_norm = np.zeros(self.n)
        self.fiscal_balance = np.zeros(self.n)
        self._init_reputation()

    def _init_reputation(self) -> None:
        """Reputations start at their steady state: a city's expected implementation rate as a
        party, its mean implement disposition, held as one year's worth of evidence."""
        self.reputation = Reputation(self.traits[:, D:2 * D].mean(axis=1))
        self.edges.reputation = self.reputation.estimate()

    # ----------------------------------------------------------------- derived state
    def population_in(self, year: int) -> np.ndarray:
        """P_i(t) = P_i(2020) exp(trend_i (t - 2020)), trend_i = ln(P_2020 / P_2010) / 10."""
        return self.population_2020 * np.exp(self.population_trend * (year - 2020))

    def partner_weight(self) -> np.ndarray:
        """Gravity weight of each of a city's partners, Y_j / d_ij^gamma (rows sum to one)."""
        w = self.gdp[self.partners] / self.partner_km ** self.params.network.gamma
        return w / w.sum(axis=1, keepdims=True)

    def similarity(self) -> np.ndarray:
        """sigma_i: gravity-weighted mean industrial similarity to a city's partners."""
        n, k = self.partners.shape
        own = np.repeat(self.profile, k, axis=0)
        sims = cosine_similarity_rows(own, self.profile[self.partners.ravel()]).reshape(n, k)
        return (sims * self.partner_weight()).sum(axis=1)

    def trust_by_city(self) -> np.ndarray:
        """Mean trust of each city in the cities it shares (or has shared) a group with."""
        return self.edges.mean_trust_by_city()

    def city_mask(self, names, key: str, instead: str) -> np.ndarray:
        """Cities named in a config list; an unknown name is a configuration error naming ``key``."""
        unknown = sorted(set(names) - set(self.names))
        if unknown:
            raise ConfigError(
                f"{key} lists cities that are not in region {self.region.name}: {', '.join(unknown)}. "
                f"Use names from the region's 'name' column (e.g. '{self.names[0]}'), or {instead}.")
        return np.isin(self.names, list(names))

    def group_set(self, groups: Groups, known: GroupSet | None = None) -> GroupSet:
        """Groups with what the yearly rounds need precomputed: pair distances and edge indices.
        ``known`` holds the first groups' pairs (``Groups.with_groups`` keeps them first and in
        order), so a forum year computes only its new groups' pairs, not the whole region's."""
        first = len(known.pair_km) if known else 0
        src, dst = groups.mem_city[groups.pair_src[first:]], groups.mem_city[groups.pair_dst[first:]]
        km = np.maximum(great_circle_km(self.xyz[src], self.xyz[dst]), self.params.network.min_distance_km)
        edge = self.edges.index(src, dst)
        if known:
            km, edge = np.concatenate([known.pair_km, km]), np.concatenate([known.pair_edge, edge])
        return GroupSet(groups, km, edge)

    def set_domain_groups(self, domains, extra: list[np.ndarray]) -> None:
        """Let an institution give some domains' cooperation rounds the base groups plus
        ``extra`` (member arrays); the group set is built once and shared by those domains."""
        groups = (self.group_set(self.base_groups.groups.with_groups(extra), self.base_groups) if extra
                  else self.base_groups)
        for d in domains:
            self.domain_groups[d] = groups

    # ----------------------------------------------------------------- the year
    def step(self) -> None:
        """One year, in the order of docs/ODD.md section 3."""
        self.ledger: dict[str, float] = {}
        self.last_area_payoff = self.area_payoff / self.gdp[:, None]  # last year's, normalised
        self.area_payoff = np.zeros_like(self.area_payoff)
        self.value_added = np.zeros(self.n)
        self.fiscal_flow = np.zeros(self.n)
        self.reset_levers()                                                 # 1. exogenous drivers
        for mechanism in self.mechanisms:                                   # 2. institutions act first
            mechanism.before_round(self)
        self.cooperate()                                                    # 3. cooperation round
        self.attract_investment()                                           # 4. firms choose hosts
        for mechanism in self.mechanisms:                                   # 5. parks, transfers, checks
            mechanism.after_production(self)
        self.account_and_grow()                                             # 6. accounting and growth
        self.learn()                                                        # 7. strategy revision
        self.update_trust()                                                 # 8. trust
        self.recorder.record_year()
        self.year += 1

    def reset_levers(self) -> None:
        """This year's attention A(t) and the baseline values of what institutions may change:
        each city's attention, detection probability q, implementation-cost factor, commitments
        to sign and the share of its implementation cost an institution refunds."""
        self.attention_now = attention(self.year, self.params.attention)
        self.population = self.population_in(self.year)
        self.attention_city = np.full(self.n, self.attention_now)
        self.detection = np.full(self.n, self.params.enforcement.detection)
        self.cost_factor = np.ones((self.n, D))
        self.committed = np.zeros((self.n, D), dtype=bool)   # signs this year whatever its disposition
        self.cofunding = np.zeros((self.n, D))               # share of its cost an institution refunds
        self.negotiation_factor = np.ones((self.n, D))       # f^N: what a council's coordination cuts
        self.implement_bonus = np.zeros((self.n, D))         # transfers contingent on implementing
        self.river_pacts.set_levers(self, self.params.domains.ecology.cost)
        # Set by a council (three_tier) for the other institutions to read: who is a member,
        # and the enclave sharing rule its coordination layer fixes for members' parks.
        self.council = np.zeros(self.n, dtype=bool)
        self.council_sharing_rule: str | None = None

    def credit(self, account: str, per_city: np.ndarray, area: int, kind: str = "value") -> None:
        """Add a payoff component to every city, to its policy area and to the year's ledger.

        ``kind`` says what it is (docs/ODD.md 7.7): ``value`` (value added and the resources it
        uses: the only kind that grows GDP), ``fiscal`` (a transfer between budgets, firms and
        the upper government: subsidies, grants, dues, fines, rebates, shared revenue) or
        ``political`` (credit and sanctions in officials' assessment, no money). All three count
        for the officials who learn.
        """
        self.area_payoff[:, area] += per_city
        if kind == "value":
            self.value_added += per_city
        elif kind == "fiscal":
            self.fiscal_flow += per_city
        elif kind != "political":
            raise ValueError(f"unknown payoff kind {kind!r}: value, fiscal or political")
        self.ledger[account] = self.ledger.get(account, 0.0) + float(per_city.sum())

    @property
    def payoff(self) -> np.ndarray:
        """Pi_i: this year's total payoff (sum over policy areas).

        Summed area by area, left to right, so that an area nobody was paid in (that of an
        installed but unselected mechanism) changes no bit; numpy's sum switches to pairwise
        blocks from eight columns on."""
        total = self.area_payoff[:, 0].copy()
        for column in self.area_payoff.T[1:]:
            total += column
        return total

    def cooperate(self) -> None:
        p = self.params
        similarity = self.similarity()
        trust = self.trust_by_city()
        peers = self.province_code if p.upper.assessment == "relative" else None
        self.outcomes = {}
        for d, name in enumerate(DOMAINS):
            domain = getattr(p.domains, name)
            gs = self.domain_groups[d]
            raw = self.gdp[gs.groups.mem_city[gs.groups.pair_dst]] / gs.pair_km ** p.network.gamma
            marked_up = 1.0 + domain.rivalry * similarity
            now = decisions.Levers(p.attention.credit * self.attention_city / domain.cost, self.detection,
                                   marked_up * self.cost_factor[:, d], domain.grant, p.enforcement.sanction,
                                   self.cofunding[:, d], domain.negotiation * self.negotiation_factor[:, d],
                                   self.implement_bonus[:, d])
            reference = decisions.Levers(p.attention.credit * p.attention.base / domain.cost,
                                         p.enforcement.detection, marked_up, 0.0, p.enforcement.sanction,
                                         negotiation=domain.negotiation)
            sign, implement = decisions.probabilities(self.traits[:, d] * trust, self.traits[:, D + d], now,
                                                      reference, p.decisions.intensity)
            sign = np.where(self.committed[:, d], 1.0, sign)
            out = cooperation_round(self.rng, gs.groups, self.gdp, sign, implement, domain,
                                    pair_weights(gs.groups, raw), now, peers)
            self.pending[d, (self.year + domain.lag) % self.pending.shape[1]] += out.benefit
            self.credit("negotiation_cost", -out.negotiation, d)
            self.credit("cooperation_cost", -out.cost, d)
            self.credit("grant", out.grant, d, kind="fiscal")
            self.credit("political_credit", out.credit, d, kind="political")
            self.credit("sanction", -out.sanction, d, kind="political")
            self.ledger["benefit_created"] = self.ledger.get("benefit_created", 0.0) + out.created
            self.edges.strength += np.bincount(gs.pair_edge[out.joint_pairs], minlength=len(self.edges))
            self.outcomes[name] = out
        self.river_pacts.settle(self, self.outcomes["ecology"].implemented)

    def attract_investment(self) -> None:
        """Firms arrive and choose a host (or leave) by nested logit; institutions may reshape offers first."""
        fc = self.params.firms
        gamma = self.params.network.gamma
        access = (self.gdp / self.params.network.min_distance_km ** gamma
                  + (self.gdp[self.partners] / self.partner_km ** gamma).sum(axis=1))
        bid = firms.bidders(self.profile)
        weights = (self.gdp[:, None] * self.profile).sum(axis=0)
        self.market = firms.Market(
            value_utility=fc.beta_market * np.log(access / access.mean())[None, :] + fc.beta_cluster * self.profile.T,
            bid=bid, offers=bid * self.traits[:, SUBSIDY][None, :], beta_subsidy=fc.beta_subsidy,
            # Leaving is valued against the region as a whole: u_0 + lambda ln N keeps the lost
            # share independent of the number of cities (our assumption).
            outside=fc.outside_utility + fc.nest * np.log(self.n), nest=fc.nest)
        for mechanism in self.mechanisms:
            mechanism.before_investment(self, self.market)
        self.placement = firms.place_firms(
            self.rng, self.rng.poisson(fc.per_city * self.n), weights / weights.sum(),
            fc.value_share * self.gdp.mean(), fc.value_sigma, self.market)
        # Each city's best reply to this year's rival offers, on the market of independent bids.
        self.best_response = firms.best_response_offers(
            firms.Market(self.market.value_utility, bid, bid * self.traits[:, SUBSIDY][None, :],
                         fc.beta_subsidy, self.market.outside, fc.nest),
            fc.benefit_rate, weights / weights.sum())
        placed = self.placement.host >= 0
        hosts = self.placement.host[placed]
        value = self.placement.value[placed]
        self.credit("firm_benefit", np.bincount(hosts, weights=fc.benefit_rate * value, minlength=self.n),
                    INVESTMENT)
        self.credit("subsidy", -np.bincount(hosts, weights=self.placement.subsidy[placed], minlength=self.n),
                    INVESTMENT, kind="fiscal")

    def account_and_grow(self) -> None:
        """Pay matured cooperation benefits, then Y(t+1) = Y(t)(1 + g0 + phi pi + eps), where
        pi is the value added as a share of GDP: transfers move budgets (the fiscal account),
        political payoffs move officials, neither grows GDP."""
        slot = self.year % self.pending.shape[1]
        for d in range(D):
            self.credit("benefit_received", self.pending[d, slot].copy(), d)
        self.pending[:, slot] = 0.0
        self.fiscal_balance = self.fiscal_balance + self.fiscal_flow
        g = self.params.growth
        self.payoff_norm = self.value_added / self.gdp
        shock = self.rng.normal(0.0, g.noise, self.n)
        # g0 + phi pi is growth per head; output also grows with the resident population (one for
        # one: constant returns to labour, our assumption). The factor is floored at 0.5 so GDP stays
        # positive (our assumption).
        per_head = 1.0 + g.base_rate + g.payoff_elasticity * self.payoff_norm + shock
        factor = np.maximum(per_head * np.exp(self.population_trend), 0.5)
        self.gdp_before = self.gdp.copy()
        self.gdp = self.gdp * factor

    def learn(self) -> None:
        took = np.zeros_like(self.traits, dtype=bool)
        observed = np.zeros_like(took)
        for d, name in enumerate(DOMAINS):
            out = self.outcomes[name]
            took[:, d], observed[:, d] = out.signed, True
            took[:, D + d], observed[:, D + d] = out.implemented, out.party
        state = LearningState(self.traits, self.trait_upper,
                              self.area_payoff[:, self.learned_areas] / self.gdp_before[:, None],
                              self.trait_area, self.partners, self.partner_weight(), took, observed)
        rule = self.params.learning.rule
        offered = self.traits[:, SUBSIDY].copy()
        self.traits = RULES[rule](self.rng, state, self.params.learning)
        self.adjust_subsidies(offered)

    def adjust_subsidies(self, offered: np.ndarray) -> None:
        """Subsidies move a share alpha of the way to the best response to rivals' offers (partial
        adjustment: Brueckner 2003); with alpha = 0 they are imitated like the other traits."""
        alpha = self.params.firms.adjustment
        if alpha == 0:
            return
        target = np.clip(np.where(np.isnan(self.best_response), offered, self.best_response),
                         0.0, self.trait_upper[SUBSIDY])
        self.traits[:, SUBSIDY] = offered + alpha * (target - offered)

    def update_trust(self) -> None:
        """Reputations take this year's evidence (detection-aware: docs/ODD.md 7.9); pairwise
        penalties (a reneging host) fade at the same rate."""
        rate = self.params.trust.rate
        self.reputation.update(self.outcomes.values(), self.detection, rate)
        self.edges.factor = (1 - rate) * self.edges.factor + rate
        self.edges.reputation = self.reputation.estimate()

    def lower_trust(self, truster: np.ndarray, trusted: np.ndarray, factor: float) -> None:
        """Institutions' penalties on pairwise trust (e.g. a reneging host): T_ij <- factor * T_ij."""
        idx = self.edges.index(np.asarray(truster), np.asarray(trusted))
        self.edges.factor[idx] *= factor

    # ----------------------------------------------------------------- observables
    def inequality(self, gdp: np.ndarray) -> dict[str, float]:
        """Theil (split between and within circles; cities outside circles form one group), Gini, core/periphery."""
        circle = np.where(self.circle_code >= 0, self.circle_code + 1, 0)
        total, between, within = theil(gdp, self.population, circle)
        return {
            "theil": total, "theil_between_circles": between, "theil_within_circles": within,
            "gini": gini(gdp / self.population, self.population),
            "core_periphery_ratio": core_periphery_ratio(gdp, self.population, self.core),
        }

    def run(self) -> Recorder:
        for _ in range(int(self.cfg.years)):
            self.step()
            interrupts.check()   # a Ctrl-C that a finalizer swallowed still stops the run here
        return self.recorder
