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

``SimBasicSweeper``, the default sweeper of ``python -m sim run -m``
(``sim/configs/hydra/sweeper/sim_basic.yaml``), is Hydra's basic sweeper with this check; the SALib
sweeper (:mod:`sim.sweeps.salib`) uses it too. Hydra instantiates sweepers only from its
``hydra_plugins`` namespace: both are declared there, in ``hydra_plugins/sim_sweepers``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser

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


def job_overrides(params: dict, task: Sequence[str]) -> list[list[str]]:
    """Every job's overrides, in job-number order, as Hydra's basic sweeper expands them: the
    sweeper's ``params`` then the command line's overrides (a key in both: the command line's
    value, at the params' place)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    parsed = OverridesParser.create().parse_overrides([*(f"{k}={v}" for k, v in params.items()), *task])
    return [job for batch in BasicSweeper.split_arguments(parsed, max_batch_size=None) for job in batch]
