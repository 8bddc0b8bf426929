"""One simulation from a resolved config to its tables, summary and run folder.

The command line, sweeps and benchmarks all go through :func:`simulate` and
:func:`write_run`, so every path produces the same outputs contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim import interrupts
from sim.config.loading import config_hash, resolved
from sim.figures.processes import InProcess
from sim.model.city_model import CityModel
from sim.files import SUMMARY_FILE, write_json, write_parquet
from sim.provenance import git_revision, package_versions
from sim.data import load_region

LAST_YEARS = 5   # the cooperation index averages the last five simulated years


@dataclass
class RunResult:
    model: CityModel
    timeseries: pd.DataFrame
    cities: pd.DataFrame
    events: pd.DataFrame
    links: pd.DataFrame
    summary: dict
    config: dict   # the resolved configuration, hashed in the summary and written as config.json


def summarize(ts: pd.DataFrame) -> dict:
    """Headline metrics of a run from its yearly time series."""
    coop = ts["cooperation_index"]
    peak_row = int(coop.to_numpy().argmax())
    projects = ts["projects_total"].sum()
    placed = ts["firms_placed"].sum()
    arrived = ts["firms_arrived"].sum()
    last = ts.iloc[-1]
    return {
        "cooperation_index": float(coop.tail(LAST_YEARS).mean()),
        "cooperation_peak": float(coop.iloc[peak_row]),
        "cooperation_peak_year": int(ts["year"].iloc[peak_row]),
        "agreements_per_project": float(ts["agreements_total"].sum() / projects) if projects else None,
        "gdp_total_final": float(last["gdp_total"]),
        "gdp_growth_mean": float(ts["gdp_growth"].mean()),
        "theil_final": float(last["theil"]),
        "gini_final": float(last["gini"]),
        "core_periphery_ratio_final": float(last["core_periphery_ratio"]),
        "subsidy_per_firm_mean": float(ts["subsidy_total"].sum() / placed) if placed else None,
        "firms_lost_share": float(ts["firms_lost"].sum() / arrived) if arrived else None,
        "trust_final": float(last["trust_mean"]),
    }


def simulate(cfg) -> RunResult:
    """Run the model described by a resolved config; no files are written."""
    region = load_region(cfg.region)
    model = CityModel(cfg, region)
    recorder = model.run()
    ts = recorder.timeseries()
    extra: dict = {}
    for mechanism in model.mechanisms:
        extra.update(mechanism.summary(ts))
    imputed = region.cities.loc[region.cities["imputed"] != "", ["name", "imputed"]]
    config = resolved(cfg)
    summary = {
        **summarize(ts),
        **extra,
        "seed": int(cfg.seed),
        "region": region.name,
        "n_cities": len(region),
        "years": f"{int(ts['year'].iloc[0])}-{int(ts['year'].iloc[-1])}",
        "mechanisms": sorted(k for k in (cfg.get("mechanism") or {}) if k != "none"),
        "imputed": dict(zip(imputed["name"], imputed["imputed"])),
        "config_hash": config_hash(config),
        "versions": package_versions(),
        "git_revision": git_revision(),
    }
    return RunResult(model, ts, recorder.cities(), recorder.events(), recorder.links(), summary, config)


def run_tables(result: RunResult, cfg) -> dict[str, pd.DataFrame]:
    """A run's tables by file name (without ``.parquet``), in both layouts (:mod:`sim.runs.layout`)."""
    tables = {"timeseries": result.timeseries, "cities": result.cities, "links": result.links}
    for mechanism in result.model.mechanisms:
        tables.update(mechanism.tables())
    if cfg.output.events:
        tables["events"] = result.events
    return tables


def write_run(result: RunResult, cfg, out_dir: Path, command: str = "", drawer: InProcess | None = None) -> Path:
    """Write tables, figures and finally summary.json, whose presence marks a complete run.

    ``drawer`` draws the figures (see :mod:`sim.figures.processes`); they are asked for first so
    that helper processes draw them while the tables are written.
    """
    out_dir = Path(out_dir)
    (out_dir / SUMMARY_FILE).unlink(missing_ok=True)
    (out_dir / "error.txt").unlink(missing_ok=True)   # an earlier, failed or interrupted attempt's
    drawer = drawer or InProcess()
    if cfg.output.figures:
        sidecar = {"command": command, "config_hash": result.summary["config_hash"], "seed": int(cfg.seed)}
        drawer.submit(out_dir / "figures", [(m.name, m.figure_panels) for m in result.model.mechanisms],
                      result.timeseries, result.cities, result.links, sidecar)
    try:
        for name, table in run_tables(result, cfg).items():
            write_parquet(table, out_dir / f"{name}.parquet")
        write_json(result.config, out_dir / "config.json")
    finally:
        if cfg.output.figures:
            drawer.wait()   # even after a failed write: the next replicate must find nothing pending
    interrupts.check()   # an interrupt that a finalizer swallowed must not leave a complete-looking run
    write_json({**result.summary, "command": command}, out_dir / SUMMARY_FILE)
    return out_dir
