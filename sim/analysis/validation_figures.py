"""Figures of the validation: council size against the data and the council's entry order (P1),
cooperation trajectories of the baseline and three-tier operation (P2); PNG + PDF + JSON sidecar."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.analysis import calibration
from sim.analysis.design_runs import RunRecord
from sim.analysis.stats import mean_interval
from sim.analysis.validation_checks import PLAN_YEAR
from sim.analysis.validation_measures import distance_to, entry_year, gdp_per_capita, trajectories


def figures(results: dict, runs: dict[str, list[RunRecord]], out_dir: Path, command: str) -> list[str]:
    """Council size against the data and the entry order (P1); cooperation trajectories (P2)."""
    from sim.figures.style import NEUTRAL, PALETTE, new_figure, save_figure, use_style

    fig_dir = out_dir / "figures"
    seeds = results["seeds"]
    written = []
    years = np.asarray(calibration.YEARS)
    paths = calibration.council_paths(runs["p1_council_yrd"])
    with use_style():
        fig, ax = new_figure("single", 2.6)
        ax.fill_between(years, np.nanpercentile(paths, 2.5, axis=0), np.nanpercentile(paths, 97.5, axis=0),
                        color=PALETTE[0], alpha=0.2, lw=0, label="model, 95% of seeds")
        ax.plot(years, np.nanmean(paths, axis=0), color=PALETTE[0], label="model, mean")
        ax.step(years, calibration.data_path(), where="post", color="black", lw=0.8, label="data (step path)")
        ax.scatter(list(calibration.FIT_DATA), list(calibration.FIT_DATA.values()), color="black", s=10, zorder=3,
                   label="fitted counts")
        ax.scatter(list(calibration.HELD_OUT), list(calibration.HELD_OUT.values()), facecolors="white",
                   edgecolors="black", s=12, zorder=3, label="held out (forecast, P1a)")
        ax.set_xlabel("year")
        ax.set_ylabel("council members")
        ax.set_title("P1: YRD council size")
        ax.legend(loc="upper left")
    save_figure(fig, fig_dir, "p1_council_size", sidecar={
        "command": command, "seeds": seeds, "overrides": results["designs"]["p1_council_yrd"],
        "data": "Liu & Chen 2021 (seed document 001), sim/data/targets.csv"})
    written.append("p1_council_size")

    recs = runs["p1_council_yrd"]
    c = recs[0].cities
    later = ~np.isin(c["name"], calibration.FOUNDERS_1992)
    entry = np.array([entry_year(r.cities["joined"], calibration.END_YEAR) for r in recs]).mean(axis=0)
    per_capita = gdp_per_capita(c) / 1e4
    km = distance_to(c, "Shanghai")
    with use_style():
        fig, axes = new_figure("double", 2.4, ncols=2)
        for ax, x, label in ((axes[0], per_capita, "GDP per capita 2015 (10,000 yuan)"),
                             (axes[1], km, "distance to Shanghai (km)")):
            ax.scatter(np.asarray(x)[later], entry[later], s=8, color=PALETTE[0])
            ax.set_xlabel(label)
            ax.set_ylabel("mean entry year")
            ax.axhline(calibration.END_YEAR + 1, color=NEUTRAL, lw=0.5, ls=":")
        axes[0].set_title("P1: who joins the council when")
    save_figure(fig, fig_dir, "p1_entry_order", sidecar={
        "command": command, "seeds": seeds, "overrides": results["designs"]["p1_council_yrd"],
        "note": f"cities that never joined are plotted at {calibration.END_YEAR + 1}"})
    written.append("p1_entry_order")

    with use_style():
        fig, ax = new_figure("single", 2.6)
        for design, label, color in (("baseline_my", "baseline", NEUTRAL), ("three_tier_my", "three_tier", PALETTE[0])):
            frame = trajectories(runs[design])
            yrs = runs[design][0].timeseries["year"].to_numpy()
            stats = [mean_interval(col) for col in frame.T]
            mean = np.array([s[0] for s in stats])
            low, high = np.array([s[1] for s in stats]), np.array([s[2] for s in stats])
            ax.fill_between(yrs, low, high, color=color, alpha=0.2, lw=0)
            ax.plot(yrs, mean, color=color, label=f"{label} (mean, 95% CI)")
        ax.axvline(PLAN_YEAR, color="black", lw=0.5, ls=":")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("year")
        ax.set_ylabel("cooperation index")
        ax.set_title("P2: cooperation after the 2015 plan")
        ax.legend(loc="lower right")
    save_figure(fig, fig_dir, "p2_cooperation", sidecar={
        "command": command, "seeds": seeds,
        "overrides": {d: results["designs"][d] for d in ("baseline_my", "three_tier_my")}})
    written.append("p2_cooperation")
    return written
