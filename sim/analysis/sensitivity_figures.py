"""Figures of a sensitivity analysis (:mod:`sim.analysis.sensitivity`): Morris mu* against sigma and
the Morris ranking, or the Sobol indices; one panel per output, PNG + PDF + JSON sidecar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.sensitivity_report import output_label, short_name


def _panels(n: int, height: float):
    from sim.figures.style import new_figure

    ncols = 1 if n == 1 else 2
    nrows = -(-n // ncols)
    fig, axes = new_figure("double" if ncols == 2 else "single", nrows * height + 0.5, nrows=nrows, ncols=ncols)
    axes = np.atleast_1d(axes).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def _styles(names: list[str]) -> dict[str, tuple[str, str]]:
    from sim.figures.style import PALETTE

    colors = [c for c in PALETTE if c != "#F0E442"]   # yellow is too faint for markers
    return {p: (colors[i % len(colors)], "osD^vPX<>"[i % 9]) for i, p in enumerate(names)}


def _within_noise(group: pd.DataFrame) -> pd.Series:
    return np.isfinite(group["noise_floor"]) & (group["mu_star"] <= group["noise_floor"])


def plot_morris(table: pd.DataFrame, names: list[str]):
    """mu* against sigma, one panel per output; hollow markers: within seed noise."""
    from matplotlib.lines import Line2D

    outputs = list(dict.fromkeys(table["output"]))
    styles = _styles(names)
    fig, axes = _panels(len(outputs), 2.3)
    for ax, output in zip(axes, outputs):
        group = table[table["output"] == output].set_index("parameter")
        noisy = _within_noise(group)
        top = max(float((group["mu_star"] + group["mu_star_conf"]).max()), float(group["sigma"].max()), 1e-300)
        lim = top * 1.08
        ax.plot([0, lim], [0, lim], color="#7f7f7f", linewidth=0.6, linestyle="--", zorder=1)
        for p in names:
            r = group.loc[p]
            color, marker = styles[p]
            xerr = [[min(r["mu_star_conf"], r["mu_star"])], [r["mu_star_conf"]]]   # mu* >= 0
            ax.errorbar(r["mu_star"], r["sigma"], xerr=xerr, fmt=marker, color=color, capsize=1.5,
                        elinewidth=0.7, markersize=4, zorder=3, markerfacecolor="white" if noisy[p] else color)
        ax.set_xlim(0, lim)
        ax.set_ylim(0, lim)
        name, unit = output_label(output)
        ax.set_title(name, fontweight="normal", loc="left")
        ax.set_xlabel(f"μ* ({unit} per range)" if unit else "μ* (per range)")
        ax.set_ylabel("σ")
    handles = [Line2D([], [], linestyle="", marker=styles[p][1], color=styles[p][0], markersize=4) for p in names]
    labels = [short_name(p) for p in names]
    handles.append(Line2D([], [], color="#7f7f7f", linestyle="--", linewidth=0.6))
    labels.append("σ = μ*")
    if np.isfinite(table["noise_floor"]).any():
        handles.append(Line2D([], [], linestyle="", marker="o", color="#333333", markerfacecolor="white", markersize=4))
        labels.append("hollow: μ* within seed noise")
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)), frameon=False)
    return fig


def plot_morris_ranking(table: pd.DataFrame, names: list[str]):
    """mu* as a share of the largest mu* of each output, with its 95% interval and each
    parameter's noise floor; one panel per output."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    outputs = list(dict.fromkeys(table["output"]))
    order = (table.groupby("parameter")["mu_star_norm"].mean().reindex(names).sort_values().index.tolist())
    fig, axes = _panels(len(outputs), 0.5 + 0.17 * len(names))
    y = np.arange(len(order))
    signal, noise = "#0072B2", "#b9cfe0"
    for i, (ax, output) in enumerate(zip(axes, outputs)):
        group = table[table["output"] == output].set_index("parameter").reindex(order)
        top = float(group["mu_star"].max()) or 1.0
        low = np.minimum(group["mu_star_conf"], group["mu_star"])   # mu* >= 0
        colors = [noise if n else signal for n in _within_noise(group)]
        ax.barh(y, group["mu_star"] / top, xerr=[low / top, group["mu_star_conf"] / top], color=colors, height=0.6,
                error_kw={"elinewidth": 0.7, "capsize": 1.5, "ecolor": "#333333"})
        ax.plot(group["noise_floor"] / top, y, linestyle="", marker="|", markersize=7, markeredgewidth=1.2,
                color="#D55E00", zorder=4)
        name, _ = output_label(output)
        ax.set_title(name, fontweight="normal", loc="left")
        ax.set_xlabel("μ* / largest μ*")
        ax.set_yticks(y, [short_name(p) for p in order] if i % 2 == 0 else [""] * len(order))
        ax.set_xlim(0, None)
    if np.isfinite(table["noise_floor"]).any():
        fig.legend([Patch(color=signal), Patch(color=noise),
                    Line2D([], [], linestyle="", marker="|", markersize=7, markeredgewidth=1.2, color="#D55E00")],
                   ["above seed noise", "within seed noise", "noise floor"], loc="outside lower center", ncols=3,
                   frameon=False)
    return fig


def plot_sobol(table: pd.DataFrame, names: list[str]):
    """S1 and ST with 95% intervals, one panel per output."""
    from matplotlib.patches import Patch

    outputs = list(dict.fromkeys(table["output"]))
    order = table.groupby("parameter")["ST"].mean().reindex(names).sort_values().index.tolist()
    fig, axes = _panels(len(outputs), 0.5 + 0.22 * len(names))
    y = np.arange(len(order))
    for i, (ax, output) in enumerate(zip(axes, outputs)):
        group = table[table["output"] == output].set_index("parameter").reindex(order)
        err = {"elinewidth": 0.7, "capsize": 1.5, "ecolor": "#333333"}
        ax.barh(y + 0.18, group["S1"], xerr=group["S1_conf"], height=0.34, color="#0072B2", error_kw=err)
        ax.barh(y - 0.18, group["ST"], xerr=group["ST_conf"], height=0.34, color="#E69F00", error_kw=err)
        ax.axvline(0, color="#7f7f7f", linewidth=0.5)
        name, _ = output_label(output)
        ax.set_title(name, fontweight="normal", loc="left")
        ax.set_xlabel("Sobol index")
        ax.set_yticks(y, [short_name(p) for p in order] if i % 2 == 0 else [""] * len(order))
    fig.legend([Patch(color="#0072B2"), Patch(color="#E69F00")], ["S1 (first order)", "ST (total)"],
               loc="outside lower center", ncols=2, frameon=False)
    return fig


def figures(table: pd.DataFrame, design: dict, out_dir: Path, sidecar: dict) -> list[str]:
    from sim.figures.style import save_figure, use_style

    names = design["problem"]["names"]
    stems = ["morris_mu_star_sigma", "morris_ranking"] if design["method"] == "morris" else ["sobol_indices"]
    with use_style():
        if design["method"] == "morris":
            save_figure(plot_morris(table, names), out_dir, stems[0], sidecar)
            save_figure(plot_morris_ranking(table, names), out_dir, stems[1], sidecar)
        else:
            save_figure(plot_sobol(table, names), out_dir, stems[0], sidecar)
    for stem in {"morris_mu_star_sigma", "morris_ranking", "sobol_indices"} - set(stems):
        for suffix in (".png", ".pdf", ".json"):   # an earlier analysis's figure of the other method
            (out_dir / f"{stem}{suffix}").unlink(missing_ok=True)
    return stems
