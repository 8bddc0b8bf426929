"""Sensitivity indices of a SALib design (:mod:`sim.analysis.sensitivity`): Morris elementary effects
with a seed-noise floor per parameter, and Sobol indices with the share of seed noise.

Pure computation on arrays: the design (as written by :mod:`sim.sweeps.salib`) and, per output, a
table (rows, replicates) of the runs' values.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from sim.analysis.stats import CONFIDENCE
from sim.sweeps.salib import SensitivityError, salib

RESAMPLES = 1000                  # bootstrap resamples of the confidence intervals


def morris_delta(levels: int) -> float:
    """The Morris step, as a share of a parameter's range."""
    return levels / (2 * (levels - 1))


def elementary_effects(x: np.ndarray, y: np.ndarray, bounds: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Elementary effects of Morris trajectories, per full range of the parameter that moved.

    ``x`` (rows, k) holds whole trajectories of k + 1 points; ``y`` is (rows,) or (rows, seeds).
    Returns the effects, shape (steps,) or (steps, seeds), and the parameter of each step.
    """
    y = np.asarray(y, float)
    xt = x.reshape(-1, k + 1, k)
    yt = y.reshape(-1, k + 1, *y.shape[1:])
    dx = np.diff(xt, axis=1) / (bounds[:, 1] - bounds[:, 0])     # (trajectories, k, k), one non-zero per step
    which = np.abs(dx).argmax(axis=2)
    step = np.take_along_axis(dx, which[..., None], axis=2)[..., 0]
    dy = np.diff(yt, axis=1)
    effects = dy / (step if y.ndim == 1 else step[..., None])
    return effects.reshape(-1, *y.shape[1:]), which.reshape(-1)


def morris_noise_floor(x: np.ndarray, table: np.ndarray, bounds: np.ndarray, k: int,
                       seed: int = 0, draws: int = 4000) -> np.ndarray:
    """Per parameter, the mu* that seed noise alone exceeds with probability 5%.

    The effect of a step on the seed mean is the mean of its R per-seed effects; were the
    parameter without effect, that mean would be noise ~ N(0, s^2 / R), s the sd of the per-seed
    effects of that step. mu* under no effect is the mean of the absolute values of such noise
    over the parameter's steps; its 95% quantile is found by simulation. NaN with one seed.
    """
    reps = table.shape[1]
    if reps < 2:
        return np.full(k, np.nan)
    effects, which = elementary_effects(x, table, bounds, k)
    sd = effects.std(axis=1, ddof=1) / math.sqrt(reps)
    rng = np.random.default_rng(seed)
    out = np.full(k, np.nan)
    for j in range(k):
        steps = sd[which == j]
        if len(steps):
            null = np.abs(rng.standard_normal((draws, len(steps))) * steps).mean(axis=1)
            out[j] = float(np.quantile(null, CONFIDENCE))
    return out


def seed_noise_variance(table: np.ndarray) -> float:
    """Variance of the seed noise that differs between rows, from a (rows, seeds) table.

    Every row runs the same seeds, so a run's value is row effect + seed effect + residual. The
    seed effect is shared by all rows and cancels in every sensitivity index; the residual (the
    rows x seeds interaction) does not. Its variance is estimated by the two-way mean square
    SS_interaction / ((rows - 1)(seeds - 1)); NaN with one seed or fewer than two complete rows.
    """
    table = np.asarray(table, float)
    table = table[np.isfinite(table).all(axis=1)]
    rows, seeds = table.shape if table.ndim == 2 else (0, 0)
    if rows < 2 or seeds < 2:
        return math.nan
    resid = table - table.mean(axis=1, keepdims=True) - table.mean(axis=0, keepdims=True) + table.mean()
    return float((resid ** 2).sum() / ((rows - 1) * (seeds - 1)))


def analyze(design: dict, values: dict[str, np.ndarray], seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Indices per output and parameter (and Sobol second order), with notes on dropped rows.

    ``values`` maps output -> array (rows, replicates); a row is used only if all its
    replicates are finite, and its value is their mean.
    """
    method, problem = design["method"], design["problem"]
    names, k = problem["names"], problem["num_vars"]
    x = np.asarray(design["samples"], float)
    opts = design["options"]
    bounds = dict(zip(names, problem["bounds"]))
    rows, second, notes = [], [], []
    for output, table in values.items():
        table = np.asarray(table, float).reshape(len(x), -1)
        reps = table.shape[1]
        ok = np.isfinite(table).all(axis=1)
        y = np.where(ok, table.mean(axis=1) if reps else np.nan, np.nan)
        if method == "morris":
            size = k + 1
            keep = ok.reshape(-1, size).all(axis=1)
            if not keep.all():
                notes.append(f"{output}: dropped {int((~keep).sum())} of {len(keep)} Morris trajectories with "
                             f"missing or undefined runs (trajectories {', '.join(map(str, np.flatnonzero(~keep)))}).")
            if keep.sum() < 2:
                raise SensitivityError(f"{output}: only {int(keep.sum())} complete Morris trajectory(ies) of "
                                       f"{len(keep)}; at least 2 are needed. Re-run the sweep command with "
                                       "resume=true to fill in the missing runs.")
            mask = np.repeat(keep, size)
            morris = salib("analyze.morris")
            si = morris.analyze(problem, x[mask], y[mask], num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                                num_levels=int(opts["levels"]), seed=seed)
            noise = morris_noise_floor(x[mask], table[mask], np.asarray(problem["bounds"], float), k, seed=seed)
            top = float(np.max(si["mu_star"])) or 1.0
            for j, name in enumerate(names):
                mu_star = float(si["mu_star"][j])
                rows.append({"output": output, "parameter": name, "lo": bounds[name][0], "hi": bounds[name][1],
                             "mu_star": mu_star, "mu_star_conf": float(si["mu_star_conf"][j]),
                             "mu": float(si["mu"][j]), "sigma": float(si["sigma"][j]),
                             "mu_star_norm": mu_star / top, "noise_floor": float(noise[j]),
                             "trajectories": int(keep.sum()), "replicates": reps})
        else:
            if not ok.all():
                raise SensitivityError(
                    f"{output}: Sobol indices need every row of the design, but {int((~ok).sum())} of {len(ok)} "
                    f"jobs lack a complete run with a defined value (jobs {', '.join(map(str, np.flatnonzero(~ok)[:20]))}"
                    f"{' ...' if (~ok).sum() > 20 else ''}). Re-run the sweep command with resume=true to fill in "
                    f"missing runs, or leave out {output} with --outputs.")
            sobol = salib("analyze.sobol")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                si = sobol.analyze(problem, y, calc_second_order=bool(opts["second_order"]),
                                   num_resamples=RESAMPLES, conf_level=CONFIDENCE, seed=seed)
            total = float(np.var(y))
            noise = seed_noise_variance(table) / reps / total if total > 0 else math.nan
            for j, name in enumerate(names):
                rows.append({"output": output, "parameter": name, "lo": bounds[name][0], "hi": bounds[name][1],
                             "S1": float(si["S1"][j]), "S1_conf": float(si["S1_conf"][j]),
                             "ST": float(si["ST"][j]), "ST_conf": float(si["ST_conf"][j]),
                             "noise_share": noise, "runs_used": int(len(y) * reps), "replicates": reps})
            if opts["second_order"]:
                for a in range(k):
                    for b in range(a + 1, k):
                        second.append({"output": output, "parameter_1": names[a], "parameter_2": names[b],
                                       "S2": float(si["S2"][a, b]), "S2_conf": float(si["S2_conf"][a, b])})
    table = pd.DataFrame(rows)
    key = "mu_star" if method == "morris" else "ST"
    table.insert(1, "rank", table.groupby("output", sort=False)[key].rank(ascending=False, method="min").astype(int))
    table["_order"] = table["output"].map(list(values).index)
    table = table.sort_values(["_order", "rank"], kind="stable").drop(columns="_order").reset_index(drop=True)
    table.insert(1, "method", method)
    return table, pd.DataFrame(second), notes
