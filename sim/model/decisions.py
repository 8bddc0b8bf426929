"""This year's sign and implement probabilities: learned dispositions shifted by this year's levers.

Officials choose by a logit (quantal response: McKelvey & Palfrey 1995) over the political and
fiscal stakes of the year, around a disposition they learn over the years (the traits). The
trait is the probability at reference conditions (attention A_0, detection q_0, full cost, no
grant); this year's levers shift its log-odds by beta_D times the change they make to the net
incentive, in units of the base implementation cost c_d Y_i (docs/ODD.md section 7.5). So an
attention pulse, a council's monitoring or an upper-government grant changes behaviour in the
year it comes (promotion incentives respond to what is assessed now: Li & Zhou 2005), and
learning moves the disposition behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Levers:
    """One domain's incentives for every city, in units of the base cost c_d Y_i."""

    credit: np.ndarray      # kappa A_i / c_d: credit earned by implementing
    detection: np.ndarray   # q_i
    cost: np.ndarray        # (1 + rho_d sigma_i) f_{i,d}: implementation cost
    grant: float            # mu_d: share of the cost the upper government pays
    sanction: float         # eta: sanction on a caught shirker, multiple of the cost saved
    cofunding: np.ndarray | float = 0.0   # share of the cost an institution (a council) refunds
    negotiation: np.ndarray | float = 0.0  # nu_d f^N_i: cost of signing (negotiating) this year's agreements
    bonus: np.ndarray | float = 0.0        # transfers contingent on implementing (a river pact's stake swing)

    def own_cost(self) -> np.ndarray:
        """The share of the implementation cost the city itself bears."""
        return np.maximum(1.0 - self.grant - self.cofunding, 0.0) * self.cost

    def implement_gain(self) -> np.ndarray:
        """Implementing over shirking as a party: credit, bonus, the expected sanction avoided, own cost."""
        return self.credit + self.bonus + self.detection * self.sanction * self.cost - self.own_cost()

    def party_value(self, implement: np.ndarray) -> np.ndarray:
        """Expected political and fiscal value of being a party, given this year's implement probability."""
        shirk_loss = self.detection * self.sanction * self.cost
        return implement * (self.credit + self.bonus - self.own_cost()) - (1.0 - implement) * shirk_loss


def shift(probability: np.ndarray, log_odds: np.ndarray) -> np.ndarray:
    """The probability whose log-odds are those of ``probability`` plus ``log_odds`` (0 and 1 stay)."""
    odds = probability * np.exp(np.clip(log_odds, -700.0, 700.0))
    return odds / (1.0 - probability + odds)


def probabilities(sign_disposition, implement_disposition, now: Levers, reference: Levers,
                  intensity: float) -> tuple[np.ndarray, np.ndarray]:
    """(sign, implement) probabilities of this year, each city, one domain."""
    implement = shift(implement_disposition, intensity * (now.implement_gain() - reference.implement_gain()))
    sign_move = (now.party_value(implement) - now.negotiation
                 - reference.party_value(implement_disposition) + reference.negotiation)
    return shift(sign_disposition, intensity * sign_move), implement
