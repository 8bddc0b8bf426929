"""Finding mechanisms: the entry-point group ``sim.mechanisms``, and their configs for Hydra.

A package registers a mechanism with ``[project.entry-points."sim.mechanisms"] NAME =
"package.module:Class"``; after ``pip install`` it is selectable as ``+mechanism=NAME`` with no
edit to ``sim``. The registry's order (``none``, then the others by name) does not depend on how
the environment lists its packages: it orders the traits that mechanisms add to every city.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from sim.errors import UserError
from sim.mechanisms.base import Mechanism, NoMechanism, Trait

GROUP = "sim.mechanisms"
OWN_DISTRIBUTION = "sim"


class RegistryError(UserError):
    """A mechanism package that cannot be used as installed."""


@dataclass(frozen=True)
class Registered:
    cls: type[Mechanism]
    source: str        # "package.module:Class", as its entry point says
    distribution: str


def _problem(source: str, what: str) -> RegistryError:
    return RegistryError(
        f"The mechanism entry point '{source}' (group {GROUP}) {what}. Fix or uninstall the package "
        "that declares it; 'python -m sim run --help' lists the mechanisms that load.")


@functools.cache
def _registered() -> dict[str, Registered]:
    found: dict[str, Registered] = {"none": Registered(NoMechanism, f"{__name__}:NoMechanism", OWN_DISTRIBUTION)}
    for ep in sorted(entry_points(group=GROUP), key=lambda ep: (ep.name, ep.value)):
        source = ep.value
        try:
            cls = ep.load()
        except Exception as err:   # an installed package's bug: name it, with the cause
            raise _problem(source, f"fails to import ({type(err).__name__}: {err})") from err
        if not (isinstance(cls, type) and issubclass(cls, Mechanism)):
            raise _problem(source, "is not a subclass of sim.mechanisms.Mechanism")
        if cls.name != ep.name:
            raise _problem(source, f"is registered as '{ep.name}' but its class says name = '{cls.name}'")
        dist = ep.dist.name if ep.dist else "?"
        if ep.name in found and found[ep.name].source != source:
            raise _problem(source, f"uses the name '{ep.name}', which {found[ep.name].source} "
                                   f"({found[ep.name].distribution}) already has")
        found[ep.name] = Registered(cls, source, dist)
    return found


def names() -> list[str]:
    """Registered mechanism names, ``none`` first, in registry order."""
    return list(_registered())


def get(name: str) -> type[Mechanism]:
    registered = _registered()
    if name not in registered:
        raise UserError(f"Unknown mechanism '{name}': choose one of {', '.join(registered)}, or install the "
                        f"package that provides it (entry-point group {GROUP}).")
    return registered[name].cls


def mechanisms() -> list[type[Mechanism]]:
    return [r.cls for r in _registered().values()]


def schemas() -> dict[str, type]:
    """Parameter schema of every registered mechanism that has parameters."""
    return {name: r.cls.schema for name, r in _registered().items() if r.cls.schema is not None}


def traits() -> tuple[Trait, ...]:
    """Every registered mechanism's traits, in registry order."""
    return tuple(t for cls in mechanisms() for t in cls.traits)


def areas() -> tuple[str, ...]:
    """Policy areas the registered mechanisms add, in registry order."""
    return tuple(a for cls in mechanisms() for a in cls.areas)


def report_metrics() -> dict[str, tuple[str, str]]:
    """Headline metrics the mechanisms ask ``sim report`` to compare: key -> (label, unit)."""
    return {k: v for cls in mechanisms() for k, v in cls.report_metrics.items()}


def config_path(name: str) -> Path | None:
    """The mechanism's parameter values: ``<name>.yaml`` next to its module (None without a schema)."""
    cls = get(name)
    if cls.schema is None:
        return None
    import sys

    return Path(sys.modules[cls.__module__].__file__).with_name(f"{name}.yaml")


def store_configs() -> None:
    """Put every mechanism's config in Hydra's ConfigStore as ``mechanism/<name>``, typed by its
    schema, so that composition checks its keys and types like any other schema."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    store = ConfigStore.instance()
    for name, r in _registered().items():
        path = config_path(name)
        if path is None:
            node = OmegaConf.create({})
        elif not path.is_file():
            raise _problem(r.source, f"has no config file {path} (the mechanism's parameter values)")
        else:
            node = OmegaConf.merge(OmegaConf.structured(r.cls.schema), OmegaConf.load(path))
        store.store(group="mechanism", name=name, node=node, package=f"mechanism.{name}",
                    provider=r.distribution)
