"""Detection-aware reputations: each city's estimated implementation rate as a party.

Partners see every honoured commitment but only the defaults the monitor catches, each with
probability q_j. Weighting a caught default by 1/q_j (Horvitz & Thompson 1952) makes the
evidence unbiased for the defaults that happened, so monitoring changes what is seen, not what
is expected (docs/ODD.md 7.9).
"""

from __future__ import annotations

import numpy as np


class Reputation:
    """Exponential moving averages of honoured and (estimated) defaulted acts per party-year."""

    def __init__(self, rate: np.ndarray) -> None:
        """Start at the steady state of a city implementing at ``rate``: one year's evidence."""
        self.honoured = np.asarray(rate, dtype=float).copy()
        self.defaulted = 1.0 - self.honoured

    def update(self, outcomes, detection: np.ndarray, weight: float) -> None:
        """Add this year's evidence from the domain outcomes with weight lambda_T."""
        parties = sum(out.party.astype(float) for out in outcomes)
        honoured = sum(out.implemented.astype(float) for out in outcomes)
        caught = sum(out.detected.astype(float) for out in outcomes)
        seen = (parties > 0) & (detection > 0)   # with q = 0 a default is never seen: no evidence
        per_party = np.maximum(parties, 1.0)
        estimate = np.divide(caught, detection, out=np.zeros(len(parties)), where=detection > 0)
        self.honoured = np.where(seen, (1 - weight) * self.honoured + weight * honoured / per_party,
                                 self.honoured)
        self.defaulted = np.where(seen, (1 - weight) * self.defaulted + weight * estimate / per_party,
                                  self.defaulted)

    def estimate(self) -> np.ndarray:
        """Each city's estimated implementation rate as a party, in [0, 1]."""
        total = self.honoured + self.defaulted
        return np.divide(self.honoured, total, out=np.ones(len(total)), where=total > 0)
