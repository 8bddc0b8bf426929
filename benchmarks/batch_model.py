"""A Mesa-compatible wrapper of :class:`sim.model.city_model.CityModel` for ``mesa.batch_run``.

``BatchCityModel(design=..., seed=...)`` builds the same model as
``python -m sim run +mechanism=<design> seed=<seed> output.figures=false output.events=false``
(a subclass of ``CityModel``, so of ``mesa.Model``), stops itself after ``years`` steps
(``batch_run`` would otherwise run ``max_steps + 1`` steps) and, at the last step, collects
the same summary metrics as :func:`sim.runs.runner.simulate` (``summarize`` of the yearly time series
plus every mechanism's summary) through a ``mesa.DataCollector``. Nothing is written to disk.

The composed configuration is cached per (design, overrides) in each worker process, as our
sweep path composes it once per job of ``replicates`` runs; the region is loaded per run, as
``simulate`` does.
"""

from __future__ import annotations

import functools
import warnings

import mesa

from sim.config.loading import load_config
from sim.model.city_model import CityModel
from sim.data import load_region
from sim.runs.runner import summarize

SUMMARY_KEYS = ("cooperation_index", "cooperation_peak", "cooperation_peak_year", "agreements_per_project",
                "gdp_total_final", "gdp_growth_mean", "theil_final", "gini_final",
                "core_periphery_ratio_final", "subsidy_per_firm_mean", "firms_lost_share", "trust_final")


@functools.lru_cache(maxsize=None)
def _config(design: str, overrides: tuple[str, ...]):
    return load_config([f"+mechanism={design}", "output.figures=false", "output.events=false", *overrides])


class BatchCityModel(CityModel):
    """CityModel built from keyword arguments, as ``mesa.batch_run`` calls model classes."""

    def __init__(self, design: str = "none", seed: int = 0, overrides: tuple[str, ...] = ()) -> None:
        cfg = _config(design, tuple(overrides)).copy()
        cfg.seed = int(seed)
        with warnings.catch_warnings():   # as the CLI, which logs region imputation warnings
            warnings.simplefilter("ignore", UserWarning)
            super().__init__(cfg, load_region(cfg.region))
        self.years = int(cfg.years)
        self.summary: dict = {}
        self.running = True
        # batch_run reads model_vars[name][step] at the last step, so collect once per step;
        # the reporters are empty until the last year.
        self.datacollector = mesa.DataCollector(
            model_reporters={key: functools.partial(_metric, key=key) for key in SUMMARY_KEYS}
            | {"mechanism_summary": functools.partial(_metric, key="_mechanisms")})

    def step(self) -> None:
        super().step()
        if self.steps >= self.years:
            self.running = False
            ts = self.recorder.timeseries()
            extra: dict = {}
            for mechanism in self.mechanisms:
                extra.update(mechanism.summary(ts))
            self.summary = {**summarize(ts), "_mechanisms": extra}
        self.datacollector.collect(self)


def _metric(model: BatchCityModel, key: str):
    return model.summary.get(key)
