"""Yearly observables of a run, kept as arrays and turned into tidy tables at the end."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config.schema import DOMAINS

EVENT_COLUMNS = ("year", "kind", "domain", "city", "group", "sector", "amount", "subsidy")
_EVENT_FIELDS = {"city": (np.int32, -1), "group": (np.int32, -1), "sector": (np.int16, -1),
                 "amount": (float, 0.0), "subsidy": (float, 0.0)}   # dtype, value where absent


def _events(year, kind, domain="", city=None, group=None, sector=None, amount=None, subsidy=None):
    """A block of event rows, kept as given: scalars once, per-row fields as arrays or None.

    The table is assembled once at the end (:meth:`Recorder.events`): building eight columns
    per block every year cost a tenth of a model year.
    """
    length = len(next(a for a in (city, group, amount) if a is not None))
    return (length, year, kind, domain, {"city": city, "group": group, "sector": sector,
                                         "amount": amount, "subsidy": subsidy})


def _event_column(blocks, lengths, name: str) -> np.ndarray:
    dtype, absent = _EVENT_FIELDS[name]
    out = np.full(int(lengths.sum()), absent, dtype=dtype)
    for (_, _, _, _, fields), stop, n in zip(blocks, np.cumsum(lengths), lengths):
        if fields[name] is not None:
            out[stop - n:stop] = fields[name]
    return out


class Recorder:
    """Collects one row per year, one row per city-year and the year's events."""

    def __init__(self, model) -> None:
        self.model = model
        self.keep_events = bool(model.cfg.output.events)
        self.rows: list[dict] = []
        self.city_blocks: list[dict] = []
        self.event_blocks: list[dict] = []

    def record_year(self) -> None:
        m = self.model
        row = {"year": m.year, "attention": m.attention_now}
        implemented_count = np.zeros(m.n, dtype=np.int32)
        party_count = np.zeros(m.n, dtype=np.int32)
        for name, out in m.outcomes.items():
            row[f"agreements_{name}"] = int(out.agreement.sum())
            row[f"projects_{name}"] = int(out.delivered.sum())
            row[f"signed_{name}"] = float(out.signed.mean())
            row[f"implemented_{name}"] = float(out.implemented.mean())
            row[f"sanctions_{name}"] = int(out.detected.sum())
            implemented_count += out.implemented
            party_count += out.party
            if self.keep_events:
                self._domain_events(m, name, out)
        row["cooperation_index"] = float(np.mean([row[f"implemented_{d}"] for d in DOMAINS]))
        row["agreements_total"] = sum(row[f"agreements_{d}"] for d in DOMAINS)
        row["projects_total"] = sum(row[f"projects_{d}"] for d in DOMAINS)
        row["sanctions_total"] = sum(row[f"sanctions_{d}"] for d in DOMAINS)
        row.update(self._firm_row(m))
        row["gdp_total"] = float(m.gdp_before.sum())
        row["gdp_growth"] = float(m.gdp.sum() / m.gdp_before.sum() - 1.0)
        row.update(m.inequality(m.gdp_before))
        trust = m.trust_by_city()
        row["trust_mean"] = float(trust.mean())
        row["subsidy_offer_mean"] = float(m.traits[:, m.trait_names.index("subsidy")].mean())
        row.update({f"ledger_{k}": v for k, v in m.ledger.items()})
        for mechanism in m.mechanisms:
            row.update(mechanism.observables())
            row[f"balance_{mechanism.name}"] = float(mechanism.balance)
        self.rows.append(row)
        block = {"year": np.full(m.n, m.year, dtype=np.int32), "city": np.arange(m.n, dtype=np.int32),
                 "gdp": m.gdp_before, "population": m.population, "gdp_per_capita": m.gdp_before / m.population * 1e8,
                 "payoff": m.payoff.copy(), "value_added": m.value_added.copy(),
                 "fiscal_flow": m.fiscal_flow.copy(), "fiscal_balance": m.fiscal_balance.copy(),
                 "payoff_norm": m.payoff_norm.copy(),
                 "agreements": party_count, "implementations": implemented_count, "trust": trust}
        block.update({name: m.traits[:, t].copy() for t, name in enumerate(m.trait_names)})
        self.city_blocks.append(block)

    def _firm_row(self, m) -> dict:
        pl = m.placement
        placed = pl.host >= 0
        n_placed = int(placed.sum())
        subsidy = float(pl.subsidy.sum())
        if self.keep_events and len(pl.host):
            self.event_blocks.append(_events(
                m.year, "firm", city=pl.host, sector=pl.sector, amount=pl.value, subsidy=pl.subsidy))
        return {
            "firms_arrived": len(pl.host), "firms_placed": n_placed, "firms_lost": len(pl.host) - n_placed,
            "subsidy_total": subsidy, "subsidy_per_firm": subsidy / n_placed if n_placed else float("nan"),
            "duplicate_bids": int(np.maximum(pl.n_bidders - 1, 0).sum()),
        }

    def _domain_events(self, m, name, out) -> None:
        g = m.domain_groups[DOMAINS.index(name)].groups
        groups = np.flatnonzero(out.agreement)
        ego = g.mem_city[g.ptr[groups]]
        self.event_blocks.append(_events(m.year, "agreement", name, city=ego, group=groups,
                                         amount=out.signatories[groups]))
        delivered = np.flatnonzero(out.delivered)
        self.event_blocks.append(_events(m.year, "project", name, city=g.mem_city[g.ptr[delivered]],
                                         group=delivered, amount=out.signatories[delivered]))
        impl = np.flatnonzero(out.implemented)
        self.event_blocks.append(_events(m.year, "implementation", name, city=impl, amount=out.cost[impl]))
        caught = np.flatnonzero(out.detected)
        self.event_blocks.append(_events(m.year, "sanction", name, city=caught, amount=out.sanction[caught]))

    # ----------------------------------------------------------------- tables
    def timeseries(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows)
        ledger = [c for c in frame.columns if c.startswith("ledger_")]
        frame[ledger] = frame[ledger].fillna(0.0)   # an account with no flow in a year is zero
        return frame

    def cities(self) -> pd.DataFrame:
        m = self.model
        frame = pd.DataFrame({k: np.concatenate([b[k] for b in self.city_blocks]) for k in self.city_blocks[0]})
        static = m.region.cities[["name", "province", "circle", "core", "lat", "lon", "imputed"]]
        return frame.join(static, on="city")

    def events(self) -> pd.DataFrame:
        if not self.event_blocks:
            return pd.DataFrame({c: [] for c in EVENT_COLUMNS})
        blocks = self.event_blocks
        lengths = np.array([b[0] for b in blocks])
        return pd.DataFrame({
            "year": np.repeat(np.array([b[1] for b in blocks], dtype=np.int32), lengths),
            "kind": pd.Categorical(np.repeat(np.array([b[2] for b in blocks], dtype=object), lengths)),
            "domain": pd.Categorical(np.repeat(np.array([b[3] for b in blocks], dtype=object), lengths)),
            **{name: _event_column(blocks, lengths, name) for name in _EVENT_FIELDS},
        })

    def links(self) -> pd.DataFrame:
        """Undirected cooperation links: joint implemented projects over the whole run."""
        m = self.model
        e = m.edges
        a, b = np.minimum(e.src, e.dst), np.maximum(e.src, e.dst)
        frame = pd.DataFrame({"source": a, "target": b, "strength": e.strength})
        return frame.groupby(["source", "target"], as_index=False)["strength"].sum()
