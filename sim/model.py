"""The agglomeration model: cities cooperating and competing, one step per year.

``CityModel.step`` reads top to bottom as the yearly schedule of DESIGN.md section 3 and
docs/ODD.md ("Process overview and scheduling"). Per-city state lives in NumPy arrays on
the model; ``City`` agents are views onto their rows.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim import firms, mechanisms
from sim.city import City
from sim.cooperation import cooperation_round
from sim.game import pair_weights
from sim.learning import RULES, LearningState
from sim.metrics import core_periphery_ratio, gini, theil
from sim.network import (circle_blocks, cosine_similarity_rows, ego_groups, gravity_partners,
                         great_circle_km, unique_edges, unit_vectors)
from sim.recorder import Recorder
from sim.regions import Region
from sim.schema import DOMAINS

D = len(DOMAINS)
TRAIT_NAMES = (*(f"sign_{d}" for d in DOMAINS), *(f"implement_{d}" for d in DOMAINS), "subsidy", "enclave")
SUBSIDY, ENCLAVE = 2 * D, 2 * D + 1
# Policy areas whose payoffs are kept apart for learning: the five domains, investment, enclaves.
AREAS = (*DOMAINS, "investment", "enclave")
INVESTMENT, ENCLAVE_AREA = D, D + 1
TRAIT_AREA = np.array([*range(D), *range(D), INVESTMENT, ENCLAVE_AREA])


def attention(year: int, cfg) -> float:
    """A(t): a pulse of upper-government attention at the plan year decaying with tau_A."""
    if year < cfg.plan_year:
        return cfg.base
    return cfg.base + cfg.pulse * np.exp(-(year - cfg.plan_year) / cfg.decay_years)


class CityModel(mesa.Model):
    """Cities of one region under zero or more coordination mechanisms."""

    def __init__(self, cfg, region: Region) -> None:
        super().__init__(rng=int(cfg.seed))
        self.cfg = cfg
        self.params = cfg.model
        self.region = region
        self.year = int(cfg.start_year)
        self._init_cities(region.cities)
        self._init_network()
        self._init_profiles_and_traits()
        self.recorder = Recorder(self)
        self.mechanisms = mechanisms.build(self, dict(cfg.get("mechanism") or {}))

    # ----------------------------------------------------------------- set-up
    def _init_cities(self, table) -> None:
        self.n = len(table)
        self.names = table["name"].to_numpy(dtype=object)
        self.gdp = table["gdp"].to_numpy(dtype=float).copy()
        self.population = table["population"].to_numpy(dtype=float)
        self.core = table["core"].to_numpy(dtype=bool)
        self.lat = table["lat"].to_numpy(dtype=float)
        self.lon = table["lon"].to_numpy(dtype=float)
        self.province_code = np.unique(table["province"], return_inverse=True)[1]
        circles = table["circle"].to_numpy(dtype=object)
        codes = np.unique(circles, return_inverse=True)[1]
        self.circle_code = np.where(circles == "", -1, codes)
        self.cities = [City(self, i, table["name"][i], table["province"][i], table["circle"][i])
                       for i in range(self.n)]

    def _init_network(self) -> None:
        net = self.params.network
        self.xyz = unit_vectors(self.lat, self.lon)
        self.partners, self.partner_km = gravity_partners(
            self.xyz, self.gdp, net.partners, net.gamma, net.min_distance_km)
        groups = ego_groups(self.partners)
        if net.circle_groups:
            groups = groups.with_groups(circle_blocks(self.circle_code))
        self.groups = groups
        src, dst = groups.mem_city[groups.pair_src], groups.mem_city[groups.pair_dst]
        self.pair_km = np.maximum(great_circle_km(self.xyz[src], self.xyz[dst]), net.min_distance_km)
        self.edge_src, self.edge_dst, self.pair_edge = unique_edges(groups)
        self.trust = np.full(len(self.edge_src), self.params.trust.initial)
        self.link_strength = np.zeros(len(self.edge_src))
        max_lag = max(getattr(self.params.domains, d).lag for d in DOMAINS)
        self.pending = np.zeros((D, max_lag + 1, self.n))   # benefits maturing, by domain and year

    def _init_profiles_and_traits(self) -> None:
        """Industry profiles cluster by province (our assumption: similar provincial structures)."""
        fc, tr = self.params.firms, self.params.traits
        n_prov = self.province_code.max() + 1
        templates = self.rng.dirichlet(np.ones(fc.sectors), size=n_prov)
        alpha = fc.profile_concentration * templates[self.province_code] + 1e-3
        draws = self.rng.gamma(alpha)  # Dirichlet rows by normalised gamma draws
        self.profile = draws / draws.sum(axis=1, keepdims=True)
        means = np.array([tr.sign] * D + [tr.implement] * D + [tr.subsidy, tr.enclave])
        self.trait_upper = np.array([1.0] * (2 * D) + [fc.subsidy_max, 1.0])
        noise = self.rng.normal(0.0, tr.spread, (self.n, len(means))) * self.trait_upper
        self.traits = np.clip(means + noise, 0.0, self.trait_upper)
        self.trait_names = TRAIT_NAMES
        self.area_payoff = np.zeros((self.n, len(AREAS)))
        self.payoff_norm = np.zeros(self.n)

    # ----------------------------------------------------------------- derived state
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
        """Mean trust of each city in the partners it shares a group with."""
        total = np.bincount(self.edge_src, weights=self.trust, minlength=self.n)
        count = np.bincount(self.edge_src, minlength=self.n)
        return np.divide(total, count, out=np.full(self.n, self.params.trust.initial), where=count > 0)

    # ----------------------------------------------------------------- the year
    def step(self) -> None:
        """One year, in the order of DESIGN.md section 3."""
        self.ledger: dict[str, float] = {}
        self.area_payoff = np.zeros((self.n, len(AREAS)))
        self.attention_now = attention(self.year, self.params.attention)   # 1. exogenous drivers
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

    def credit(self, account: str, per_city: np.ndarray, area: int) -> None:
        """Add a payoff component to every city, to its policy area and to the year's ledger."""
        self.area_payoff[:, area] += per_city
        self.ledger[account] = self.ledger.get(account, 0.0) + float(per_city.sum())

    @property
    def payoff(self) -> np.ndarray:
        """Pi_i: this year's total payoff (sum over policy areas)."""
        return self.area_payoff.sum(axis=1)

    def cooperate(self) -> None:
        p = self.params
        similarity = self.similarity()
        raw = self.gdp[self.groups.mem_city[self.groups.pair_dst]] / self.pair_km ** p.network.gamma
        weights = pair_weights(self.groups, raw)
        trust = self.trust_by_city()
        self.outcomes = {}
        for d, name in enumerate(DOMAINS):
            domain = getattr(p.domains, name)
            out = cooperation_round(
                self.rng, self.groups, self.gdp, self.traits[:, d] * trust, self.traits[:, D + d],
                similarity, domain, weights, self.attention_now, p.attention.credit,
                self.detection_probability(), p.enforcement.sanction)
            self.pending[d, (self.year + domain.lag) % self.pending.shape[1]] += out.benefit
            self.credit("cooperation_cost", -out.cost, d)
            self.credit("political_credit", out.credit, d)
            self.credit("sanction", -out.sanction, d)
            self.ledger["benefit_created"] = self.ledger.get("benefit_created", 0.0) + out.created
            self.link_strength += np.bincount(self.pair_edge[out.joint_pairs], minlength=len(self.trust))
            self.outcomes[name] = out

    def detection_probability(self) -> float:
        """q: the chance that signing without implementing is found out (institutions raise it)."""
        return self.params.enforcement.detection

    def attract_investment(self) -> None:
        fc = self.params.firms
        k_gamma = self.params.network.gamma
        access = (self.gdp / self.params.network.min_distance_km ** k_gamma
                  + (self.gdp[self.partners] / self.partner_km ** k_gamma).sum(axis=1))
        bid = firms.bidders(self.profile)
        offers = bid * self.traits[:, SUBSIDY][None, :]
        utility = (fc.beta_market * np.log(access / access.mean())[None, :]
                   + fc.beta_cluster * self.profile.T + fc.beta_subsidy * offers)
        # Leaving is valued against the region as a whole: u_0 + ln N keeps the lost share
        # independent of the number of cities (our assumption).
        outside = fc.outside_utility + np.log(self.n)
        weights = (self.gdp[:, None] * self.profile).sum(axis=0)
        self.placement = firms.place_firms(
            self.rng, self.rng.poisson(fc.per_city * self.n), weights / weights.sum(),
            fc.value_share * self.gdp.mean(), fc.value_sigma, utility, offers, bid, outside)
        placed = self.placement.host >= 0
        hosts = self.placement.host[placed]
        value = self.placement.value[placed]
        self.credit("firm_benefit", np.bincount(hosts, weights=fc.benefit_rate * value, minlength=self.n),
                    INVESTMENT)
        self.credit("subsidy", -np.bincount(hosts, weights=self.placement.subsidy[placed], minlength=self.n),
                    INVESTMENT)

    def account_and_grow(self) -> None:
        """Pay matured cooperation benefits, then Y(t+1) = Y(t)(1 + g0 + phi pi + eps)."""
        slot = self.year % self.pending.shape[1]
        for d in range(D):
            self.credit("benefit_received", self.pending[d, slot].copy(), d)
        self.pending[:, slot] = 0.0
        g = self.params.growth
        self.payoff_norm = self.payoff / self.gdp
        shock = self.rng.normal(0.0, g.noise, self.n)
        # Our assumption: the yearly growth factor is floored at 0.5 so GDP stays positive.
        factor = np.maximum(1.0 + g.base_rate + g.payoff_elasticity * self.payoff_norm + shock, 0.5)
        self.gdp_before = self.gdp.copy()
        self.gdp = self.gdp * factor

    def learn(self) -> None:
        took = np.zeros_like(self.traits, dtype=bool)
        observed = np.zeros_like(took)
        for d, name in enumerate(DOMAINS):
            out = self.outcomes[name]
            took[:, d], observed[:, d] = out.signed, True
            took[:, D + d], observed[:, D + d] = out.implemented, out.party
        state = LearningState(self.traits, self.trait_upper, self.area_payoff / self.gdp_before[:, None],
                              TRAIT_AREA, self.partners, self.partner_weight(), took, observed)
        rule = self.params.learning.rule
        self.traits = RULES[rule](self.rng, state, self.params.learning)

    def update_trust(self) -> None:
        """T_ij moves towards the share of j's commitments this year that i saw honoured."""
        honoured = sum(out.implemented.astype(float) for out in self.outcomes.values())
        caught = sum(out.detected.astype(float) for out in self.outcomes.values())
        seen = honoured + caught
        evidence = np.divide(honoured, seen, out=np.zeros(self.n), where=seen > 0)
        move = (seen > 0)[self.edge_dst]
        rate = self.params.trust.rate
        self.trust = np.where(move, (1 - rate) * self.trust + rate * evidence[self.edge_dst], self.trust)

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
        return self.recorder
