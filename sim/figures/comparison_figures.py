"""The figures of a sweep report (``python -m sim report``): designs compared over many seeds.

Each builder takes the report's aggregated tables and returns a
:class:`~matplotlib.figure.Figure`; :mod:`sim.analysis.report` saves them. The figures of a
single run are in :mod:`sim.figures.run_figures`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.figures.axes import require_columns, year_axis
from sim.figures.style import NEUTRAL, new_figure


def _design_legend(fig: Figure, handles: list, n: int) -> None:
    fig.legend(handles=handles, loc="outside lower center", ncols=1 if n > 4 else min(n, 2),
               columnspacing=1.0)


def plot_design_trajectories(bands: pd.DataFrame, colors: dict[str, str], ylabel: str) -> Figure:
    """Per design, the mean over seeds of a yearly quantity and its 95% band.

    ``bands`` has columns design, year, mean, ci_low, ci_high; ``colors`` maps design -> colour
    in legend order.
    """
    require_columns(bands, ["design", "year", "mean", "ci_low", "ci_high"], "bands")
    designs = [d for d in colors if (bands["design"] == d).any()]
    fig, ax = new_figure("single", 2.5 + 0.16 * len(designs))
    handles = []
    for design in designs:
        b = bands[bands["design"] == design].sort_values("year")
        ax.fill_between(b["year"], b["ci_low"], b["ci_high"], color=colors[design], alpha=0.15, linewidth=0)
        handles += ax.plot(b["year"], b["mean"], color=colors[design], label=design)
    ax.set_ylabel(ylabel)
    year_axis(ax)
    _design_legend(fig, handles, len(designs))
    return fig


def plot_effects_forest(effects: pd.DataFrame, metrics: dict[str, tuple[str, str]],
                        colors: dict[str, str]) -> Figure:
    """Difference from the baseline with its 95% interval, one forest panel per metric.

    ``effects`` has columns design, metric, diff_mean, diff_ci_low, diff_ci_high; ``metrics``
    maps metric -> (name, unit) in panel order; ``colors`` maps design -> colour, top to bottom.
    """
    require_columns(effects, ["design", "metric", "diff_mean", "diff_ci_low", "diff_ci_high"], "effects")
    shown = [m for m in metrics if (effects["metric"] == m).any()]
    designs = [d for d in colors if (effects["design"] == d).any()]
    ncols = 1 if len(shown) == 1 else 2
    nrows = -(-len(shown) // ncols)
    fig, axes = new_figure("double" if ncols == 2 else "single", nrows * (0.75 + 0.2 * len(designs)) + 0.2,
                           nrows=nrows, ncols=ncols, sharey=True)
    axes = np.atleast_1d(axes).ravel()
    y = np.arange(len(designs))[::-1]
    for ax, metric in zip(axes, shown):
        rows = effects[effects["metric"] == metric].set_index("design").reindex(designs)
        mean = rows["diff_mean"].to_numpy(float)
        low, high = rows["diff_ci_low"].to_numpy(float), rows["diff_ci_high"].to_numpy(float)
        ax.axvline(0, color=NEUTRAL, linewidth=0.6, linestyle="--", zorder=0)
        for i, design in enumerate(designs):
            err = None if np.isnan(low[i]) else [[mean[i] - low[i]], [high[i] - mean[i]]]
            ax.errorbar(mean[i], y[i], xerr=err, fmt="o", color=colors[design], capsize=2,
                        elinewidth=0.9, markersize=3.5)
        name, unit = metrics[metric]
        ax.set_title(name, fontweight="normal", loc="left")
        ax.set_xlabel(f"Difference ({unit})")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    for ax in axes[len(shown):]:
        ax.set_visible(False)
    axes[0].set_yticks(y, designs)
    axes[0].set_ylim(-0.6, len(designs) - 0.4)
    return fig


def plot_inequality_output(comparison: pd.DataFrame, colors: dict[str, str], xlabel: str,
                           ylabel: str) -> Figure:
    """Final Theil against final GDP: per design the mean with 95% interval crosses.

    ``comparison`` has columns design, metric, mean, ci_low, ci_high with the metrics
    gdp_total_final (x) and theil_final (y), in the units of the labels. Designs are told
    apart by colour and marker and named in the legend (labels on the points would overlap).
    """
    require_columns(comparison, ["design", "metric", "mean", "ci_low", "ci_high"], "comparison")
    stats = comparison.set_index(["metric", "design"])
    designs = [d for d in colors if ("gdp_total_final", d) in stats.index and ("theil_final", d) in stats.index]
    fig, ax = new_figure("single", 2.5 + 0.16 * len(designs))

    def err(s: pd.Series):
        return None if pd.isna(s["ci_low"]) else [[s["mean"] - s["ci_low"]], [s["ci_high"] - s["mean"]]]

    handles = []
    for i, design in enumerate(designs):
        x, y = stats.loc[("gdp_total_final", design)], stats.loc[("theil_final", design)]
        handles.append(ax.errorbar(x["mean"], y["mean"], xerr=err(x), yerr=err(y), fmt="osD^vPX"[i % 7],
                                   color=colors[design], capsize=2, elinewidth=0.9, markersize=4,
                                   label=design))
    ax.margins(0.15)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _design_legend(fig, handles, len(designs))
    return fig
