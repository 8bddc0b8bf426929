"""Published public-goods models run on the city model's engine: ``python -m sim reproduce``.

Two studies (config group ``study``), both built from :class:`sim.network.Groups`, the
public-goods payoff of :func:`sim.game.public_good_returns` (compiled in
:mod:`sim.kernels`) and the Fermi rule of :func:`sim.game.fermi_probability`:

* ``lattice_pgg``: Szolnoki, Perc & Szabo (2009), Phys. Rev. E 80, 056109. L x L periodic
  square lattice; every site hosts a group of itself and its four von Neumann neighbours, so
  each player is in five groups of five; a cooperator pays 1 in each of its groups; the pot is
  multiplied by r and shared equally. Random sequential Fermi imitation with noise K.
* ``scale_free_pgg``: Santos, Santos & Pacheco (2008), Nature 454, 213-216. Barabasi-Albert
  networks; each node and its neighbours form a group; a cooperator pays 1 per game
  (``cost: per_game``) or 1 in total, split evenly over its k+1 games (``per_individual``);
  r = eta (z + 1). Imitation of a random neighbour with probability max(0, P_y - P_x) / M.

Every run writes ``summary.json`` (with ``cooperator_density``), ``timeseries.parquet``,
``config.json`` and ``figures/density.{png,pdf,json}`` into the Hydra run folder. The study
parameters are checked against the schemas below (unknown keys and wrong types by Hydra,
ranges and choices by :func:`validate_study`); they are not part of the city model's schema.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import pandas as pd
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import MISSING, DictConfig, OmegaConf

from sim import kernels
from sim.configuration import _check_value, config_error
from sim.errors import ConfigError, UserError
from sim.game import pair_weights
from sim.network import Groups, ego_groups
from sim.outputs import write_json, write_parquet
from sim.provenance import git_revision, package_versions
from sim.schema import leaf_fields, param


CONFIG_NAME = "reproduce"
SUMMARY_FILE = "summary.json"
CHUNK_UPDATES = 1_000_000      # uniforms are drawn from the generator this many updates at a time


# --------------------------------------------------------------------------- schemas

@dataclass
class LatticeStudy:
    name: str = param(doc="study name", choices=("lattice_pgg",))
    r: float = param(0, 1000, "synergy factor: a group's contributions are multiplied by r and shared by its 5 members")
    size: int = param(3, 10_000, "L: side of the periodic square lattice (L^2 players)")
    sweeps: int = param(1, 10_000_000, "Monte Carlo steps: L^2 elementary updates each")
    noise: float = param(1e-9, 100, "K: noise of the Fermi imitation rule")
    initial_cooperators: float = param(0, 1, "probability that a player starts as a cooperator")
    average_last: float = param(1e-6, 1, "share of the last sweeps averaged into cooperator_density")


@dataclass
class ScaleFreeStudy:
    name: str = param(doc="study name", choices=("scale_free_pgg",))
    eta: float = param(0, 100, "normalised enhancement r / (z + 1)")
    nodes: int = param(10, 1_000_000, "N: nodes of each Barabasi-Albert network")
    mean_degree: int = param(2, 1000, "z: average degree, even (each new node brings z/2 links)")
    cost: str = param(doc="a cooperator pays 1 per game, or 1 in total split over its games",
                      choices=("per_game", "per_individual"))
    update: str = param(doc="all players imitate at once (generations) or one at a time",
                        choices=("synchronous", "asynchronous"))
    generations: int = param(1, 10_000_000, "generations (N elementary updates each when asynchronous)")
    networks: int = param(1, 10_000, "independent networks (one run each); densities are averaged")
    initial_cooperators: float = param(0, 1, "probability that a player starts as a cooperator")
    average_last: float = param(1e-6, 1, "share of the last generations averaged into cooperator_density")


STUDIES: dict[str, type] = {"lattice_pgg": LatticeStudy, "scale_free_pgg": ScaleFreeStudy}


@dataclass
class ReproduceConfig:
    seed: int = param(0, 2**32 - 1, "seed of the study's one random generator")
    study: Any = MISSING


def register_schemas() -> None:
    """``reproduce_schema`` for the primary config and ``<study>_schema`` for each study file."""
    store = ConfigStore.instance()
    store.store(name="reproduce_schema", node=ReproduceConfig)
    for name, schema in STUDIES.items():
        store.store(name=f"{name}_schema", node=schema)


register_schemas()


def validate_study(cfg: DictConfig, overrides: Sequence[str] = (), choices: dict[str, str] | None = None) -> None:
    """Raise :class:`ConfigError` naming every study value outside its range or choices."""
    name = OmegaConf.select(cfg, "study.name")
    choices = choices or ({"study": name} if name in STUDIES else {})   # the option file is named after its study
    problems: list[tuple[str, str]] = []
    # Hydra lets '+key=value' add keys even to structured nodes; nothing unknown may pass.
    for key in sorted(set(cfg.keys()) - {"seed", "study"}):
        problems.append((key, f"'{key}' is not a setting of 'python -m sim reproduce' (it has seed and study.*)"))
    if name in STUDIES:
        allowed = {f.name for f in dataclasses.fields(STUDIES[name])}
        for key in sorted(set(cfg.study.keys()) - allowed):
            problems.append((f"study.{key}", f"study.{key} is not a parameter of study {name} "
                             f"(it has {', '.join(sorted(allowed - {'name'}))})"))
    if name not in STUDIES:
        problems.append(("study.name", f"study.name = {name!r} is not one of {', '.join(map(repr, STUDIES))}"))
    else:
        checks = [("seed", f) for key, f in leaf_fields(ReproduceConfig) if key == "seed"]
        checks += list(leaf_fields(STUDIES[name], "study."))
        for key, f in checks:
            problem = _check_value(key, OmegaConf.select(cfg, key), dict(f.metadata))
            if problem:
                problems.append((key, problem))
        if name == "scale_free_pgg" and not problems:
            z, n = cfg.study.mean_degree, cfg.study.nodes
            if z % 2:
                problems.append(("study.mean_degree", f"study.mean_degree = {z} is odd; a Barabasi-Albert "
                                 "network has an even average degree z = 2m"))
            elif z // 2 >= n:
                problems.append(("study.mean_degree", f"study.mean_degree = {z} needs more than {z // 2} nodes"))
    if problems:
        raise config_error(problems, overrides, choices, command="reproduce",
                           example="study=lattice_pgg study.r=4.5", primary="configs/reproduce.yaml",
                           listing="section 7.12 of docs/ODD.md lists every study parameter")


def load_study_config(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose the reproduce configuration from Python, as the command would, and check it."""
    from hydra import compose, initialize_config_module

    register_schemas()
    with initialize_config_module(config_module="sim.configs", version_base="1.3"):
        cfg = compose(config_name=CONFIG_NAME, overrides=list(overrides))
    validate_study(cfg, overrides)
    return cfg


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


# --------------------------------------------------------------------------- outputs

def density_figure(result: StudyResult, study: DictConfig, out_dir: Path, sidecar: dict) -> list[Path]:
    """Cooperator fraction against time (log axis), with the averaging window shaded."""
    from sim.plotting import NEUTRAL, PALETTE, new_figure, save_figure, use_style

    ts = result.timeseries
    step = "sweep" if "sweep" in ts else "generation"
    with use_style():
        fig, ax = new_figure("single", 2.4)
        if "network" in ts:
            for _, part in ts.groupby("network"):
                ax.plot(part[step] + 1, part["density"], color=NEUTRAL, lw=0.5, alpha=0.6)
            mean = ts.groupby(step)["density"].mean()
            ax.plot(mean.index + 1, mean.to_numpy(), color=PALETTE[0], label="mean of networks")
            ax.legend(loc="best")
        else:
            ax.plot(ts[step] + 1, ts["density"], color=PALETTE[0])
        steps = int(ts[step].max())
        first = steps - result.summary["timeseries"]["steps_averaged"] + 1
        ax.axvspan(first + 1, steps + 1, color=NEUTRAL, alpha=0.15, lw=0)
        ax.axhline(result.summary["cooperator_density"], color=PALETTE[1], lw=0.6, ls="--")
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(f"{'Monte Carlo step' if step == 'sweep' else 'generation'} + 1")
        ax.set_ylabel("fraction of cooperators")
        label = (f"r = {study.r:g}, L = {study.size}, K = {study.noise:g}" if result.name == "lattice_pgg"
                 else f"eta = {study.eta:g}, N = {study.nodes}, z = {study.mean_degree}, {study.cost}")
        ax.set_title(label)
    return save_figure(fig, out_dir / "figures", "density", sidecar=sidecar)


def write_study(result: StudyResult, cfg: DictConfig, out_dir: Path, command: str) -> None:
    """Run folder: time series, config, figure, and the summary last (its presence means complete)."""
    out_dir = Path(out_dir)
    container = OmegaConf.to_container(cfg, resolve=True)
    container.pop("hydra", None)
    write_parquet(result.timeseries, out_dir / "timeseries.parquet")
    write_json(container, out_dir / "config.json")
    versions = package_versions()
    try:
        import numba
        versions["numba"] = numba.__version__
    except ImportError:  # pragma: no cover - numba is a dependency
        versions["numba"] = "not installed"
    versions["networkx"] = _version("networkx")
    summary = {**result.summary, "command": command, "versions": versions, "git_revision": git_revision()}
    density_figure(result, cfg.study, out_dir, {"command": command, "seed": int(cfg.seed),
                                                "study": summary["parameters"]})
    write_json(summary, out_dir / SUMMARY_FILE)


def _version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _print_headline(summary: dict, out_dir: Path) -> None:
    p = summary["parameters"]
    if summary["study"] == "lattice_pgg":
        what = f"r = {p['r']:g}, L = {p['size']}, {p['sweeps']} sweeps, K = {p['noise']:g}"
    else:
        what = (f"eta = {p['eta']:g} (r = {summary['r']:g}), N = {p['nodes']}, z = {p['mean_degree']}, "
                f"{p['cost']}, {p['update']}, {p['networks']} network(s)")
    print(f"Reproduced {summary['study']} ({what}), seed {summary['seed']}.")
    print(f"Results: {out_dir.resolve()}")
    print(f"  cooperator density (mean of last {summary['timeseries']['steps_averaged']} steps) "
          f"{summary['cooperator_density']:.4f}")


@hydra.main(version_base="1.3", config_path="pkg://sim.configs", config_name=CONFIG_NAME)
def reproduce(cfg: DictConfig) -> None:
    """Run one published model (``study=NAME``) and write its run folder."""
    from sim.cli import _fail   # lazily: sim.cli may import this module to register the command

    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    command = " ".join(["python -m sim reproduce", *hc.overrides.task])
    try:
        validate_study(cfg, hc.overrides.task, dict(hc.runtime.choices))
    except UserError as err:
        _fail(err, out_dir, user_error=True)
        raise
    try:
        result = run_study(cfg.study, cfg.seed)
        write_study(result, cfg, out_dir, command)
    except UserError as err:
        _fail(err, out_dir, user_error=True)
        raise
    except Exception as err:
        _fail(err, out_dir, user_error=False)
        raise
    _print_headline(result.summary, out_dir)


if __name__ == "__main__":
    reproduce()
