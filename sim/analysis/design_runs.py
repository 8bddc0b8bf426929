"""Runs of designs over seeds, for the validation and the calibration.

A *design* is a tuple of overrides, composed by :func:`sim.config.loading.load_config` exactly as
``python -m sim run`` would compose it, and run by :func:`sim.runs.runner.simulate` without output
files. Each run is kept as a small :class:`RunRecord` (what the pattern checks and the calibration
need); runs are spread over processes with joblib, each distinct design run once per seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

NO_OUTPUT = ("output.figures=false", "output.events=false")


@dataclass
class RunRecord:
    """What the patterns need from one run (small and picklable, unlike the model)."""

    seed: int
    timeseries: pd.DataFrame
    summary: dict
    cities: pd.DataFrame        # one row per city: static attributes and run statistics
    links: pd.DataFrame         # links.parquet: source, target, strength


def record(result) -> RunRecord:
    """Reduce a :class:`sim.runs.runner.RunResult` to a :class:`RunRecord`."""
    from sim.model.city_model import SUBSIDY

    m = result.model
    by_city = result.cities.groupby("city")
    joined = {e["city"]: e["year"] for e in result.summary.get("council_entry_order", [])}
    cities = pd.DataFrame({
        "name": m.names.astype(str), "province": m.region.cities["province"].astype(str).to_numpy(),
        "core": m.core, "circle": m.circle_code, "lat": m.lat, "lon": m.lon,
        "population": m.population_in(m.start_year), "gdp_initial": m.region.cities["gdp"].to_numpy(float),
        "similarity": m.similarity(), "subsidy_mean": by_city["subsidy"].mean().to_numpy(),
        "subsidy_final": m.traits[:, SUBSIDY],
        "joined": [joined.get(str(n), np.nan) for n in m.names],
    })
    summary = {k: v for k, v in result.summary.items() if k not in ("versions",)}
    return RunRecord(int(m.cfg.seed), result.timeseries, summary, cities, result.links)


def run_batch(overrides: Sequence[str], seeds: Sequence[int]) -> list[RunRecord]:
    """Run one design for several seeds. The config is composed once with ``seed=<first>``; for the
    other seeds only the top-level ``seed`` key differs, which is what the ``seed=`` override sets
    (tests check that the two give the same config hash)."""
    from sim.config.loading import load_config
    from sim.runs.runner import simulate

    out = []
    with warnings.catch_warnings():
        # Imputed values of the region table (Middle Yangtze) are flagged in every summary instead.
        warnings.simplefilter("ignore", UserWarning)
        cfg = load_config([*overrides, *NO_OUTPUT, f"seed={seeds[0]}"])
        for seed in seeds:
            run_cfg = cfg.copy()
            run_cfg.seed = int(seed)
            out.append(record(simulate(run_cfg)))
    return out


def run_designs(designs: dict[str, Sequence[str]], seeds: Sequence[int], jobs: int = 1,
                chunk: int = 10) -> dict[str, list[RunRecord]]:
    """Run every design for every seed, each distinct override tuple once; records in seed order."""
    from joblib import Parallel, delayed

    unique = list(dict.fromkeys(tuple(ov) for ov in designs.values()))
    # longest runs first, so that the pool's tail is short
    unique.sort(key=lambda ov: -max([int(o.split("=")[1]) for o in ov if o.startswith("years=")] or [20]))
    seeds = [int(s) for s in seeds]
    tasks = [(ov, seeds[i:i + chunk]) for ov in unique for i in range(0, len(seeds), chunk)]
    if jobs == 1:
        batches = [run_batch(ov, ss) for ov, ss in tasks]
    else:
        batches = Parallel(n_jobs=jobs)(delayed(run_batch)(ov, ss) for ov, ss in tasks)
    by_design: dict[tuple, list[RunRecord]] = {}
    for (ov, _), batch in zip(tasks, batches):
        by_design.setdefault(ov, []).extend(batch)
    return {name: by_design[tuple(ov)] for name, ov in designs.items()}
