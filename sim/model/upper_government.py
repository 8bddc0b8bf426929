"""The upper government: plans, performance assessment and river compensation pacts.

Provinces and the centre shape cities' cooperation from above (docs/ODD.md 7.3): their plans
raise attention A(t) (a pulse per plan year); they co-fund infrastructure, ecology and public
services by matching grants mu_d (a domain parameter, paid in the cooperation round: Oates
1999); they assess officials against their provincial peers (promotion tournaments: Li & Zhou
2005; Zhou 2007); and they broker upstream-downstream ecological compensation along rivers
(the Xin'an River model), which this module settles each year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.traits import UNCONDITIONAL


def attention(year: int, cfg) -> float:
    """A(t): a pulse of upper-government attention at each plan year, decaying with tau_A."""
    return cfg.base + sum(cfg.pulse * np.exp(-(year - plan) / cfg.decay_years)
                          for plan in cfg.plan_years if plan <= year)


def peer_share(done: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Share of the other cities of each city's group (its province) that did ``done``; 0 for a
    city alone in its group. Relative assessment credits done_i minus this share."""
    total = np.bincount(group, weights=done.astype(float))
    others = np.bincount(group)[group] - 1
    return np.divide(total[group] - done, others, out=np.zeros(len(done)), where=others > 0)


class RiverPacts:
    """Ecological compensation "bets" on the water an upstream city sends downstream.

    While a pact runs, both cities are bound to sign ecology agreements (our assumption: the
    pact's joint monitoring is an ecology agreement of both), the upstream city meets the
    boundary water-quality target in a year if and only if it implements its ecology
    commitments that year (our assumption: treatment effort is what the section measures; the
    Lu River's monthly settlement becomes one yearly all-or-nothing payment), the downstream
    city then pays it the stake S, otherwise it pays the stake downstream (our assumption: the
    provinces that sign the pacts pass the stakes to the two cities); the centre adds a fixed
    grant G to the upstream city. The stake's swing 2S is part of the upstream city's incentive
    to implement (in units of its base cost c_d Y_i).
    """

    def __init__(self, pacts: pd.DataFrame, domain: int) -> None:
        self.pacts = pacts
        self.domain = domain
        # Plain arrays, read once: the yearly hooks must not pay for pandas.
        self.up, self.down = pacts["up"].to_numpy(int), pacts["down"].to_numpy(int)
        self.start, self.stake = pacts["start_year"].to_numpy(int), pacts["stake"].to_numpy(float)
        self.central_grant = pacts["central_grant"].to_numpy(float)
        self.met = np.zeros(len(pacts), dtype=bool)

    def set_levers(self, model, unit_cost_share: float) -> None:
        """Bind both cities to sign and add the swing of the stake to the upstream city's incentive."""
        active = self.start <= model.year
        if not active.any():
            return
        up, down = self.up[active], self.down[active]
        model.committed[up, self.domain] = True
        model.committed[down, self.domain] = True
        swing = 2.0 * self.stake[active] / (unit_cost_share * model.gdp[up])
        np.add.at(model.implement_bonus[:, self.domain], up, swing)

    def settle(self, model, implemented: np.ndarray) -> None:
        """Pay the stakes by this year's implementation upstream, and the central grants."""
        active = self.start <= model.year
        if not active.any():
            return
        up, down = self.up[active], self.down[active]
        self.met = implemented[up]
        flow = np.where(self.met, self.stake[active], -self.stake[active])
        transfer = np.zeros(model.n)
        np.add.at(transfer, up, flow)
        np.add.at(transfer, down, -flow)
        model.credit("river_compensation", transfer, self.domain, kind="fiscal")
        # Unconditional, so booked in the area that judges no trait: it must not make the upstream
        # city's ecology dispositions look profitable to the cities that imitate it.
        model.credit("river_central_grant", np.bincount(up, weights=self.central_grant[active], minlength=model.n),
                     UNCONDITIONAL, kind="fiscal")
