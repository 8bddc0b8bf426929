"""Figures of a sweep report (:mod:`sim.analysis.report`): cooperation trajectories per design, the
effects against the baseline and inequality against output, as PNG + PDF + JSON sidecar."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.analysis.stats import interval_columns

#: metrics shown in other units in the figures: unit and factor from the summary's unit
FIGURE_UNITS: dict[str, tuple[str, float]] = {"gdp_total_final": ("trillion yuan", 1e-4)}
FIGURES = ("cooperation_trajectories", "effects_forest", "inequality_output")


class UnreadableTable(Exception):
    """A run's table that a complete run should have cannot be read (truncated, corrupted)."""


def _timeseries(path: Path, column: str, seeds) -> pd.DataFrame:
    """A run's (or, in the table layout, a job's complete runs') years and values of ``column``."""
    try:
        frame = pd.read_parquet(path)
        if "seed" in frame.columns:   # the table layout: all of a job's replicates in one file
            frame = frame[frame["seed"].isin(list(seeds))]
        return frame[["year", column]]
    except Exception as err:   # pyarrow's ArrowInvalid, OSError, a missing column: all say "unreadable"
        raise UnreadableTable(f"{path} cannot be read ({type(err).__name__}: {str(err).splitlines()[0]})") from None


def trajectory_bands(runs: pd.DataFrame, sweep_dir: Path, column: str = "cooperation_index") -> pd.DataFrame:
    """Per design and year, mean and 95% interval over seeds of one timeseries column."""
    frames = [_timeseries(sweep_dir / run_dir / "timeseries.parquet", column, group["seed"]).assign(design=design)
              for (run_dir, design), group in runs.groupby(["run_dir", "design"], sort=False)]
    years = pd.concat(frames, ignore_index=True)
    rows = [{"design": design, "year": year, **interval_columns(g[column])}
            for (design, year), g in years.groupby(["design", "year"], sort=False)]
    return pd.DataFrame(rows)


def design_colors(designs: list[str], baseline: str | None) -> dict[str, str]:
    """Baseline in black, the other designs in the palette's order (cycling beyond it)."""
    from sim.figures.style import PALETTE

    others = [d for d in designs if d != baseline]
    colors = {baseline: PALETTE[-1]} if baseline in designs else {}
    colors.update({d: PALETTE[i % (len(PALETTE) - 1)] for i, d in enumerate(others)})
    return colors


def _scaled(comparison: pd.DataFrame) -> pd.DataFrame:
    """Comparison values in figure units (e.g. GDP in trillion yuan)."""
    out = comparison.copy()
    factor = out["metric"].map(lambda m: FIGURE_UNITS.get(m, ("", 1.0))[1])
    for col in ("mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low", "diff_ci_high"):
        out[col] = out[col] * factor
    return out


def figures(bands: pd.DataFrame, comparison: pd.DataFrame, baseline: str | None,
            out_dir: Path, sidecar: dict, metrics: dict[str, tuple[str, str]]) -> list[str]:
    """Write the report's figures; returns their stems. ``bands``: :func:`trajectory_bands`;
    ``metrics``: key -> (name, unit)."""
    from sim.figures.comparison_figures import plot_design_trajectories, plot_effects_forest, plot_inequality_output
    from sim.figures.style import save_figure, use_style

    colors = design_colors(list(dict.fromkeys(comparison["design"])), baseline)
    scaled = _scaled(comparison)
    units = {m: FIGURE_UNITS.get(m, (unit, 1.0))[0] for m, (_, unit) in metrics.items()}
    labels = {m: f"{name} ({units[m]})" for m, (name, _) in metrics.items()}
    written = []
    with use_style():
        fig = plot_design_trajectories(bands, colors,
                                       ylabel=labels["cooperation_index"])
        save_figure(fig, out_dir, "cooperation_trajectories", sidecar)
        written.append("cooperation_trajectories")
        effects = scaled.dropna(subset=["diff_mean"])
        if not effects.empty:
            fig = plot_effects_forest(effects, {m: (metrics[m][0], units[m]) for m in metrics},
                                      {d: c for d, c in colors.items() if d != baseline})
            save_figure(fig, out_dir, "effects_forest", {**sidecar, "baseline": baseline})
            written.append("effects_forest")
        if {"theil_final", "gdp_total_final"} <= set(scaled["metric"]):
            fig = plot_inequality_output(scaled, colors, xlabel=labels["gdp_total_final"],
                                         ylabel=labels["theil_final"])
            save_figure(fig, out_dir, "inequality_output", sidecar)
            written.append("inequality_output")
    for stem in set(FIGURES) - set(written):   # not drawn this time: drop an earlier report's version
        for suffix in (".png", ".pdf", ".json"):
            (out_dir / f"{stem}{suffix}").unlink(missing_ok=True)
    return written
