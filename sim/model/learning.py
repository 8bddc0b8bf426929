"""How cities revise their strategy traits each year: a registry of learning rules.

Traits are the columns of one (cities x traits) array with per-column upper bounds, so that
imitation copies whole rows and mutation is one vectorised draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from sim.model.game import fermi_probability


@dataclass(frozen=True)
class LearningState:
    """What a learning rule may look at.

    ``payoff[i, a]`` is city i's normalised payoff in policy area a and ``trait_area[t]`` the
    area of trait t: each area's traits are judged by that area's payoff (our assumption:
    a city's bureaus learn from their counterparts' results, not from total income).
    ``took[i, t]`` says whether city i took the action that trait t is the propensity of,
    ``observed[i, t]`` whether it had the chance this year (implementing needs signing);
    continuous traits (subsidy, enclave willingness) are never observed actions.
    """

    traits: np.ndarray
    upper: np.ndarray
    payoff: np.ndarray
    trait_area: np.ndarray
    partners: np.ndarray
    partner_weight: np.ndarray
    took: np.ndarray
    observed: np.ndarray


def _mutate(rng, traits, revising, upper, rate, sd):
    hit = revising[:, None] & (rng.random(traits.shape) < rate)
    noise = rng.normal(0.0, sd, traits.shape)
    return np.clip(np.where(hit, traits + noise * upper, traits), 0.0, upper)


def reference_partner(rng, partners: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """One partner per city, drawn with probability proportional to gravity weight."""
    cum = np.cumsum(weight, axis=1)
    u = rng.random(len(partners)) * cum[:, -1]
    col = np.minimum((cum < u[:, None]).sum(axis=1), partners.shape[1] - 1)
    return partners[np.arange(len(partners)), col]


def fermi_imitation(rng, state: LearningState, cfg) -> np.ndarray:
    """Copy a gravity-chosen partner's traits with the Fermi probability (Szabó & Tőke 1998),
    area by area: the traits of area a are adopted with probability from the area-a payoffs."""
    n = len(state.payoff)
    revising = rng.random(n) < cfg.revision_rate
    ref = reference_partner(rng, state.partners, state.partner_weight)
    p = fermi_probability(state.payoff, state.payoff[ref], cfg.noise)
    adopt = revising[:, None] & (rng.random(p.shape) < p)
    traits = np.where(adopt[:, state.trait_area], state.traits[ref], state.traits)
    return _mutate(rng, traits, revising, state.upper, cfg.mutation_rate, cfg.mutation_sd)


def bush_mosteller(rng, state: LearningState, cfg) -> np.ndarray:
    """Aspiration-based reinforcement (Bush & Mosteller 1955; Macy & Flache 2002).

    A satisfied city makes the action it took more likely, a dissatisfied one less likely;
    for continuous traits (no action taken) a dissatisfied city tries a random change
    (win-stay, lose-shift). Each trait's stimulus comes from its own area's payoff.
    """
    n = len(state.payoff)
    revising = rng.random(n) < cfg.revision_rate
    stimulus = np.tanh(cfg.sensitivity * (state.payoff - cfg.aspiration))[:, state.trait_area]
    p = state.traits / state.upper
    p_action = np.where(state.took, p, 1.0 - p)
    change = np.where(stimulus >= 0, (1.0 - p_action), p_action) * cfg.step * stimulus
    p_action = p_action + change
    reinforced = np.where(state.took, p_action, 1.0 - p_action)
    continuous = ~state.observed.any(axis=0)
    shift = rng.normal(0.0, cfg.mutation_sd, state.traits.shape)
    lose_shift = np.clip(p + np.where(stimulus < 0, shift, 0.0), 0.0, 1.0)
    new_p = np.where(state.observed, reinforced, np.where(continuous[None, :], lose_shift, p))
    traits = np.where(revising[:, None], new_p * state.upper, state.traits)
    return _mutate(rng, traits, revising, state.upper, cfg.mutation_rate, cfg.mutation_sd)


def logit_choice(rng, state: LearningState, cfg) -> np.ndarray:
    """Log-linear (logit) choice among the strategies a city sees (Blume 1993; the quantal response of
    McKelvey & Palfrey 1995), area by area: a revising city adopts area a's traits of one of its
    candidates, itself and its k partners, with probability exp(P_ca / K) / sum_c' exp(P_c'a / K).

    Unlike Fermi imitation it compares all its partners at once, not one drawn partner, so with a
    small K it imitates the best of its neighbourhood; each partner is seen equally, whatever its
    gravity weight [our assumption]."""
    n, areas = state.payoff.shape
    revising = rng.random(n) < cfg.revision_rate
    candidates = np.column_stack([np.arange(n), state.partners])            # n x (k + 1)
    z = state.payoff[candidates] / cfg.noise                                # n x (k + 1) x areas
    cum = np.cumsum(np.exp(z - z.max(axis=1, keepdims=True)), axis=1)
    u = rng.random((n, areas)) * cum[:, -1, :]
    pick = np.minimum((cum < u[:, None, :]).sum(axis=1), candidates.shape[1] - 1)   # n x areas
    source = candidates[np.arange(n)[:, None], pick][:, state.trait_area]   # n x traits: whose trait
    adopted = state.traits[source, np.arange(state.traits.shape[1])[None, :]]
    traits = np.where(revising[:, None], adopted, state.traits)
    return _mutate(rng, traits, revising, state.upper, cfg.mutation_rate, cfg.mutation_sd)


RULES: dict[str, Callable[..., np.ndarray]] = {
    "fermi": fermi_imitation,
    "bush_mosteller": bush_mosteller,
    "logit": logit_choice,
}
