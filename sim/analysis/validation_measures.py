"""Statistics of single runs that the pattern checks (:mod:`sim.analysis.validation_checks`) compare
across seeds: entry order, peaks and declines, domain mixes, link strength by circle, enclave hazards,
distances and per-capita GDP."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.stats import rank_correlation


def entry_year(joined, end_year: int) -> np.ndarray:
    """Council entry year per city; ``end_year + 1`` for a city that never joined (NaN)."""
    joined = np.asarray(joined, dtype=float)
    return np.where(np.isfinite(joined), joined, end_year + 1)


def entry_correlation(joined, attribute, founders, end_year: int) -> float:
    """Rank correlation between the council entry year of non-founders and an attribute. Cities that
    never joined get ``end_year + 1`` (they join later than anyone who did)."""
    later = ~np.asarray(founders, dtype=bool)
    return rank_correlation(entry_year(joined, end_year)[later], np.asarray(attribute, float)[later])


def smooth(series, window: int = 3) -> np.ndarray:
    """Centred running mean (shorter windows at the ends)."""
    return pd.Series(np.asarray(series, float)).rolling(window, center=True, min_periods=1).mean().to_numpy()


def peak_and_decline(years, series, last: int = 5, window: int = 3) -> tuple[int, float]:
    """Year of the peak of the smoothed series and the relative decline (peak - mean of the last
    ``last`` years) / peak. Smoothing keeps year-to-year noise from making a peak and a decline."""
    s = smooth(series, window)
    k = int(np.argmax(s))
    peak = s[k]
    tail = float(np.mean(s[-last:]))
    return int(np.asarray(years)[k]), float((peak - tail) / peak) if peak > 0 else math.nan


def domain_ratio(ts: pd.DataFrame, more=("infrastructure", "ecology", "public_services"),
                 less=("industry", "innovation"), prefix: str = "implemented_") -> float:
    """Mean per domain of ``prefix<domain>`` summed over the years, "three more" over "three less"
    domains (per domain, so that three domains are not favoured over two by their number)."""
    a = np.mean([ts[f"{prefix}{d}"].sum() for d in more])
    b = np.mean([ts[f"{prefix}{d}"].sum() for d in less])
    return float(a / b) if b > 0 else math.nan


def circle_link_ratio(links: pd.DataFrame, circle: np.ndarray) -> float:
    """Mean joint-project strength of linked pairs in the same metropolitan circle over that of the
    other linked pairs. Linked pairs are every pair that shares a cooperation group (links.parquet
    lists all of them, with strength 0 if they never contributed together)."""
    circle = np.asarray(circle)
    a, b = circle[links["source"].to_numpy()], circle[links["target"].to_numpy()]
    same = (a == b) & (a >= 0)
    strength = links["strength"].to_numpy(float)
    if not same.any() or same.all():
        return math.nan
    cross = strength[~same].mean()
    return float(strength[same].mean() / cross) if cross > 0 else math.nan


def hazard(summary: dict, key: str, sub: str | None = None) -> float:
    """Dissolutions per park-year from an enclave summary entry (NaN if no park-years)."""
    entry = summary.get(key) or {}
    if sub is not None:
        entry = entry.get(sub) or {}
    value = entry.get("dissolutions_per_park_year")
    return math.nan if value is None else float(value)


def pooled_hazard(summary: dict) -> float:
    """Dissolutions per park-year over all parks of a run."""
    parts = (summary.get("enclave_dissolved_by_rule") or {}).values()
    years = sum(p["park_years"] for p in parts)
    return sum(p["dissolved"] for p in parts) / years if years else math.nan


def great_circle_to(lat, lon, lat0, lon0) -> np.ndarray:
    from sim.model.network import great_circle_km, unit_vectors

    xyz = unit_vectors(np.asarray(lat, float), np.asarray(lon, float))
    return great_circle_km(xyz, unit_vectors(np.array([lat0]), np.array([lon0])))


def distance_to(cities: pd.DataFrame, name: str) -> np.ndarray:
    """Great-circle distance (km) of every city to the city called ``name``."""
    at = cities.index[cities["name"] == name][0]
    return great_circle_to(cities["lat"], cities["lon"], cities.loc[at, "lat"], cities.loc[at, "lon"])


def gdp_per_capita(cities: pd.DataFrame) -> np.ndarray:
    """Initial (data) GDP per capita, yuan."""
    return cities["gdp_initial"].to_numpy() * 1e8 / cities["population"].to_numpy()


def trajectories(records, column: str = "cooperation_index") -> np.ndarray:
    """One timeseries column of every run, seeds x years."""
    return np.array([r.timeseries[column].to_numpy() for r in records])
