"""Enclave economy (飞地经济): parks co-built by a sending and a receiving city, revenue shared by rule.

A developed city whose land, energy and emission quotas bind (the *sender*) builds an industrial
park in a poorer neighbour with slack (the *host*); the park's tax revenue is split by a
benefit-sharing rule, which the seed documents single out as the key to such parks (seed 001:
"探索实行区域股份制 ... 考虑权责关系、出资比例、能源消费、污染物排放等因素进行协商划分", a regional
shareholding system splitting revenue by responsibility, capital, energy use and emissions;
seed 004: "以托管或共建方式发展飞地经济", "鼓励采用飞地模式加强园区联合开发建设合作").

Each year, in :meth:`Enclave.after_production`: active parks produce and the host may renege on
the sender's share (detected with a probability a council raises); parks dissolve when reneging
is detected or when one side's realised gain stays below its disagreement value for ``patience``
years; then free constrained senders propose new parks, which form when both sides expect to
gain. Expectations include a perceived, unpaid value of the pairing itself (scaled by the
city's enclave willingness), so a park may form under a rule that violates one side's money
participation constraint and then dissolve: pattern P9 (docs/ODD.md section 1.1).

Parks are kept as a struct of arrays (:class:`Parks`); nothing loops over city pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.errors import ConfigError
from sim.mechanisms.base import Mechanism, Trait
from sim.config.schema import param

if TYPE_CHECKING:   # tables are built after the run; a bad command line fails before pandas loads
    import pandas as pd

RULES = ("proportional", "shapley", "nash", "fixed", "in_situ")
REASONS = ("renege_detected", "sender_participation", "host_participation")
RENEGE_STATES = ("none", "undetected", "detected")


@dataclass
class EnclaveConfig:
    rule: str = param(doc="sharing rule of new parks (a council of both sides may fix another)", choices=RULES)
    sender_income_ratio: float = param(0, 10, "sender: GDP per capita >= this multiple of the regional median")
    sender_secondary_share: float = param(0, 100, "sender: secondary-industry share of GDP >= this (percent)")
    host_income_ratio: float = param(0, 10, "host: GDP per capita below this multiple of the regional median")
    max_distance_km: float = param(0, 5000, "largest sender-host distance of a park (km)")
    park_scale: float = param(0, 1, "K: park capital as a share of the sender's GDP at formation "
                                    "(Suzhou-Suqian: 37.2 bn yuan invested by 2017 / Suzhou's 2015 GDP)")
    productivity_blend: float = param(0, 1, "w: weight of the sender's productivity in the park's")
    friction_km: float = param(1, 1e5, "distance over which the park's output falls by a factor e (km)")
    tax_rate: float = param(0, 1, "revenue R per unit of the park's output Q")
    statistics_share: float = param(0, 1, "sender's share of the park's value added counted in its GDP "
                                          "statistics (0: all in the host's, where the park produces)")
    revenue_noise: float = param(0, 5, "sd of the log of the yearly revenue shock (mean one)")
    capital_cost: float = param(0, 1, "sender's yearly opportunity cost per unit of park capital")
    land_cost: float = param(0, 1, "host's yearly opportunity cost of the land per unit of park capital")
    quota_relief: float = param(0, 1, "sender's yearly value of the land, energy and emission quota a park "
                                      "frees at home, per unit of park capital")
    pairing_value: float = param(0, 1, "perceived, unpaid yearly value of a pairing per unit capital "
                                       "to a fully willing city")
    weight_capital: float = param(0, 10, "proportional rule: weight of capital contributions")
    weight_land: float = param(0, 10, "proportional rule: weight of land contributions")
    weight_energy: float = param(0, 10, "proportional rule: weight of energy-quota contributions")
    weight_emissions: float = param(0, 10, "proportional rule: weight of emission-quota contributions")
    sender_capital_share: float = param(0, 1, "proportional rule: sender's share of the capital")
    sender_energy_share: float = param(0, 1, "proportional rule: sender's share of the energy quota")
    sender_emission_share: float = param(0, 1, "proportional rule: sender's share of the emission quota")
    bargaining_power: float = param(0, 1, "nash rule: sender's bargaining power beta")
    fixed_share: float = param(0, 1, "fixed rule: sender's share of revenue")
    renege_rate: float = param(0, 1, "chance per year that a host tempted to renege considers it")
    renege_horizon: float = param(0, 100, "years of park gains a host expects to lose if caught reneging")
    detection: float = param(0, 1, "park's own detection of reneging (a council may raise it)")
    sanction: float = param(0, 100, "fine on a detected reneging host, multiple of the withheld share")
    trust_penalty: float = param(0, 1, "factor on sender-host trust (both ways) after detected reneging")
    patience: int = param(1, 100, "years a side's realised gain may stay below its disagreement value")


# ---------------------------------------------------------------------- economics
def productivity(gdp: np.ndarray, population: np.ndarray) -> np.ndarray:
    """GDP per capita relative to the regional mean (total GDP / total population)."""
    return (gdp / population) / (gdp.sum() / population.sum())


def mean_output(p: EnclaveConfig, capital, prod_sender, prod_host, km) -> np.ndarray:
    """Expected value added of a park: K * (w a_s + (1 - w) a_h) * exp(-d / friction_km)."""
    blend = p.productivity_blend * prod_sender + (1.0 - p.productivity_blend) * prod_host
    return capital * blend * np.exp(-np.asarray(km) / p.friction_km)


def mean_revenue(p: EnclaveConfig, capital, prod_sender, prod_host, km) -> np.ndarray:
    """Expected tax revenue, the part of the park's value added that the two sides share."""
    return p.tax_rate * mean_output(p, capital, prod_sender, prod_host, km)


def proportional_share(p: EnclaveConfig) -> float:
    """Regional shareholding: weighted share of the sender's contributions (host gives all land)."""
    weights = np.array([p.weight_capital, p.weight_land, p.weight_energy, p.weight_emissions])
    sender = np.array([p.sender_capital_share, 0.0, p.sender_energy_share, p.sender_emission_share])
    return float(weights @ sender / weights.sum())


def nash_share(expected, sender_cost, host_cost, power) -> np.ndarray:
    """Sender's revenue share under asymmetric Nash bargaining (Nash 1950) with disagreement
    payoffs equal to each side's outside option: x_s = d_s + beta (R - d_s - d_h)."""
    expected = np.asarray(expected, dtype=float)
    x = sender_cost + power * (expected - sender_cost - host_cost)
    return np.clip(np.divide(x, expected, out=np.zeros_like(expected), where=expected > 0), 0.0, 1.0)


def shapley_share(expected, sender_cost, host_cost) -> np.ndarray:
    """Two-player Shapley value (Shapley 1953) with v({s}) = d_s, v({h}) = d_h, v({s,h}) = R:
    phi_s = d_s + (R - d_s - d_h) / 2, i.e. Nash bargaining with equal power."""
    return nash_share(expected, sender_cost, host_cost, 0.5)


def sender_share(rule: np.ndarray, expected, sender_cost, host_cost, p: EnclaveConfig) -> np.ndarray:
    """The sender's share of revenue under each park's rule (codes index RULES), fixed at formation."""
    return np.select(
        [rule == RULES.index(r) for r in RULES],
        [np.full(len(rule), proportional_share(p)), shapley_share(expected, sender_cost, host_cost),
         nash_share(expected, sender_cost, host_cost, p.bargaining_power),
         np.full(len(rule), p.fixed_share), np.zeros(len(rule))])


def renege_temptation(owed, host_net, detection, sanction, horizon) -> np.ndarray:
    """Host's expected gain from withholding the sender's share, per unit withheld, in [0, 1]:
    kept if undetected; if detected (q) the share is restored, a fine eta x owed is paid and
    ``horizon`` years of the host's net park gain are lost: 1 - q (1 + eta + F / owed)."""
    future = np.maximum(host_net, 0.0) * horizon
    loss = np.divide(future, owed, out=np.zeros_like(owed), where=owed > 0)
    return np.where(owed > 0, np.clip(1.0 - detection * (1.0 + sanction + loss), 0.0, 1.0), 0.0)


# ---------------------------------------------------------------------- state
PARK_FIELDS: dict[str, tuple[type, Any]] = {   # column: (dtype, value of a new park)
    "sender": (np.int64, 0), "host": (np.int64, 0), "formed": (np.int64, 0), "rule": (np.int8, 0),
    "capital": (float, 0.0), "km": (float, 0.0), "share": (float, 0.0), "sender_cost": (float, 0.0),
    "host_cost": (float, 0.0), "expected": (float, 0.0), "violating": (bool, False),
    "council": (bool, False), "active": (bool, True), "ended": (np.int64, -1), "reason": (np.int8, -1),
    "below_sender": (np.int64, 0), "below_host": (np.int64, 0), "revenue": (float, 0.0),
    "to_sender": (float, 0.0), "to_host": (float, 0.0), "years": (np.int64, 0), "reneged": (np.int64, 0),
}


class Parks:
    """Every park ever formed, one entry per park in each column array (struct of arrays)."""

    def __init__(self) -> None:
        for name, (dtype, _) in PARK_FIELDS.items():
            setattr(self, name, np.zeros(0, dtype=dtype))

    def __len__(self) -> int:
        return len(self.sender)

    def add(self, **columns) -> None:
        """Append new parks; columns not given take the new-park value of PARK_FIELDS."""
        count = len(next(iter(columns.values())))
        for name, (dtype, fill) in PARK_FIELDS.items():
            new = np.asarray(columns[name], dtype=dtype) if name in columns else np.full(count, fill, dtype)
            setattr(self, name, np.concatenate([getattr(self, name), new]))


# ---------------------------------------------------------------------- mechanism
class Enclave(Mechanism):
    """Co-built parks between constrained senders and poorer hosts, revenue shared by a rule."""

    name = "enclave"
    schema = EnclaveConfig
    figure_panels = (("enclave_parks_active", "Active parks"),
                     ("enclave_revenue", "Park revenue (100 million yuan)"))
    inert = ("mechanism.enclave.max_distance_km=0",)
    # Willingness to enter enclave deals, judged by the enclave payoffs alone.
    traits = (Trait("enclave", area="enclave", mean="traits.enclave"),)
    areas = ("enclave",)
    report_metrics = {"enclaves_active_final": ("Active enclave parks, final year", "parks")}

    def __init__(self, model, params: Any) -> None:
        super().__init__(model, params)
        weights = (params.weight_capital, params.weight_land, params.weight_energy, params.weight_emissions)
        if sum(weights) <= 0:
            raise ConfigError("mechanism.enclave.weight_capital, weight_land, weight_energy and "
                              "weight_emissions are all 0: the proportional rule needs a positive weight.")
        self.secondary = model.region.cities["secondary_share"].to_numpy(dtype=float)
        self.parks = Parks()
        self.year_blocks: list[dict[str, np.ndarray]] = []
        self.flows: dict[str, float] = self._zero_flows()

    @staticmethod
    def _zero_flows() -> dict[str, float]:
        keys = ("parks_active", "formed", "proposed", "rejected", "dissolved",
                *(f"dissolved_{r}" for r in REASONS), "renege_detected", "renege_undetected",
                "revenue", "to_senders", "to_hosts", "sanctions")
        return {k: 0.0 for k in keys}

    # ------------------------------------------------------------------ the year
    def after_production(self, model) -> None:
        """Produce, renege, pay, dissolve, then form new parks (they produce from next year).
        Runs after every mechanism's before_round, so a council's levers are already set."""
        self.flows = self._zero_flows()
        active = np.flatnonzero(self.parks.active)
        if len(active):
            self._operate(model, active)
        self._form(model)
        self.flows["parks_active"] = float(self.parks.active.sum())

    def _operate(self, model, idx: np.ndarray) -> None:
        """One year of the active parks: revenue, reneging, payments, dissolution."""
        p, pk = self.params, self.parks
        prod = productivity(model.gdp, model.population)
        sender, host = pk.sender[idx], pk.host[idx]
        noise = np.exp(p.revenue_noise * model.rng.normal(size=len(idx)) - p.revenue_noise ** 2 / 2)
        output = mean_output(p, pk.capital[idx], prod[sender], prod[host], pk.km[idx]) * noise
        revenue = p.tax_rate * output
        owed = pk.share[idx] * revenue
        reneged, detected = self._renege(model, idx, revenue, owed)
        to_sender = np.where(reneged & ~detected, 0.0, owed)
        to_host = revenue - to_sender
        fine = np.where(detected, p.sanction * owed, 0.0)
        relief = p.quota_relief * pk.capital[idx]
        self._pay(model, idx, output, to_sender, fine, relief)
        if detected.any():
            model.lower_trust(sender[detected], host[detected], p.trust_penalty)
            model.lower_trust(host[detected], sender[detected], p.trust_penalty)
        reason = self._dissolution_reason(idx, to_sender + relief - pk.sender_cost[idx],
                                          to_host - fine - pk.host_cost[idx], detected)
        self._book(model, idx, revenue, to_sender, to_host, fine, reneged, detected, reason)

    def _renege(self, model, idx, revenue, owed) -> tuple[np.ndarray, np.ndarray]:
        """The host withholds the sender's share with probability renege_rate x temptation; it is
        detected with q = max(detection, the host's detection lever), which a council raises."""
        p, pk = self.params, self.parks
        q = np.maximum(p.detection, model.detection[pk.host[idx]])
        host_net = revenue - owed - pk.host_cost[idx]
        prob = p.renege_rate * renege_temptation(owed, host_net, q, p.sanction, p.renege_horizon)
        u = model.rng.random((len(idx), 2))
        reneged = u[:, 0] < prob
        detected = reneged & (u[:, 1] < q)
        self.flows["renege_detected"] = float(detected.sum())
        self.flows["renege_undetected"] = float((reneged & ~detected).sum())
        return reneged, detected

    def _pay(self, model, idx, output, to_sender, fine, relief) -> None:
        """The park's value added enters the region (a source) and the GDP of the host, where it
        is produced, less the share the statistics rule counts in the sender's; its tax revenue
        is part of that value added, and the host's tax office transfers the sender's share (a
        fiscal flow). The outside options forgone (capital, land: real resources) and fines paid
        to the upper government leave the region (sinks); the quota the park frees in the sender
        is value the sender creates at home (a source)."""
        pk, n, p = self.parks, model.n, self.params
        sender, host = pk.sender[idx], pk.host[idx]

        def per_city(city, amount):
            return np.bincount(city, weights=amount, minlength=n)

        self.source("park_value_added", output.sum())
        self.pay("value_added_host", per_city(host, (1.0 - p.statistics_share) * output), "enclave", "value")
        self.pay("value_added_sender", per_city(sender, p.statistics_share * output), "enclave", "value")
        self.pay("revenue_share", per_city(sender, to_sender) - per_city(host, to_sender), "enclave")
        self.source("quota_relief", relief.sum())
        self.pay("quota_relief", per_city(sender, relief), "enclave", "value")
        self.pay("capital_cost", -per_city(sender, pk.sender_cost[idx]), "enclave", "value")
        self.sink("capital_cost", pk.sender_cost[idx].sum())
        self.pay("land_cost", -per_city(host, pk.host_cost[idx]), "enclave", "value")
        self.sink("land_cost", pk.host_cost[idx].sum())
        self.pay("sanction", -per_city(host, fine), "enclave")
        self.sink("sanction", fine.sum())

    def _dissolution_reason(self, idx, gain_sender, gain_host, detected) -> np.ndarray:
        """Reason code (index into REASONS) of each park ending this year, -1 if it goes on.
        A side's losing streak counts consecutive years of realised gain below zero, i.e. below
        its disagreement value (its outside option, already charged as a cost)."""
        pk = self.parks
        pk.below_sender[idx] = np.where(gain_sender < 0, pk.below_sender[idx] + 1, 0)
        pk.below_host[idx] = np.where(gain_host < 0, pk.below_host[idx] + 1, 0)
        patience = self.params.patience
        return np.select([detected, pk.below_sender[idx] >= patience, pk.below_host[idx] >= patience],
                         [0, 1, 2], default=-1).astype(np.int8)

    def _book(self, model, idx, revenue, to_sender, to_host, fine, reneged, detected, reason) -> None:
        """Update the parks' totals and status, the year's flows and the yearly park table."""
        pk = self.parks
        pk.revenue[idx] += revenue
        pk.to_sender[idx] += to_sender
        pk.to_host[idx] += to_host
        pk.years[idx] += 1
        pk.reneged[idx] += reneged
        ending = reason >= 0
        pk.active[idx[ending]] = False
        pk.ended[idx[ending]] = model.year
        pk.reason[idx[ending]] = reason[ending]
        f = self.flows
        f.update(revenue=float(revenue.sum()), to_senders=float(to_sender.sum()),
                 to_hosts=float(to_host.sum()), sanctions=float(fine.sum()), dissolved=float(ending.sum()))
        for code, name in enumerate(REASONS):
            f[f"dissolved_{name}"] = float((reason == code).sum())
        self.year_blocks.append({
            "park": idx, "year": np.full(len(idx), model.year), "revenue": revenue,
            "to_sender": to_sender, "to_host": to_host, "sanction": fine,
            "renege": np.where(detected, 2, np.where(reneged, 1, 0)), "reason": reason})

    # ------------------------------------------------------------------ formation
    def _candidates(self, model) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Free constrained senders and, for each, the partner host within max_distance_km with the
        largest trust-weighted expected joint surplus. Returns (sender, host, km, expected revenue).
        [our assumption] constrained = rich (GDP per capita >= ratio x median) and industrial
        (secondary share >= threshold); hosts are poorer (GDP per capita < ratio x median)."""
        p = self.params
        per_capita = model.gdp / model.population
        median = np.median(per_capita)
        busy = np.zeros(model.n, dtype=bool)
        busy[self.parks.sender[self.parks.active]] = True
        sender_ok = ((per_capita >= p.sender_income_ratio * median)
                     & (self.secondary >= p.sender_secondary_share) & ~busy)
        host_ok = per_capita < p.host_income_ratio * median
        valid = sender_ok[:, None] & host_ok[model.partners] & (model.partner_km <= p.max_distance_km)
        rows = np.flatnonzero(valid.any(axis=1))
        if not len(rows):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0), np.zeros(0)
        partners, km = model.partners[rows], model.partner_km[rows]
        prod = productivity(model.gdp, model.population)
        capital = p.park_scale * model.gdp[rows]
        expected = mean_revenue(p, capital[:, None], prod[rows, None], prod[partners], km)
        k = partners.shape[1]
        trust = model.edges.trust[model.edges.index(np.repeat(rows, k), partners.ravel())].reshape(-1, k)
        col = np.argmax(np.where(valid[rows], trust * expected, -np.inf), axis=1)
        pick = np.arange(len(rows))
        return rows, partners[pick, col], km[pick, col], expected[pick, col]

    def _rules(self, model, sender, host) -> tuple[np.ndarray, np.ndarray]:
        """Rule code of each new park: the council's when both sides are members and the council's
        coordination layer fixes one (model.council_sharing_rule), else this mechanism's rule."""
        own = np.full(len(sender), RULES.index(self.params.rule), dtype=np.int8)
        fixed = model.council_sharing_rule
        if fixed is None:
            return own, np.zeros(len(sender), dtype=bool)
        if fixed not in RULES:
            raise ConfigError(f"the council's enclave sharing rule {fixed!r} is not one of {', '.join(RULES)}")
        members = model.council[sender] & model.council[host]
        return np.where(members, np.int8(RULES.index(fixed)), own), members

    def _form(self, model) -> None:
        """Free senders propose with probability equal to their enclave willingness; a park forms
        when both sides' perceived gains over their disagreement values are positive."""
        p = self.params
        sender, host, km, expected = self._candidates(model)
        if not len(sender):
            return
        willing = model.traits[:, model.vocabulary.trait("enclave")]
        propose = model.rng.random(len(sender)) < willing[sender]
        sender, host, km, expected = sender[propose], host[propose], km[propose], expected[propose]
        capital = p.park_scale * model.gdp[sender]
        cost_s, cost_h = p.capital_cost * capital, p.land_cost * capital
        net_s = cost_s - p.quota_relief * capital   # the sender's outside option net of the quota freed
        rule, council = self._rules(model, sender, host)
        share = sender_share(rule, expected, net_s, cost_h, p)
        money_s, money_h = share * expected - net_s, (1.0 - share) * expected - cost_h
        perceived_s = money_s + willing[sender] * p.pairing_value * capital
        perceived_h = money_h + willing[host] * p.pairing_value * capital
        ok = (perceived_s > 0) & (perceived_h > 0)
        self.flows.update(proposed=float(propose.sum()), rejected=float((~ok).sum()), formed=float(ok.sum()))
        if ok.any():
            self.parks.add(sender=sender[ok], host=host[ok], formed=np.full(ok.sum(), model.year),
                           rule=rule[ok], capital=capital[ok], km=km[ok], share=share[ok],
                           sender_cost=cost_s[ok], host_cost=cost_h[ok], expected=expected[ok],
                           violating=(money_s < 0)[ok] | (money_h < 0)[ok], council=council[ok])

    # ------------------------------------------------------------------ outputs
    def observables(self) -> dict[str, float]:
        return {f"enclave_{k}": v for k, v in self.flows.items()}

    def summary(self, timeseries: pd.DataFrame) -> dict[str, Any]:
        pk = self.parks
        formed = len(pk)
        dissolved = ~pk.active

        def hazard(mask) -> dict[str, Any]:
            """Parks, dissolutions and dissolutions per park-year (exposure differs by age)."""
            years = int(pk.years[mask].sum())
            ended = int(dissolved[mask].sum())
            return {"formed": int(mask.sum()), "dissolved": ended, "park_years": years,
                    "dissolutions_per_park_year": ended / years if years else None}

        revenue = float(pk.revenue.sum())
        return {
            "enclaves_active_final": int(pk.active.sum()),
            "enclaves_formed_total": formed,
            "enclave_survival_share": float(pk.active.mean()) if formed else None,
            "enclave_dissolved_by_rule": {r: hazard(pk.rule == i) for i, r in enumerate(RULES)
                                          if (pk.rule == i).any()},
            "enclave_dissolved_by_reason": {r: int((pk.reason == i).sum()) for i, r in enumerate(REASONS)},
            "enclave_dissolved_violating": hazard(pk.violating),
            "enclave_dissolved_compliant": hazard(~pk.violating),
            "enclave_revenue_total": revenue,
            "enclave_sender_revenue_share": float(pk.to_sender.sum()) / revenue if revenue else None,
            "enclave_reneging_detected_total": int(timeseries["enclave_renege_detected"].sum()),
            "enclave_reneging_undetected_total": int(timeseries["enclave_renege_undetected"].sum()),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"parks": self._parks_table(), "parks_yearly": self._yearly_table()}

    def _parks_table(self) -> pd.DataFrame:
        """One row per park: who, when, which rule, money over its life, how and when it ended."""
        import pandas as pd

        pk, names = self.parks, self.model.names
        revenue = pk.revenue
        return pd.DataFrame({
            "park": np.arange(len(pk)), "sender": pk.sender, "host": pk.host,
            "sender_name": names[pk.sender].astype(str), "host_name": names[pk.host].astype(str),
            "formed": pk.formed, "rule": np.array(RULES, dtype=object)[pk.rule], "council_rule": pk.council,
            "capital": pk.capital, "distance_km": pk.km, "sender_share": pk.share,
            "expected_revenue": pk.expected, "violating": pk.violating, "years": pk.years,
            "revenue_total": revenue, "sender_total": pk.to_sender, "host_total": pk.to_host,
            "sender_share_realised": np.divide(pk.to_sender, revenue, out=np.full(len(pk), np.nan),
                                               where=revenue > 0),
            "years_reneged": pk.reneged, "status": np.where(pk.active, "active", "dissolved"),
            "ended": pd.array([None if a else int(e) for a, e in zip(pk.active, pk.ended)], dtype="Int64"),
            "reason": np.where(pk.reason >= 0, np.array(REASONS, dtype=object)[np.maximum(pk.reason, 0)], ""),
        })

    def _yearly_table(self) -> pd.DataFrame:
        """One row per park and year of operation (long format), status at the end of the year."""
        import pandas as pd

        columns = ("park", "year", "revenue", "to_sender", "to_host", "sanction", "renege", "reason")
        if not self.year_blocks:
            frame = pd.DataFrame({c: np.zeros(0, dtype=float if c in ("revenue", "to_sender", "to_host",
                                                                      "sanction") else np.int64)
                                  for c in columns})
        else:
            frame = pd.DataFrame({c: np.concatenate([b[c] for b in self.year_blocks]) for c in columns})
        reason = frame.pop("reason").to_numpy()
        frame["renege"] = np.array(RENEGE_STATES, dtype=object)[frame["renege"].to_numpy(dtype=np.int64)]
        frame["status"] = np.where(reason >= 0, "dissolved", "active")
        frame["reason"] = np.where(reason >= 0, np.array(REASONS, dtype=object)[np.maximum(reason, 0)], "")
        return frame
