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
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.errors import ConfigError, UserError
from sim.runs.failures import prune_empty, remove_entries
from sim.runs.layout import completed_runs

class ShapeValidation:
    """Mixin for Hydra sweepers: ``validate_batch_is_legal`` composes one job per shape, checks
    its values as a run would (ranges, choices, unknown keys, mechanism selection, a user's city
    table), and every job's plain numbers against their ranges: a mistake stops the sweep before
    any job runs, in one paragraph (exit 2)."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        try:
            self._check(batch)
        except UserError as err:
            discard_new_sweep(Path(str(self.config.hydra.sweep.dir)))
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)

    def _check(self, batch: Sequence[Sequence[str]]) -> None:
        loader = self.hydra_context.config_loader
        parser = OverridesParser.create(config_loader=loader)
        is_group = functools.cache(lambda key: bool(loader.get_group_options(key)))
        fields: dict[tuple, dict] = {}
        tables: set[str] = set()
        first = getattr(self, "_jobs_checked", 0)
        self._jobs_checked = first + len(batch)
        for num, overrides in enumerate(batch, first):
            check_resumed_job(self.config, num, overrides)
            parsed = parser.parse_overrides(list(overrides))
            key = job_shape(parsed, is_group)
            if key not in fields:
                cfg = loader.load_sweep_config(master_config=self.config, sweep_overrides=list(overrides))
                fields[key] = check_job(cfg, overrides, tables)
            check_numbers(parsed, fields[key], overrides)


# What a sweep writes in its folder before its first job: Hydra's record and the progress state.
SWEEP_ENTRIES = ("multirun.yaml", ".progress.json", ".progress_runs", "progress.log", "sensitivity_design.json")
NEW_SWEEPS: set[Path] = set()   # sweep folders this process created (sim.sweeps.preflight notes them)


def discard_new_sweep(sweep_dir: Path) -> None:
    """A sweep stopped before any job ran leaves nothing: its bookkeeping goes, and its folder if
    this sweep made it."""
    if sweep_dir.resolve() in NEW_SWEEPS and sweep_dir.is_dir():
        remove_entries(p for p in sweep_dir.iterdir() if p.name in SWEEP_ENTRIES)
        prune_empty(sweep_dir)


def check_job(cfg, overrides: Sequence[str], tables: set[str]) -> dict:
    """A composed job's config checked as a run checks it; returns its schema fields by key."""
    from sim.config.loading import schema_fields, validate

    job = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    validate(job, list(overrides), dict(cfg.hydra.runtime.choices))
    if job.region.get("name") == "csv" and str(job.region.get("path")) not in tables:
        from sim.data import load_region

        tables.add(str(job.region.get("path")))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # the imputation note: each job's run.log has it
            load_region(job.region)
    return dict(schema_fields(job))


def check_resumed_job(config, num: int, overrides: Sequence[str]) -> None:
    """A job folder that holds complete runs is only ever resumed by the same job: a sweep with
    other values into it would rewrite its .hydra record and mix two sweeps."""
    if OmegaConf.to_container(config.hydra.sweep, resolve=False).get("subdir") != "${hydra.job.num}":
        return
    try:
        folder = Path(str(config.hydra.sweep.dir)) / str(num)
    except OmegaConfBaseException:   # outside a Hydra run (no ${now:} resolver): no folder to protect
        return
    recorded = folder / ".hydra" / "overrides.yaml"
    if not recorded.is_file() or not completed_runs(folder):
        return
    import yaml

    def same(items):
        return sorted(str(o) for o in items if not str(o).lstrip("+~").startswith("resume="))
    before = same(yaml.safe_load(recorded.read_text()) or [])
    if before != same(overrides):
        raise UserError(f"{folder} holds complete runs of another job ({' '.join(before)}), not of this sweep's job "
                        f"{num} ({' '.join(same(overrides))}). Nothing was run or changed. resume=true continues "
                        "only the same sweep; give another folder with hydra.sweep.dir=PATH.")


def check_numbers(parsed, fields: dict, overrides: Sequence[str]) -> None:
    """Plain numbers, which do not change a job's shape, against their schema ranges."""
    from sim.config.loading import value_problem

    for override in parsed:
        value = override.value()
        if override.key_or_group in fields and isinstance(value, (int, float)) and not isinstance(value, bool):
            problem = value_problem(override.key_or_group, value, dict(fields[override.key_or_group].metadata))
            if problem:
                raise ConfigError(f"Invalid sweep: {problem} (job with overrides {' '.join(overrides)}). Nothing "
                                  "was run. Fix the value in the sweep's overrides or experiment.")


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
