"""Mobile firms choosing where to locate: a nested logit over the region's cities and leaving.

The region's cities form one nest with dissimilarity lambda (McFadden 1978; Berry 1994): with
lambda < 1 a firm that considers the region compares its cities more closely with each other
than with leaving, so one common offer can hold the region's share where a plain logit
(lambda = 1, McFadden 1974, independence of irrelevant alternatives) cannot. Cities bid
subsidies for firms in the sectors they target, the setting of bidding for firms (Black & Hoyt
1989) and of tax competition (Zodrow & Mieszkowski 1986; Wilson 1986).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def inclusive_value(utility: np.ndarray, nest: float) -> np.ndarray:
    """I = lambda ln sum_j exp(U_j / lambda) per row: the value of the region's nest."""
    scaled = utility / nest
    top = scaled.max(axis=1)
    return nest * (top + np.log(np.exp(scaled - top[:, None]).sum(axis=1)))


def nested_choice_probabilities(utility: np.ndarray, outside: float, nest: float) -> np.ndarray:
    """Choice probabilities over the cities (one nest, dissimilarity ``nest``) plus leaving (last
    column): P(j) = P(region) exp(U_j / lambda) / sum_k exp(U_k / lambda), P(region) =
    1 / (1 + exp(U_0 - I)). With ``nest`` = 1 this is the conditional logit."""
    scaled = utility / nest
    within = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    within /= within.sum(axis=1, keepdims=True)
    stay = 1.0 / (1.0 + np.exp(np.clip(outside - inclusive_value(utility, nest), -700.0, 700.0)))
    return np.column_stack([within * stay[:, None], 1.0 - stay])


def best_response_offers(market: "Market", benefit_rate: float, sector_weights: np.ndarray) -> np.ndarray:
    """Each city's expected-profit-maximising subsidy rate, one rate for all the sectors it bids
    in, given the rivals' current offers (Black & Hoyt 1989; Brueckner 2003): from the first-order
    condition of sum_s w_s (b - s) P_is under the nested logit, where
    d ln P_is / dU_is = 1/lambda - (1/lambda - 1) P_{i|R,s} - P_is,
    s*_i = b - sum_s w_s P_is / (beta_S sum_s w_s P_is D_is). NaN for a city that bids nowhere."""
    utility = market.utility()
    probs = nested_choice_probabilities(utility, market.outside, market.nest)[:, :-1]   # (sectors, cities)
    within = probs / probs.sum(axis=1, keepdims=True)
    slope = 1.0 / market.nest - (1.0 / market.nest - 1.0) * within - probs
    weight = sector_weights[:, None] * probs * market.bid
    num, den = weight.sum(axis=0), (weight * slope).sum(axis=0) * market.beta_subsidy
    return np.where(num > 0, benefit_rate - np.divide(num, den, out=np.full(len(num), np.inf), where=den > 0),
                    np.nan)


def bidders(profiles: np.ndarray) -> np.ndarray:
    """(sectors, cities) mask of the cities that target each sector.

    Our assumption: a city bids for firms of a sector in which its share is at least the
    regional mean share, i.e. the sectors it counts as its own industries.
    """
    return (profiles >= profiles.mean(axis=0, keepdims=True)).T


@dataclass
class Market:
    """One year's market for mobile firms, (sectors x cities) arrays.

    ``value_utility`` is what a city offers a firm besides money (market access, cluster fit);
    ``offers`` the subsidy rates bid (share of firm value) and ``bid`` who bids at all.
    Institutions may rewrite ``offers`` and ``bid`` before firms choose.
    """

    value_utility: np.ndarray
    bid: np.ndarray
    offers: np.ndarray
    beta_subsidy: float
    outside: float
    nest: float = 1.0   # lambda, dissimilarity of the region's nest

    def utility(self) -> np.ndarray:
        return self.value_utility + self.beta_subsidy * self.offers


@dataclass(frozen=True)
class Placement:
    """Outcome of one year's location round; ``host`` is -1 for firms that left."""

    sector: np.ndarray
    value: np.ndarray
    host: np.ndarray
    subsidy: np.ndarray
    n_bidders: np.ndarray


def place_firms(rng, n_firms, sector_weights, value_mean, value_sigma, market: Market) -> Placement:
    """Draw firms and let each choose a host by the nested logit over the market's utilities.

    Firms of one sector face the same deterministic utilities, so probabilities are computed
    per sector and each firm is drawn by inverse-CDF sampling: O(sectors x cities + firms).
    """
    sector = rng.choice(len(sector_weights), size=n_firms, p=sector_weights)
    value = value_mean * rng.lognormal(-0.5 * value_sigma**2, value_sigma, size=n_firms)
    utility = market.utility()
    cdf = np.cumsum(nested_choice_probabilities(utility, market.outside, market.nest), axis=1)
    u = rng.random(n_firms) * cdf[sector, -1]
    choice = np.empty(n_firms, dtype=np.int64)
    for s in range(len(sector_weights)):
        of_s = sector == s
        choice[of_s] = np.searchsorted(cdf[s], u[of_s], side="right")
    n_cities = utility.shape[1]
    host = np.where(choice >= n_cities, -1, choice)
    placed = host >= 0
    rate = np.zeros(n_firms)
    rate[placed] = market.offers[sector[placed], host[placed]]
    return Placement(sector, value, host, rate * value, market.bid.sum(axis=1)[sector])
