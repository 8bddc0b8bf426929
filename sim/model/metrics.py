"""Inequality measures over cities: Theil (with a between/within-group split), Gini, core/periphery."""

from __future__ import annotations

import numpy as np


def theil(gdp: np.ndarray, population: np.ndarray, groups: np.ndarray | None = None):
    """Population-weighted Theil T index of per-capita GDP and its between/within split.

    T = sum_i s_i ln(s_i / p_i) with GDP shares s and population shares p; with groups,
    T = T_between + sum_g s_g T_g (Shorrocks 1980). Returns (total, between, within).
    """
    s = gdp / gdp.sum()
    p = population / population.sum()
    total = float(np.sum(s * np.log(s / p)))
    if groups is None:
        return total, 0.0, total
    sg = np.bincount(groups, weights=s)
    pg = np.bincount(groups, weights=p)
    present = sg > 0
    between = float(np.sum(sg[present] * np.log(sg[present] / pg[present])))
    return total, between, total - between


def gini(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted Gini coefficient (here of per-capita GDP weighted by population)."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order] / weights.sum()
    cum_vw = np.cumsum(v * w)
    total = cum_vw[-1]
    # Area under the Lorenz curve by trapezoids.
    lorenz_prev = np.concatenate([[0.0], cum_vw[:-1]]) / total
    area = np.sum(w * (lorenz_prev + cum_vw / total)) / 2.0
    return float(1.0 - 2.0 * area)


def core_periphery_ratio(gdp: np.ndarray, population: np.ndarray, core: np.ndarray) -> float:
    """Per-capita GDP of the core cities over that of the rest (nan if either side is empty)."""
    if core.all() or not core.any():
        return float("nan")
    return float((gdp[core].sum() / population[core].sum()) / (gdp[~core].sum() / population[~core].sum()))
