"""Intervals over seeds: the Student-t interval of a mean, percentile bootstraps, posterior predictive
p-values and rank correlation.

One t-interval (:func:`t_interval`) serves every analysis; the report (:func:`interval_columns`) and
the validation (:func:`mean_interval`) differ only in which values they keep: the report drops what
is not a number, the validation also drops infinities.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

CONFIDENCE = 0.95


class Interval(NamedTuple):
    n: int
    mean: float
    sd: float
    low: float
    high: float


def t_interval(x: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """n, mean, sd and the Student-t interval of the mean of a float array (NaN where undefined:
    the mean with no values, sd and bounds with fewer than two)."""
    from scipy.special import stdtrit   # Student t quantile; far lighter to import than scipy.stats

    n = len(x)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return Interval(n, mean, math.nan, math.nan, math.nan)
    sd = float(x.std(ddof=1))
    half = float(stdtrit(n - 1, 0.5 + confidence / 2)) * sd / math.sqrt(n)
    return Interval(n, mean, sd, mean - half, mean + half)


def interval_columns(values) -> dict[str, float]:
    """n, mean, sd and the 95% t-interval of the mean of the values that are numbers, as the
    columns of the report's tables."""
    x = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").dropna().to_numpy(float)
    i = t_interval(x)
    return {"n": i.n, "mean": i.mean, "sd": i.sd, "ci_low": i.low, "ci_high": i.high}


def mean_interval(values, confidence: float = CONFIDENCE, method: str = "t", n_boot: int = 4000,
                  seed: int = 0) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the finite values: Student-t interval of the mean, or a percentile
    bootstrap (``method="bootstrap"``). NaN bounds if fewer than two values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if method == "t" or n < 2:
        i = t_interval(x, confidence)
        return i.mean, i.low, i.high, n
    if method == "bootstrap":
        rng = np.random.default_rng(seed)
        means = x[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
        tail = (1 - confidence) / 2
        return float(x.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail)), n
    raise ValueError(f"method must be 't' or 'bootstrap', not {method!r}")


def bootstrap_rows(matrices: Sequence[np.ndarray], statistic: Callable[..., float], confidence: float = CONFIDENCE,
                   n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float, int]:
    """(estimate, low, high, n) of ``statistic(matrix_1, matrix_2, ...)`` with a percentile bootstrap
    that resamples rows (runs), the same rows of every matrix (so contrasts stay paired)."""
    mats = [np.asarray(t, dtype=float) for t in matrices]
    n = min(len(m) for m in mats)
    mats = [m[:n] for m in mats]
    estimate = float(statistic(*mats))
    if n < 2:
        return estimate, math.nan, math.nan, n
    rng = np.random.default_rng(seed)
    draws = np.array([statistic(*(m[idx] for m in mats)) for idx in rng.integers(0, n, size=(n_boot, n))], dtype=float)
    tail = (1 - confidence) / 2
    return estimate, float(np.quantile(draws, tail)), float(np.quantile(draws, 1 - tail)), n


def bootstrap_trajectories(trajectories: Sequence[np.ndarray], statistic: Callable[..., float],
                           confidence: float = CONFIDENCE, n_boot: int = 2000,
                           seed: int = 0) -> tuple[float, float, float, int]:
    """(estimate, low, high, n) of ``statistic(mean_1, mean_2, ...)``, where mean_k is the seed-mean of
    the k-th matrix (seeds x years) in ``trajectories``; percentile bootstrap over seeds, paired."""
    return bootstrap_rows(trajectories, lambda *mats: statistic(*(m.mean(axis=0) for m in mats)),
                          confidence, n_boot, seed)


def predictive_p_value(sample, observed: float) -> float:
    """Two-sided posterior predictive p-value of an observed value: twice the smaller tail probability
    of the predictive sample, ties counted in both tails (Gelman et al. 2013, ch. 6; Meng 1994).
    NaN for an empty sample."""
    s = np.asarray(sample, dtype=float)
    s = s[np.isfinite(s)]
    if not len(s):
        return math.nan
    return float(min(1.0, 2 * min(np.mean(s <= observed), np.mean(s >= observed))))


def rank_correlation(x, y) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN if undefined."""
    frame = pd.DataFrame({"x": np.asarray(x, float), "y": np.asarray(y, float)}).dropna()
    if len(frame) < 3 or frame["x"].nunique() < 2 or frame["y"].nunique() < 2:
        return math.nan
    return float(frame["x"].rank().corr(frame["y"].rank()))
