"""Checking a sweep's jobs before any starts, by composing one job per config shape.

Hydra's sweepers compose every job's config in the main process before launching the batch
(``Sweeper.validate_batch_is_legal``), so that a mistake stops the sweep before any job runs;
the launcher then composes each job again where it runs. At ~0.25 s a composition, the 50 jobs
of ``compare_mechanisms`` waited 8-11 s for it (measured). Jobs that differ only in the numbers they set
compose alike, so :class:`ShapeValidation` composes one job per *shape* instead of all:

* config-group choices (``+mechanism=enclave``, ``region=synthetic``) count whole;
* a plain number or switch (``seed=40``, ``model.trust.rate=0.3``) counts by key and type
  only: a field that takes one int takes every int, and range checks run in each job anyway;
* anything else (strings, which may name an enum value or hold an interpolation; lists; dicts;
  ``+key``/``~key`` edits) counts whole.

:class:`SimBasicSweeper`, the default sweeper of ``python -m sim run -m`` (``configs/hydra/
sweeper/sim_basic.yaml``), is Hydra's basic sweeper with this check; the SALib sweeper
(:mod:`sim.sensitivity`) uses it too. Hydra instantiates sweepers only from its
``hydra_plugins`` namespace, so :func:`publish` puts them there, called by a callback that the
config installs (callbacks are made before the sweeper).
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.experimental.callback import Callback

# Hydra's first plugin scan executes its core plugin modules again, which makes new classes of
# them: scan first, so that the BasicSweeper subclassed below is the one Hydra's module uses.
Plugins.instance()
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper  # noqa: E402  (no public name)

PLUGIN_MODULE = "hydra_plugins.sim_basic"


class ShapeValidation:
    """Mixin for Hydra sweepers: ``validate_batch_is_legal`` composes one job per shape."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        loader = self.hydra_context.config_loader
        parser = OverridesParser.create(config_loader=loader)
        is_group = functools.cache(lambda key: bool(loader.get_group_options(key)))
        seen: set[tuple] = set()
        for overrides in batch:
            key = job_shape(parser.parse_overrides(list(overrides)), is_group)
            if key not in seen:
                seen.add(key)
                loader.load_sweep_config(master_config=self.config, sweep_overrides=list(overrides))


def job_shape(parsed, is_group) -> tuple:
    """What decides whether a job's overrides compose (see the module docstring)."""
    shape = []
    for o in parsed:
        value = o.value()
        plain = (not (o.is_add() or o.is_force_add() or o.is_delete()) and not is_group(o.key_or_group)
                 and isinstance(value, (bool, int, float)))
        shape.append((o.input_line.split("=", 1)[0], type(value).__name__) if plain else (o.input_line,))
    return tuple(shape)


class SimBasicSweeper(ShapeValidation, BasicSweeper):
    """Hydra's basic sweeper (same jobs, order and batches) with the check by shape."""


def publish(cls: type, module_name: str) -> None:
    """Make the sweeper ``cls`` instantiable by Hydra as ``<module_name>.<cls.__name__>``.

    Hydra instantiates plugin classes only from inside its ``hydra_plugins`` namespace and
    imports them by that name: a subclass is put in a module of that name (made here, in
    ``sys.modules``) and registered with Hydra's plugin registry. Neither crosses processes:
    launchers send the task, not the sweeper, and Hydra leaves its plugin registry out of the
    state it sends to jobs.
    """
    plugins = Plugins.instance()
    name = cls.__name__
    if f"{module_name}.{name}" in plugins.class_name_to_class and module_name in sys.modules:
        return
    module = sys.modules.get(module_name) or types.ModuleType(module_name, f"{cls.__module__}.{name} for Hydra")
    alias = type(name, (cls,), {"__module__": module_name, "__doc__": cls.__doc__})
    setattr(module, name, alias)
    sys.modules[module_name] = module
    plugins.register(alias)


class RegisterSweeper(Callback):
    """Installed by ``configs/config.yaml``: registers the sweeper before a multirun needs it."""

    def on_multirun_start(self, config, **kwargs) -> None:
        publish(SimBasicSweeper, PLUGIN_MODULE)
