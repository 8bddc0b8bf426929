"""Calibration of the three-tier council's entry thresholds to the YRD council's growth (pattern P1).

``python -m sim.analysis.calibration [--quick] [--seeds N] [--out DIR] [--jobs N]``

Target (Liu & Chen 2021, seed document 001; sim/data/targets.csv, docs/ODD.md section 1.1): the Yangtze
River Delta city economic coordination council grew from 14 members (1992) to 15 (1996/97), 16 (2003),
22 (2010), 30 (2013), 34 (2018) and 41 (2019). The calibration fits only the counts that targets.csv
declares ``calibration`` (1992-2010, :data:`FIT_DATA`); 2013, 2018 and 2019 are held out, and
``python -m sim validate`` checks them as a forecast (P1a). The fitted data path is the step function
through the fitted counts, one value per year 1992-2010 (the 15th member is dated 1997; the size is
held between the dated counts).

Design (:func:`p1_overrides`): the 41-city ``yangtze_delta`` region, ``+mechanism=three_tier``,
``start_year=1992``, ``years=28`` (1992-2019) and the 14 founding cities of 1992 as
``founders=list``. The initial GDP is the table's 2015 GDP whatever the start year (docs/ODD.md,
section 2), so "poorer" means poorer in 2015.

Method: a two-stage grid search (no likelihood is available, so the fit is a simulated
minimum-distance estimate). Stage 1 runs every point of :data:`GRID` (income threshold, linkage
threshold, forum interval, largest admissions per forum, contiguity) with ``stage1_seeds`` seeds;
stage 2 re-runs the ``top`` best points with ``stage2_seeds`` fresh seeds, and the best stage-2 point
is the estimate (re-running on fresh seeds removes the winner's curse of stage 1). The objective is
the root mean squared error, over seeds and the 19 fitted years 1992-2010, between the simulated
council size and the data path (:func:`path_rmse`; the runs go on to 2019 for the forecast). Calibration seeds start at :data:`CALIBRATION_SEED0`, so they are
disjoint from the validation seeds 0..N-1 and the validation is out of sample.

:data:`CALIBRATED` holds the estimate that ``python -m sim validate`` uses (as overrides); it was
produced by ``python -m sim.analysis.calibration`` (full mode; see its ``calibration.md`` for the fit).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.design_runs import run_designs
from sim.data.targets import by_year, targets
from sim.files import write_json, write_text

#: The 14 founding members of 1992 (names as in sim/data/yangtze_delta.csv).
FOUNDERS_1992: tuple[str, ...] = (
    "Shanghai", "Nanjing", "Suzhou (Jiangsu)", "Wuxi", "Changzhou", "Zhenjiang", "Nantong", "Yangzhou",
    "Hangzhou", "Ningbo", "Huzhou", "Jiaxing", "Shaoxing", "Zhoushan")
#: Council size by year (Liu & Chen 2021; sim/data/targets.csv). "15 (1996/97)" is dated 1997.
COUNCIL_DATA: dict[int, float] = by_year(targets("council_size", "yangtze_delta"))
#: The counts the calibration fits, and those it holds out for the forecast (targets.csv's split).
FIT_DATA: dict[int, float] = by_year(targets("council_size", "yangtze_delta", "calibration"))
HELD_OUT: dict[int, float] = by_year(targets("council_size", "yangtze_delta", "validation"))
START_YEAR, END_YEAR = 1992, 2019
#: The Delta's own plan years (docs/ODD.md 7.3), each an attention pulse: State Council guiding opinions
#: (2008), the YRD regional plan (2010), the urban agglomeration plan (2016), national strategy (2018),
#: the integration Outline (2019).
YRD_PLAN_YEARS: tuple[int, ...] = (2008, 2010, 2016, 2018, 2019)
YEARS = tuple(range(START_YEAR, END_YEAR + 1))
CALIBRATION_SEED0 = 1000

#: The calibrated entry parameters: the best stage-2 point of ``python -m sim.analysis.calibration`` (full grid,
#: 2 + 10 seeds, 1,414 s on a shared machine, git revision 9b3fd51), fitted to the counts of 1992-2010 only:
#: RMSE 1.34 cities against 4.78 for the defaults. The linkage threshold sits at the grid's edge (0.8):
#: the slow growth before 2010 asks for entry held back hard, and so the fit forecasts almost no growth after
#: 2010 (P1a, docs/ODD.md 1.1).
CALIBRATED: dict[str, object] = {
    "income_threshold": 0.4,
    "linkage_threshold": 0.8,
    "forum_interval": 2,
    "max_admissions": 0,
    "contiguity": True,
}
#: The defaults of sim/mechanisms/three_tier.yaml, for comparison.
DEFAULTS: dict[str, object] = {
    "income_threshold": 0.4, "linkage_threshold": 0.2, "forum_interval": 2, "max_admissions": 0,
    "contiguity": False,
}
#: Stage-1 grid (7 x 5 x 3 x 5 x 2 = 1,050 points).
GRID: dict[str, tuple] = {
    "income_threshold": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    "linkage_threshold": (0.0, 0.2, 0.4, 0.6, 0.8),
    "forum_interval": (1, 2, 3),
    "max_admissions": (0, 1, 2, 3, 4),
    "contiguity": (False, True),
}
#: A small grid for --quick (and the test suite): 3 x 2 x 2 x 2 x 1 = 24 points.
QUICK_GRID: dict[str, tuple] = {
    "income_threshold": (0.4, 0.6, 0.8),
    "linkage_threshold": (0.2, 0.6),
    "forum_interval": (1, 2),
    "max_admissions": (0, 1),
    "contiguity": (False,),
}


def data_path(years: Sequence[int] = YEARS, data: dict[int, float] | None = None) -> np.ndarray:
    """Council size by year: the last dated count at or before each year (step function) of ``data``
    (all counts by default)."""
    data = COUNCIL_DATA if data is None else data
    dated = sorted(data)
    out = []
    for y in years:
        known = [data[d] for d in dated if d <= y]
        out.append(known[-1] if known else np.nan)
    return np.asarray(out, dtype=float)


def fit_target() -> np.ndarray:
    """The data path the calibration fits: the fitted counts' step path to their last year, NaN after."""
    path = data_path(YEARS, FIT_DATA)
    path[np.asarray(YEARS) > max(FIT_DATA)] = np.nan
    return path


def forecast_rmse(path: np.ndarray) -> float:
    """RMSE of a simulated path against the held-out counts, in their years (the forecast error)."""
    return float(np.sqrt(np.mean([(path[YEARS.index(y)] - v) ** 2 for y, v in HELD_OUT.items()])))


def persistence_rmse() -> float:
    """The forecast error of persistence, the naive forecast that the last fitted count stays: a
    forecast with skill must beat it (a forecasting convention, e.g. Hyndman & Athanasopoulos 2021,
    section 5.2: the naive method as benchmark)."""
    last = FIT_DATA[max(FIT_DATA)]
    return float(np.sqrt(np.mean([(last - v) ** 2 for v in HELD_OUT.values()])))


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def p1_overrides(params: dict | None = None) -> tuple[str, ...]:
    """Overrides of the P1 design: YRD with its own plan years, three_tier from the 1992 founders,
    1992-2019, and ``params`` (keys of ``mechanism.three_tier``)."""
    names = ",".join(f"'{n}'" for n in FOUNDERS_1992)
    plans = ",".join(map(str, YRD_PLAN_YEARS))
    base = ("region=yangtze_delta", "+mechanism=three_tier", f"start_year={START_YEAR}",
            f"years={END_YEAR - START_YEAR + 1}", f"model.attention.plan_years=[{plans}]",
            "mechanism.three_tier.founders=list",
            f"mechanism.three_tier.founder_names=[{names}]")
    extra = tuple(f"mechanism.three_tier.{k}={_value(v)}" for k, v in sorted((params or {}).items()))
    return base + extra


def council_path(timeseries: pd.DataFrame, years: Sequence[int] = YEARS) -> np.ndarray:
    """Simulated council size in each year (NaN for years not simulated)."""
    sizes = dict(zip(timeseries["year"].astype(int), timeseries["council_size"].astype(float)))
    return np.array([sizes.get(y, np.nan) for y in years])


def council_paths(records) -> np.ndarray:
    """Council-size paths of several runs (:class:`sim.analysis.design_runs.RunRecord`), runs x years."""
    return np.array([council_path(r.timeseries) for r in records])


def path_rmse(path: np.ndarray, target: np.ndarray | None = None) -> float:
    """Root mean squared error between a council-size path and the fitted data path (years both have)."""
    target = fit_target() if target is None else target
    ok = np.isfinite(path) & np.isfinite(target)
    return float(np.sqrt(np.mean((np.asarray(path)[ok] - target[ok]) ** 2)))


def pooled_rmse(paths: Sequence[np.ndarray]) -> float:
    """RMSE over seeds and fitted years (the calibration objective)."""
    target = fit_target()
    return float(np.sqrt(np.mean([path_rmse(p, target) ** 2 for p in paths])))


def grid_points(grid: dict[str, tuple]) -> list[dict]:
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def evaluate(points: Sequence[dict], seeds: Sequence[int], jobs: int = 1) -> pd.DataFrame:
    """Run every point with every seed; one row per point: parameters, RMSE, mean path."""
    designs = {f"p{i}": p1_overrides(p) for i, p in enumerate(points)}
    runs = run_designs(designs, list(seeds), jobs)
    rows = []
    for i, point in enumerate(points):
        paths = council_paths(runs[f"p{i}"])
        rows.append({**point, "rmse": pooled_rmse(paths), "n_seeds": len(paths),
                     "path": np.mean(paths, axis=0).round(3).tolist(),
                     "path_sd": np.std(paths, axis=0, ddof=1).round(3).tolist() if len(paths) > 1 else None})
    return pd.DataFrame(rows)


def objective(params: dict, seeds: Sequence[int] = (CALIBRATION_SEED0,), jobs: int = 1) -> float:
    """The calibration objective (pooled RMSE) of one parameter set."""
    return float(evaluate([params], seeds, jobs)["rmse"].iloc[0])


def calibrate(grid: dict[str, tuple] = GRID, stage1_seeds: int = 2, stage2_seeds: int = 10, top: int = 10,
              jobs: int = 1, progress=print) -> dict:
    """Two-stage grid search; returns the estimate, its fit and both stages' tables."""
    started = time.time()
    points = grid_points(grid)
    seeds1 = list(range(CALIBRATION_SEED0, CALIBRATION_SEED0 + stage1_seeds))
    progress(f"calibration stage 1: {len(points)} points x {len(seeds1)} seeds")
    stage1 = evaluate(points, seeds1, jobs).sort_values("rmse", kind="stable").reset_index(drop=True)
    best1 = [{k: row[k] for k in grid} for _, row in stage1.head(top).iterrows()]
    best1 = [_plain(p) for p in best1]
    add_defaults = DEFAULTS not in best1      # the defaults are re-run for comparison, not ranked
    seeds2 = list(range(CALIBRATION_SEED0 + 100, CALIBRATION_SEED0 + 100 + stage2_seeds))
    progress(f"calibration stage 2: {len(best1)} points (+ defaults) x {len(seeds2)} fresh seeds")
    stage2 = evaluate(best1 + ([DEFAULTS] if add_defaults else []), seeds2, jobs)
    stage2["is_default"] = [_plain({k: row[k] for k in grid}) == DEFAULTS for _, row in stage2.iterrows()]
    ranked = stage2[~(stage2["is_default"] & add_defaults)].sort_values("rmse", kind="stable")
    best = ranked.iloc[0]
    default_row = stage2[stage2["is_default"]].iloc[0]
    target = data_path()
    best_path = np.asarray(best["path"])
    return {
        "method": "two-stage grid search (simulated minimum distance): stage 1 every grid point with "
                  f"{len(seeds1)} seeds, stage 2 the best {len(best1)} with {len(seeds2)} fresh seeds; "
                  f"objective = RMSE of the yearly council size {START_YEAR}-{max(FIT_DATA)} against the step "
                  "path of the counts targets.csv declares for calibration",
        "grid": {k: list(v) for k, v in grid.items()},
        "seeds_stage1": seeds1, "seeds_stage2": seeds2,
        "best": _plain({k: best[k] for k in grid}),
        "rmse_best": float(best["rmse"]),
        "rmse_defaults": float(default_row["rmse"]),
        "years": list(YEARS), "data_path": target.tolist(),
        "best_path_mean": best_path.tolist(), "best_path_sd": best["path_sd"],
        "defaults_path_mean": list(default_row["path"]),
        "data_years_fit": {str(y): {"data": COUNCIL_DATA[y], "model": float(best_path[YEARS.index(y)]),
                                    "split": "calibration" if y in FIT_DATA else "held out"} for y in COUNCIL_DATA},
        "stage1": stage1.drop(columns=["path", "path_sd"]).to_dict("records"),
        "stage2": stage2.drop(columns=["path_sd"]).to_dict("records"),
        "seconds": round(time.time() - started, 1),
    }


def _plain(point: dict) -> dict:
    """Parameters as plain Python scalars (bools stay bools, whole floats of int keys become ints)."""
    out = {}
    for k, v in point.items():
        if k in ("forum_interval", "max_admissions"):
            out[k] = int(v)
        elif k == "contiguity":
            out[k] = bool(v)
        else:
            out[k] = float(v)
    return out


def markdown(result: dict, command: str) -> str:
    best, years = result["best"], result["years"]
    lines = [
        "# Calibration of the three-tier entry thresholds (P1)", "",
        f"- Command: `{command}`",
        f"- Method: {result['method']}.",
        "- Grid: " + "; ".join(f"`{k}` in {v}" for k, v in result["grid"].items()),
        f"- Seeds: stage 1 {result['seeds_stage1'][0]}-{result['seeds_stage1'][-1]}, stage 2 "
        f"{result['seeds_stage2'][0]}-{result['seeds_stage2'][-1]} (disjoint from the validation seeds).",
        f"- Time: {result['seconds']} s", "",
        "## Estimate", "",
        "| parameter | calibrated | default |", "|---|---|---|",
        *[f"| `mechanism.three_tier.{k}` | {best[k]} | {DEFAULTS[k]} |" for k in best],
        "", f"RMSE of the yearly council size, {START_YEAR}-{max(FIT_DATA)} (the fitted years): "
            f"**{result['rmse_best']:.2f}** cities (defaults: {result['rmse_defaults']:.2f}). The counts of "
            f"{', '.join(map(str, HELD_OUT))} are held out: `python -m sim validate` checks them as a forecast (P1a).", "",
        "## Path against the data", "",
        "| year | data | calibrated (mean) | defaults (mean) |", "|---:|---:|---:|---:|",
    ]
    data = result["data_path"]
    for i, y in enumerate(years):
        mark = " *" if y in FIT_DATA else " (held out)" if y in HELD_OUT else ""
        lines.append(f"| {y}{mark} | {data[i]:.0f} | {result['best_path_mean'][i]:.1f} | "
                     f"{result['defaults_path_mean'][i]:.1f} |")
    lines += ["", "\\* a dated count of the sources, fitted; other years hold the last dated count.", "",
              "## Stage 2", "", "| " + " | ".join([*result["grid"], "rmse"]) + " |",
              "|" + "---|" * (len(result["grid"]) + 1)]
    for row in sorted(result["stage2"], key=lambda r: r["rmse"]):
        lines.append("| " + " | ".join([*(str(_plain({k: row[k] for k in result["grid"]})[k])
                                          for k in result["grid"]), f"{row['rmse']:.2f}"]) + " |")
    return "\n".join(lines) + "\n"


def figure(result: dict, out_dir: Path, command: str) -> None:
    from sim.figures.style import PALETTE, NEUTRAL, new_figure, save_figure, use_style

    years = np.asarray(result["years"])
    with use_style():
        fig, ax = new_figure("single", 2.6)
        ax.step(years, result["data_path"], where="post", color="black", label="data (step path)")
        ax.scatter(list(FIT_DATA), list(FIT_DATA.values()), color="black", s=10, zorder=3)
        ax.scatter(list(HELD_OUT), list(HELD_OUT.values()), facecolors="white", edgecolors="black", s=12, zorder=3,
                   label="held out (forecast, P1a)")
        mean, sd = np.asarray(result["best_path_mean"]), result["best_path_sd"]
        ax.plot(years, mean, color=PALETTE[0], label="calibrated (mean)")
        if sd is not None:
            sd = np.asarray(sd)
            ax.fill_between(years, mean - sd, mean + sd, color=PALETTE[0], alpha=0.2, lw=0)
        ax.plot(years, result["defaults_path_mean"], color=NEUTRAL, ls="--", label="defaults (mean)")
        ax.set_xlabel("year")
        ax.set_ylabel("council members")
        ax.set_title("YRD council size: calibration fit")
        ax.legend(loc="upper left")
    save_figure(fig, out_dir / "figures", "calibration_council_size",
                sidecar={"command": command, "seeds": result["seeds_stage2"], "best": result["best"]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.analysis.calibration", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grid, 1 + 2 seeds")
    parser.add_argument("--seeds", type=int, default=None, help="stage-2 seeds (default 10; quick 2)")
    parser.add_argument("--out", type=Path, default=None, help="output folder "
                        "(default results/calibration/<timestamp>)")
    parser.add_argument("--jobs", type=int, default=-1, help="parallel processes (joblib; -1 = all cores)")
    args = parser.parse_args(argv)
    command = " ".join(["python -m sim.analysis.calibration", *(sys.argv[1:] if argv is None else argv)])
    out = args.out or Path("results/calibration") / time.strftime("%Y-%m-%d_%H-%M-%S")
    seeds = args.seeds if args.seeds is not None else (2 if args.quick else 10)
    problem = (f"--seeds {seeds}: give at least 1 seed" if seeds < 1 else
               f"--jobs {args.jobs}: give a number of processes >= 1, or -1 for all cores"
               if args.jobs == 0 or args.jobs < -1 else
               f"--out {out}: it is a file; give a folder" if out.exists() and not out.is_dir() else None)
    if problem:
        print(f"error: {problem}; nothing was run.", file=sys.stderr)
        return 2
    grid = QUICK_GRID if args.quick else GRID
    result = calibrate(grid, stage1_seeds=1 if args.quick else 2,
                       stage2_seeds=seeds,
                       top=3 if args.quick else 10, jobs=args.jobs)
    result["command"] = command
    write_json(result, out / "calibration.json")
    write_text(markdown(result, command), out / "calibration.md")
    figure(result, out, command)
    print(f"best: {result['best']}  RMSE {result['rmse_best']:.2f} (defaults {result['rmse_defaults']:.2f})")
    print(f"Results: {out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
