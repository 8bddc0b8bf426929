"""Mobile firms choosing where to locate: a conditional logit over cities and leaving.

McFadden (1974) conditional logit; cities bid subsidies for firms in the sectors they
target, the setting of bidding for firms (Black & Hoyt 1989) and of tax competition
(Zodrow & Mieszkowski 1986; Wilson 1986).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def logit_choice_probabilities(utility: np.ndarray, outside: float) -> np.ndarray:
    """Choice probabilities over options plus an outside option (last column).

    ``utility`` has one row per decision maker (or firm type) and one column per option.
    Computed with the max-subtraction trick so that large utilities do not overflow.
    """
    full = np.column_stack([utility, np.full(len(utility), outside)])
    full = full - full.max(axis=1, keepdims=True)
    expu = np.exp(full)
    return expu / expu.sum(axis=1, keepdims=True)


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
    """Draw firms and let each choose a host by the logit over the market's utilities.

    Firms of one sector face the same deterministic utilities, so probabilities are computed
    per sector and each firm is drawn by inverse-CDF sampling: O(sectors x cities + firms).
    """
    sector = rng.choice(len(sector_weights), size=n_firms, p=sector_weights)
    value = value_mean * rng.lognormal(-0.5 * value_sigma**2, value_sigma, size=n_firms)
    utility = market.utility()
    cdf = np.cumsum(logit_choice_probabilities(utility, market.outside), axis=1)
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
