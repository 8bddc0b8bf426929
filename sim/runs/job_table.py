"""A table-layout job (``output.layout=table``): its replicates gathered in memory, written once.

Each kind of table a run writes (``timeseries``, ``cities``, ``links``, the mechanisms' tables,
``events`` if asked for) becomes one parquet file for the whole job, its rows the replicates' rows
with ``seed`` first and then a column per value the job's overrides set (``mechanism``,
``model.trust.rate``, ...), so that a sweep's tables concatenate without joins. ``summaries.json``,
written last, holds every replicate's summary (as its ``summary.json`` would in the folder
layout) and the replicates that failed. No figures are drawn in this layout: they are per run.
Nothing is written until every replicate has run, so an interrupted job leaves no partial table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, ListConfig, OmegaConf

from sim import interrupts
from sim.files import write_json, write_parquet
from sim.runs.layout import JOB_FILE
from sim.runs.runner import RunResult, run_tables

NOT_SWEPT = ("seed", "replicates", "resume")   # the seed has its own column; the others do not change a run


def swept_values(cfg, overrides) -> dict:
    """The values a job's overrides set, by key: the config's value where it is a number, switch or
    text, else the override as written (a config group's choice, e.g. ``mechanism: three_tier``)."""
    values = {}
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.key_or_group
        if key in NOT_SWEPT or key.startswith(("hydra.", "output.")) or override.is_delete():
            continue
        value = OmegaConf.select(cfg, key, default=None)
        if value is None or isinstance(value, (DictConfig, ListConfig)):
            given = override.value()
            value = "+".join(map(str, given)) if isinstance(given, (list, tuple)) else str(given)
        values[key] = value
    return values


class JobTable:
    """The replicates of one job, added one by one, then written as one table per kind."""

    def __init__(self, cfg, overrides) -> None:
        self.cfg = cfg
        self.swept = swept_values(cfg, overrides)
        self.frames: dict[str, list[tuple[int, pd.DataFrame]]] = {}
        self.runs: list[dict] = []
        self.failed: list[dict] = []
        self.config: dict | None = None

    def add(self, result: RunResult, command: str) -> None:
        seed = int(result.summary["seed"])
        for name, frame in run_tables(result, self.cfg).items():
            self.frames.setdefault(name, []).append((seed, frame))
        self.runs.append({**result.summary, "command": command})
        if self.config is None:
            self.config = result.config

    def fail(self, seed: int, err: BaseException) -> None:
        lines = str(err).strip().splitlines()
        self.failed.append({"seed": seed, "error": f"{type(err).__name__}: {lines[-1] if lines else ''}".rstrip(": ")})

    def _table(self, frames: list[tuple[int, pd.DataFrame]]) -> pd.DataFrame:
        """The replicates' rows of one kind, ``seed`` and the swept values first (a value whose key
        is one of the table's own columns is named ``<key> (swept)``)."""
        rows = pd.concat([frame for _, frame in frames], ignore_index=True)
        seeds = np.repeat([seed for seed, _ in frames], [len(frame) for _, frame in frames])
        leading = {"seed": seeds, **{(k if k not in rows.columns else f"{k} (swept)"): np.repeat(v, len(rows))
                                     for k, v in self.swept.items()}}
        return pd.concat([pd.DataFrame(leading), rows], axis=1)

    def write(self, out_dir) -> None:
        """Tables first, ``summaries.json`` last (an earlier attempt's is removed before anything)."""
        (out_dir / JOB_FILE).unlink(missing_ok=True)
        if not self.failed:
            (out_dir / "error.txt").unlink(missing_ok=True)   # an earlier, failed or interrupted attempt's
        for name, frames in self.frames.items():
            write_parquet(self._table(frames), out_dir / f"{name}.parquet")
        if self.config is not None:
            write_json(self.config, out_dir / "config.json")
        interrupts.check()   # an interrupt a finalizer swallowed must not leave a complete-looking job
        write_json({"layout": "table", "swept": self.swept, "runs": self.runs, "failed": self.failed},
                   out_dir / JOB_FILE)
