"""Compiled kernels for strategy updates on the shared public-goods engine.

Random sequential updating changes one strategy at a time, so it cannot be vectorised in
NumPy. These numba kernels run it on the same :class:`sim.model.network.Groups` structure and the
same payoff as :func:`sim.model.game.public_good_returns`:

* :func:`payoff_terms` gathers, once, the terms of ``public_good_returns`` per receiving
  player: for each of the player's memberships the share it keeps of what it creates there,
  and for each ordered pair ending at that membership the contributor's spill-over share
  (``synergy x contribution x (1 - kept share) x pair weight``), summed per contributor
  (on the lattice 13 terms per player instead of 25). With binary strategies
  (contribute ``unit`` per membership or nothing) a player's benefit is then
  ``sum_t coef[t] * s[source[t]]`` and its payoff that benefit minus ``cost * s``, so that one
  player's payoff costs O(its memberships + pairs), independent of the population size.
* :func:`adoption_probability` is :func:`sim.model.game.fermi_probability` (rule ``FERMI``) or the
  finite-population replicator rule of Santos, Santos & Pacheco 2008 (rule ``REPLICATOR``).
* :func:`random_sequential` and :func:`synchronous` run the updates. They draw nothing
  themselves: the caller passes uniform numbers drawn from the study's seeded
  ``numpy.random.Generator`` in chunks, so that every random number of a run still comes
  from one generator and a seed reproduces the run exactly.

``tests/test_reproduce.py`` checks the kernel payoff against ``public_good_returns`` on random
groups, spill weights and kept shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.model.network import Groups

FERMI = 0        # adopt with 1 / (1 + exp((P_x - P_y) / K))       (Szabo & Toke 1998)
REPLICATOR = 1   # adopt with max(0, P_y - P_x) / M_xy             (Santos, Santos & Pacheco 2008)
EXP_CLIP = 700.0  # as in sim.model.game.fermi_probability: exp never overflows for tiny K


@dataclass(frozen=True)
class PayoffTerms:
    """The terms of ``public_good_returns`` gathered per receiving player (CSR).

    Player ``i``'s benefit is ``sum(coef[t] * s[source[t]] for t in ptr[i]:ptr[i+1])`` for
    strategies ``s`` in {0, 1}; its payoff subtracts ``cost[i] * s[i]``.
    """

    ptr: np.ndarray      # int64, n + 1
    source: np.ndarray   # int64, player whose contribution creates the term
    coef: np.ndarray     # float64, benefit received if that player contributes
    cost: np.ndarray     # float64, n: what a contributing player pays over all its groups

    @property
    def n(self) -> int:
        return len(self.ptr) - 1


def payoff_terms(groups: Groups, synergy: float, kept_share: float | np.ndarray, weights: np.ndarray,
                 unit: float | np.ndarray = 1.0, merge: bool = True) -> PayoffTerms:
    """Gather the terms of ``public_good_returns`` for contributions ``s[player] * unit[membership]``.

    Same arithmetic as :func:`sim.model.game.public_good_returns` (created = synergy x contribution;
    one-member groups keep everything; the rest spills over the pair weights), per unit of
    contribution instead of for one contribution vector.
    """
    unit = np.broadcast_to(np.asarray(unit, dtype=float), groups.mem_city.shape)
    created = synergy * unit
    alone = groups.size[groups.mem_group] == 1
    kept = np.where(alone, 1.0, kept_share) * created
    spilled = (created - kept)[groups.pair_src] * weights
    receiver = np.concatenate([groups.mem_city, groups.mem_city[groups.pair_dst]])
    source = np.concatenate([groups.mem_city, groups.mem_city[groups.pair_src]])
    coef = np.concatenate([kept, spilled])
    cost = groups.player_sum(np.asarray(unit, dtype=float))
    if merge:   # one term per (receiver, source): a neighbour met in several groups is read once
        key, where = np.unique(receiver.astype(np.int64) * groups.n + source, return_inverse=True)
        receiver, source, coef = key // groups.n, key % groups.n, np.bincount(where, weights=coef)
    else:
        order = np.argsort(receiver, kind="stable")
        receiver, source, coef = receiver[order], source[order], coef[order]
    ptr = np.concatenate([[0], np.cumsum(np.bincount(receiver, minlength=groups.n))])
    return PayoffTerms(ptr.astype(np.int64), source.astype(np.int64), coef.astype(np.float64), cost)


def neighbour_lists(groups: Groups) -> tuple[np.ndarray, np.ndarray]:
    """(ptr, players): each player's distinct co-members over all its groups, in CSR form.

    Used when the imitation neighbourhood is not given separately.
    """
    src = groups.mem_city[groups.pair_src]
    dst = groups.mem_city[groups.pair_dst]
    key = np.unique(dst.astype(np.int64) * groups.n + src)
    owner, other = key // groups.n, key % groups.n
    ptr = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=groups.n))])
    return ptr.astype(np.int64), other.astype(np.int64)


def csr_from_lists(lists) -> tuple[np.ndarray, np.ndarray]:
    """(ptr, flat) of a list of integer sequences."""
    sizes = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    flat = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists]) if len(lists) else np.zeros(0, np.int64)
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), flat


@njit(cache=True, nogil=True)
def payoff(i, strategy, ptr, source, coef, cost):
    """Payoff of player ``i``: public-good benefit from all its groups minus its contribution."""
    total = 0.0
    for t in range(ptr[i], ptr[i + 1]):
        total += coef[t] * strategy[source[t]]
    return total - cost[i] * strategy[i]


@njit(cache=True, nogil=True)
def all_payoffs(strategy, ptr, source, coef, cost):
    n = strategy.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = payoff(i, strategy, ptr, source, coef, cost)
    return out


@njit(cache=True, nogil=True)
def fermi(payoff_self, payoff_model, noise):
    """Scalar :func:`sim.model.game.fermi_probability`: 1 / (1 + exp((P_self - P_model) / K))."""
    z = (payoff_self - payoff_model) / noise
    if z > EXP_CLIP:
        z = EXP_CLIP
    elif z < -EXP_CLIP:
        z = -EXP_CLIP
    return 1.0 / (1.0 + np.exp(z))


@njit(cache=True, nogil=True)
def adoption_probability(rule, p_x, p_y, noise, span):
    """Probability that x adopts y's strategy. ``span`` is M_xy of the replicator rule."""
    if rule == FERMI:
        return fermi(p_x, p_y, noise)
    if p_y <= p_x:
        return 0.0
    return (p_y - p_x) / span


@njit(cache=True, nogil=True)
def random_sequential(strategy, n_coop, ptr, source, coef, cost, nbr_ptr, nbr, rule, noise,
                      upper, lower, u, per_sweep, density):
    """Elementary updates, one per row of ``u`` (uniforms: player, neighbour, acceptance).

    A random player x picks a random neighbour y; if their strategies differ, x adopts y's
    with :func:`adoption_probability` (replicator span M_xy = upper[y] - lower[x]). After every
    ``per_sweep`` updates the cooperator fraction is written to ``density``. Stops early at an
    absorbing state (all C or all D: imitation without mutation can never leave it).
    Returns (cooperators, sweeps recorded).
    """
    n = strategy.shape[0]
    recorded = 0
    for k in range(u.shape[0]):
        x = int(u[k, 0] * n)
        start = nbr_ptr[x]
        degree = nbr_ptr[x + 1] - start
        if degree > 0:
            y = nbr[start + int(u[k, 1] * degree)]
            if strategy[x] != strategy[y]:
                p_x = payoff(x, strategy, ptr, source, coef, cost)
                p_y = payoff(y, strategy, ptr, source, coef, cost)
                if u[k, 2] < adoption_probability(rule, p_x, p_y, noise, upper[y] - lower[x]):
                    n_coop += 1 if strategy[y] == 1 else -1
                    strategy[x] = strategy[y]
        if (k + 1) % per_sweep == 0:
            density[recorded] = n_coop / n
            recorded += 1
            if n_coop == 0 or n_coop == n:
                break
    return n_coop, recorded


@njit(cache=True, nogil=True)
def synchronous(strategy, ptr, source, coef, cost, nbr_ptr, nbr, rule, noise, upper, lower, u, density):
    """Generations of synchronous updating, one per leading index of ``u`` (shape gens x n x 2).

    Every player's payoff is computed from the current strategies; then every player x picks a
    random neighbour y and adopts y's strategy with :func:`adoption_probability`; all adopt at
    once. Writes the cooperator fraction after each generation to ``density``; stops early at
    an absorbing state. Returns the number of generations recorded.
    """
    n = strategy.shape[0]
    nxt = strategy.copy()
    for g in range(u.shape[0]):
        pay = all_payoffs(strategy, ptr, source, coef, cost)
        n_coop = 0
        for x in range(n):
            nxt[x] = strategy[x]
            start = nbr_ptr[x]
            degree = nbr_ptr[x + 1] - start
            if degree > 0:
                y = nbr[start + int(u[g, x, 0] * degree)]
                if strategy[y] != strategy[x] and u[g, x, 1] < adoption_probability(
                        rule, pay[x], pay[y], noise, upper[y] - lower[x]):
                    nxt[x] = strategy[y]
            n_coop += nxt[x]
        strategy[:] = nxt
        density[g] = n_coop / n
        if n_coop == 0 or n_coop == n:
            return g + 1
    return u.shape[0]
