"""The interface between the model and a coordination institution.

A mechanism is one module plus one config: a :class:`Mechanism` subclass, registered under the
entry-point group ``sim.mechanisms`` (see :mod:`sim.mechanisms.registry`), and ``<name>.yaml``
next to its module holding its parameter values (types, ranges and meanings: its ``schema``
dataclass). The model calls its hooks at fixed points of the yearly schedule; selecting no
mechanism (or ``none``) is the baseline, and ``+mechanism=[a,b]`` runs a's hooks, then b's, at
each point.

Money is accounted for explicitly: a mechanism pays cities through :meth:`Mechanism.pay`,
records money leaving the region through :meth:`~Mechanism.sink` (meeting costs, say) or entering
it through :meth:`~Mechanism.source` (a park's production), and reports money it holds (a council
pool) as :attr:`~Mechanism.balance`. Every year, city receipts + sinks - sources + change in
balance = 0; the shared test harness checks this identity for every registered mechanism.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:   # not imported for real: a bad command line fails before pandas loads
    import pandas as pd


@dataclass(frozen=True)
class Trait:
    """A strategy trait that cities hold and learn (a propensity in [0, ``upper``]).

    ``area`` names the policy area whose payoff judges the trait in learning (a domain,
    ``investment``, or an area the mechanism declares). ``mean`` is the initial mean, or the
    dotted key of a model parameter holding it (e.g. ``traits.enclave``); ``upper`` likewise.
    """

    name: str
    area: str
    mean: float | str
    upper: float | str = 1.0


class Mechanism:
    """Base class: every hook is a no-op, so a mechanism overrides only what it changes."""

    name: ClassVar[str] = ""
    schema: ClassVar[type | None] = None   # dataclass of its parameters (types, ranges, docs)
    # Strategy traits it adds to every city, and policy areas of its own whose payoffs judge them.
    # Every registered mechanism's traits are present in every run (selected or not), so that
    # selecting a mechanism never changes how the others are initialised.
    traits: ClassVar[tuple[Trait, ...]] = ()
    areas: ClassVar[tuple[str, ...]] = ()
    # Headline metrics of its summary() that `sim report` compares: key -> (label, unit).
    report_metrics: ClassVar[dict[str, tuple[str, str]]] = {}
    # Overrides that leave the mechanism selected but with nothing to act on; the shared test
    # harness checks that the run then equals the baseline (no stray draws, no side effects).
    inert: ClassVar[tuple[str, ...]] = ()
    # Its figure, ``mechanism_<name>``: one stacked panel per (time-series column, axis label).
    # Declared as data, not drawn here, so that figures can be drawn in a helper process
    # that never imports the model (see sim.figures.processes).
    figure_panels: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, model, params: Any) -> None:
        self.model = model
        self.params = params
        self.balance = 0.0

    # ---------------------------------------------------------------- hooks
    def before_round(self, model) -> None:
        """Step 2, before the cooperation round: agendas, admissions, levers for the year."""

    def before_investment(self, model, market) -> None:
        """Step 4, before firms choose hosts: may rewrite ``market.offers`` and ``market.bid``."""

    def after_production(self, model) -> None:
        """Step 5, after cooperation and investment: parks, transfers, checks."""

    # ---------------------------------------------------------------- outputs
    def observables(self) -> dict[str, float]:
        """This year's observables, added as columns of the time series."""
        return {}

    def summary(self, timeseries: pd.DataFrame) -> dict[str, Any]:
        """Headline metrics for summary.json."""
        return {}

    def tables(self) -> dict[str, pd.DataFrame]:
        """Extra tables written as ``<name>.parquet`` in the run folder."""
        return {}

    # ---------------------------------------------------------------- money
    def pay(self, account: str, per_city, area: str, kind: str = "fiscal") -> None:
        """Credit (or, if negative, debit) cities in policy ``area``; recorded as ledger account
        ``<name>.<account>``. A payment is a transfer between budgets (``fiscal``) unless it is
        value added or the real resources it uses (``value``: the only kind that grows GDP)."""
        self.model.credit(f"{self.name}.{account}", per_city, self.model.vocabulary.area(area), kind)

    def sink(self, account: str, amount: float) -> None:
        """Money that leaves the region's accounts (e.g. meeting and office costs)."""
        self._record(f"{self.name}.sink.{account}", amount)

    def source(self, account: str, amount: float) -> None:
        """Money that enters the region's accounts (e.g. a park's production)."""
        self._record(f"{self.name}.source.{account}", amount)

    def _record(self, key: str, amount: float) -> None:
        ledger = self.model.ledger
        ledger[key] = ledger.get(key, 0.0) + float(amount)


class NoMechanism(Mechanism):
    """The baseline: informal gravity networks only."""

    name = "none"
