"""Published public-goods models run on the city model's engine.

Two studies (config group ``study``, checked by :mod:`sim.reproduce.config`), both built from
:class:`sim.model.network.Groups`, the public-goods payoff of
:func:`sim.model.game.public_good_returns` (compiled in :mod:`sim.reproduce.kernels`) and the
Fermi rule of :func:`sim.model.game.fermi_probability`:

* ``lattice_pgg``: Szolnoki, Perc & Szabo (2009), Phys. Rev. E 80, 056109. L x L periodic
  square lattice; every site hosts a group of itself and its four von Neumann neighbours, so
  each player is in five groups of five; a cooperator pays 1 in each of its groups; the pot is
  multiplied by r and shared equally. Random sequential Fermi imitation with noise K.
* ``scale_free_pgg``: Santos, Santos & Pacheco (2008), Nature 454, 213-216. Barabasi-Albert
  networks; each node and its neighbours form a group; a cooperator pays 1 per game
  (``cost: per_game``) or 1 in total, split evenly over its k+1 games (``per_individual``);
  r = eta (z + 1). Imitation of a random neighbour with probability max(0, P_y - P_x) / M.

:func:`run_study` runs one from its config; :mod:`sim.reproduce.command` writes the run folder.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.model.game import pair_weights
from sim.model.network import Groups, ego_groups
from sim.reproduce import kernels

CHUNK_UPDATES = 1_000_000      # uniforms are drawn from the generator this many updates at a time


# --------------------------------------------------------------------------- structures

def von_neumann_partners(side: int) -> np.ndarray:
    """(L^2, 4) array of each site's four nearest neighbours on a periodic L x L lattice."""
    idx = np.arange(side * side).reshape(side, side)
    return np.stack([np.roll(idx, s, axis=a) for a, s in ((0, 1), (0, -1), (1, 1), (1, -1))],
                    axis=-1).reshape(-1, 4)


def equal_share_terms(groups: Groups, synergy: float, unit: float | np.ndarray = 1.0) -> kernels.PayoffTerms:
    """The classic public goods game on ``groups``: the pot, times r, is shared equally by all members.

    In the engine's terms: kept share 1/|g| and equal spill weights 1/(|g| - 1).
    """
    weights = pair_weights(groups, np.ones(len(groups.pair_src)))
    kept_share = 1.0 / groups.size[groups.mem_group]
    return kernels.payoff_terms(groups, synergy, kept_share, weights, unit)


def payoff_bounds(terms: kernels.PayoffTerms) -> tuple[np.ndarray, np.ndarray]:
    """(largest, smallest) payoff each player can get over all strategy profiles.

    Benefit terms are non-negative: the maximum has every other source contributing and the
    player itself contributing only if its own terms exceed its cost; the minimum the reverse.
    """
    receiver = np.repeat(np.arange(terms.n), np.diff(terms.ptr))
    own = terms.source == receiver
    net_own = np.bincount(receiver[own], weights=terms.coef[own], minlength=terms.n) - terms.cost
    others = np.bincount(receiver[~own], weights=terms.coef[~own], minlength=terms.n)
    return others + np.maximum(net_own, 0.0), np.minimum(net_own, 0.0)


@dataclass
class Trajectory:
    """Cooperator fraction at step 0 (initial) and after each sweep or generation."""

    density: np.ndarray
    absorbed_at: int | None      # first step in an absorbing state (all C or all D), if any
    updates: int                 # elementary strategy updates actually performed
    seconds: float               # time spent in the kernel and drawing its random numbers


def run_random_sequential(strategy: np.ndarray, terms: kernels.PayoffTerms, nbr_ptr: np.ndarray,
                          nbr: np.ndarray, steps: int, rng: np.random.Generator, rule: int = kernels.FERMI,
                          noise: float = 1.0, bounds=None) -> Trajectory:
    """``steps`` Monte Carlo steps (n random sequential updates each) of imitation on ``terms``."""
    n = len(strategy)
    upper, lower = bounds if bounds is not None else (np.zeros(n), np.zeros(n))
    density = np.empty(steps + 1)
    density[0] = strategy.mean()
    n_coop = int(strategy.sum(dtype=np.int64))
    chunk = max(1, CHUNK_UPDATES // n)
    done, updates, start = 0, 0, time.perf_counter()
    while done < steps:
        k = min(chunk, steps - done)
        u = rng.random((k * n, 3))
        n_coop, recorded = kernels.random_sequential(
            strategy, n_coop, terms.ptr, terms.source, terms.coef, terms.cost, nbr_ptr, nbr, rule,
            noise, upper, lower, u, n, density[1 + done:1 + done + k])
        done += recorded
        updates += recorded * n
        if recorded < k:
            break
    seconds = time.perf_counter() - start
    absorbed = _absorbed(density, done)
    return Trajectory(density, absorbed, updates, seconds)


def run_synchronous(strategy: np.ndarray, terms: kernels.PayoffTerms, nbr_ptr: np.ndarray, nbr: np.ndarray,
                    steps: int, rng: np.random.Generator, rule: int, noise: float = 1.0,
                    bounds=None) -> Trajectory:
    """``steps`` generations in which every player revises at once."""
    n = len(strategy)
    upper, lower = bounds if bounds is not None else (np.zeros(n), np.zeros(n))
    density = np.empty(steps + 1)
    density[0] = strategy.mean()
    chunk = max(1, CHUNK_UPDATES // n)
    done, start = 0, time.perf_counter()
    while done < steps:
        k = min(chunk, steps - done)
        u = rng.random((k, n, 2))
        recorded = kernels.synchronous(strategy, terms.ptr, terms.source, terms.coef, terms.cost, nbr_ptr,
                                       nbr, rule, noise, upper, lower, u, density[1 + done:1 + done + k])
        done += recorded
        if recorded < k:
            break
    seconds = time.perf_counter() - start
    return Trajectory(density, _absorbed(density, done), done * n, seconds)


def _absorbed(density: np.ndarray, done: int) -> int | None:
    """Fill the steps after an early stop and return the first absorbing step (or None)."""
    density[done + 1:] = density[done]
    hit = np.flatnonzero((density == 0.0) | (density == 1.0))
    return int(hit[0]) if len(hit) else None


# --------------------------------------------------------------------------- studies

@dataclass
class StudyResult:
    name: str
    timeseries: pd.DataFrame     # step, density[, network]
    summary: dict


def window(steps: int, share: float) -> int:
    """Number of last steps averaged: share of the run, at least one."""
    return max(1, math.ceil(share * steps))


def series_summary(density: np.ndarray, last: int) -> dict:
    tail = density[-last:]
    return {"initial": float(density[0]), "final": float(density[-1]), "mean_last": float(tail.mean()),
            "std_last": float(tail.std()), "min_last": float(tail.min()), "max_last": float(tail.max()),
            "steps_averaged": int(last)}


def lattice_pgg(study: DictConfig, rng: np.random.Generator) -> StudyResult:
    """Szolnoki, Perc & Szabo (2009): five overlapping groups of five on a periodic lattice."""
    side = int(study.size)
    partners = von_neumann_partners(side)
    groups = ego_groups(partners)
    terms = equal_share_terms(groups, float(study.r))
    nbr_ptr = np.arange(0, partners.size + 1, 4, dtype=np.int64)
    nbr = partners.ravel().astype(np.int64)
    strategy = (rng.random(side * side) < study.initial_cooperators).astype(np.int8)
    traj = run_random_sequential(strategy, terms, nbr_ptr, nbr, int(study.sweeps), rng, kernels.FERMI,
                                 float(study.noise))
    last = window(int(study.sweeps), float(study.average_last))
    summary = {
        "cooperator_density": float(traj.density[-last:].mean()),
        "timeseries": {**series_summary(traj.density, last), "absorbed_at_sweep": traj.absorbed_at},
        "players": side * side,
        "elementary_updates": traj.updates,
        "kernel_seconds": round(traj.seconds, 3),
        "updates_per_second": traj.updates / traj.seconds if traj.seconds > 0 and traj.updates else None,
    }
    ts = pd.DataFrame({"sweep": np.arange(len(traj.density)), "density": traj.density})
    return StudyResult("lattice_pgg", ts, summary)


def barabasi_albert(nodes: int, mean_degree: int, rng: np.random.Generator) -> list[list[int]]:
    """Neighbour lists of a Barabasi-Albert network seeded from the study's generator."""
    import networkx as nx

    graph = nx.barabasi_albert_graph(nodes, mean_degree // 2, seed=int(rng.integers(2**31 - 1)))
    return [sorted(graph.neighbors(i)) for i in range(nodes)]


def node_groups(neighbours: list[list[int]]) -> Groups:
    """One group per node: the node and its neighbours (Santos, Santos & Pacheco 2008)."""
    ptr, members = kernels.csr_from_lists([[i, *nb] for i, nb in enumerate(neighbours)])
    return Groups.from_lists(len(neighbours), ptr, members)


def scale_free_pgg(study: DictConfig, rng: np.random.Generator) -> StudyResult:
    """Santos, Santos & Pacheco (2008): public goods games on Barabasi-Albert networks."""
    n, z = int(study.nodes), int(study.mean_degree)
    r = float(study.eta) * (z + 1)
    steps = int(study.generations)
    last = window(steps, float(study.average_last))
    frames, per_network, degrees, seconds, updates = [], [], [], 0.0, 0
    for net in range(int(study.networks)):
        neighbours = barabasi_albert(n, z, rng)
        groups = node_groups(neighbours)
        games = np.bincount(groups.mem_city, minlength=n)           # k + 1 games per player
        unit = 1.0 if study.cost == "per_game" else 1.0 / games[groups.mem_city]
        terms = equal_share_terms(groups, r, unit)
        bounds = payoff_bounds(terms)
        nbr_ptr, nbr = kernels.csr_from_lists(neighbours)
        strategy = (rng.random(n) < study.initial_cooperators).astype(np.int8)
        if study.update == "synchronous":
            traj = run_synchronous(strategy, terms, nbr_ptr, nbr, steps, rng, kernels.REPLICATOR, bounds=bounds)
        else:
            traj = run_random_sequential(strategy, terms, nbr_ptr, nbr, steps, rng, kernels.REPLICATOR,
                                         bounds=bounds)
        seconds += traj.seconds
        updates += traj.updates
        degrees.append(float(np.diff(nbr_ptr).mean()))
        per_network.append({"network": net, "mean_degree": degrees[-1], "max_degree": int(np.diff(nbr_ptr).max()),
                            **series_summary(traj.density, last), "absorbed_at_generation": traj.absorbed_at})
        frames.append(pd.DataFrame({"network": net, "generation": np.arange(steps + 1), "density": traj.density}))
    ts = pd.concat(frames, ignore_index=True)
    mean_series = ts.groupby("generation")["density"].mean().to_numpy()
    summary = {
        "cooperator_density": float(np.mean([p["mean_last"] for p in per_network])),
        "cooperator_density_sd_between_networks": float(np.std([p["mean_last"] for p in per_network])),
        "r": r,
        "timeseries": series_summary(mean_series, last),
        "networks": per_network,
        "realised_mean_degree": float(np.mean(degrees)),
        "elementary_updates": updates,
        "kernel_seconds": round(seconds, 3),
        "updates_per_second": updates / seconds if seconds > 0 and updates else None,
    }
    return StudyResult("scale_free_pgg", ts, summary)


RUNNERS = {"lattice_pgg": lattice_pgg, "scale_free_pgg": scale_free_pgg}


def run_study(study: DictConfig, seed: int) -> StudyResult:
    """Run one study from its (validated) config; every random number comes from ``seed``."""
    rng = np.random.default_rng(int(seed))
    result = RUNNERS[study.name](study, rng)
    result.summary = {"study": study.name, "seed": int(seed), **result.summary,
                      "parameters": OmegaConf.to_container(study, resolve=True)}
    return result
