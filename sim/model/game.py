"""The public-goods engine shared by the city model and the published-model reproductions.

A contribution made inside a group is multiplied by a synergy factor; the contributor keeps
a share and the rest is spread over the other members with given weights. Equal weights and
a kept share of 1/|g| give the classic public goods game of Szolnoki, Perc & Szabó (2009);
gravity weights give the city model's spillovers.
"""

from __future__ import annotations

import numpy as np

from sim.model.network import Groups


def fermi_probability(payoff_self: np.ndarray, payoff_model: np.ndarray, noise: float) -> np.ndarray:
    """Probability of adopting the model's strategy: 1 / (1 + exp((P_self - P_model) / K)).

    Szabó & Tőke (1998). Written with a clipped exponent so that tiny K never overflows.
    """
    z = np.clip((payoff_self - payoff_model) / noise, -700.0, 700.0)
    return 1.0 / (1.0 + np.exp(z))


def pair_weights(groups: Groups, raw: np.ndarray) -> np.ndarray:
    """Normalise raw pair weights so that each contributor's spill-over shares sum to one."""
    totals = np.bincount(groups.pair_src, weights=raw, minlength=len(groups.mem_city))
    return raw / totals[groups.pair_src]


def public_good_returns(
    groups: Groups,
    contribution: np.ndarray,
    synergy: float,
    kept_share: float | np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """Benefit each player receives from the contributions made in all its groups.

    ``contribution`` is per membership; ``weights`` per ordered pair (normalised per
    contributor). Members of one-member groups keep everything they create.
    """
    created = synergy * contribution
    alone = groups.size[groups.mem_group] == 1
    kept = np.where(alone, 1.0, kept_share) * created
    spilled = (created - kept)[groups.pair_src] * weights
    return groups.player_sum(kept) + np.bincount(
        groups.mem_city[groups.pair_dst], weights=spilled, minlength=groups.n
    )
