"""Cities' industry profiles: shares of GDP over S sectors (docs/ODD.md section 5, step 4).

The first half of the sectors are industry (secondary), the rest services. Each city's industry
sectors hold its secondary share of GDP, which is data; the mix within each half is drawn
around a provincial template (our assumption: cities of one province have similar structures;
the package has no sector table below the secondary/tertiary split).
"""

from __future__ import annotations

import numpy as np


def industry_sectors(sectors: int) -> np.ndarray:
    """Which of the S sectors are industry: the first ceil(S / 2)."""
    return np.arange(sectors) < (sectors + 1) // 2


def profiles(rng, province_code: np.ndarray, secondary_share: np.ndarray, sectors: int,
             concentration: float) -> np.ndarray:
    """h_i: one row per city, summing to one; draws a Dirichlet template per province, then one
    gamma vector per city (normalised within each half)."""
    templates = rng.dirichlet(np.ones(sectors), size=province_code.max() + 1)
    draws = rng.gamma(concentration * templates[province_code] + 1e-3)
    industry = industry_sectors(sectors)
    if industry.all():
        return draws / draws.sum(axis=1, keepdims=True)
    share = np.where(industry, secondary_share[:, None], 1.0 - secondary_share[:, None])
    half_sum = np.where(industry, draws[:, industry].sum(axis=1, keepdims=True),
                        draws[:, ~industry].sum(axis=1, keepdims=True))
    # A tiny concentration can underflow every draw of a half to zero: that half is then split evenly.
    draws = np.where(half_sum > 0, draws, 1.0)
    half_sum = np.where(half_sum > 0, half_sum, np.where(industry, industry.sum(), (~industry).sum()))
    return draws / half_sum * share
