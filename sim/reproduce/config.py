"""The configuration of ``python -m sim reproduce``: study schemas, checks and composition.

The study parameters (config group ``study``, ``sim/reproduce/configs/study/*.yaml``) are checked against
the schemas below: unknown keys and wrong types by Hydra, ranges and choices by
:func:`validate_study`. They are not part of the city model's schema; section 7.12 of
``docs/ODD.md`` lists them with their sources.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from sim.config.loading import value_problem, config_error
from sim.config.schema import leaf_fields, param

CONFIG_MODULE = "sim.reproduce.configs"   # its own config tree: `sim run`'s groups are not its
CONFIG_NAME = "reproduce"


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
            problem = value_problem(key, OmegaConf.select(cfg, key), dict(f.metadata))
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
                           example="study=lattice_pgg study.r=4.5", primary="sim/reproduce/configs/reproduce.yaml",
                           listing="section 7.12 of docs/ODD.md lists every study parameter")


def load_study_config(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose the reproduce configuration from Python, as the command would, and check it."""
    from hydra import compose, initialize_config_module

    register_schemas()
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        cfg = compose(config_name=CONFIG_NAME, overrides=list(overrides))
    validate_study(cfg, overrides)
    return cfg
