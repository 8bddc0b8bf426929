"""Coordination institutions as plugins behind one small interface.

A mechanism is a class registered by name in its own module, with its parameters in
``configs/mechanism/<name>.yaml`` (schema: a dataclass named in ``SCHEMA``). The model calls
its hooks at fixed points of the yearly schedule; selecting no mechanism (or ``none``) is the
baseline, and ``+mechanism=[a,b]`` runs a's hooks, then b's, at each point.

Money is accounted for explicitly: a mechanism pays cities through :meth:`Mechanism.pay`,
records money leaving the region through :meth:`sink` (meeting costs, say) or entering it
through :meth:`source` (a park's production), and reports money it holds (a council pool) as
:attr:`balance`. Every year, city receipts + sinks - sources + change in balance = 0; the
shared test harness checks this identity for every mechanism.
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

import pandas as pd

from sim.schema import as_dataclass

REGISTRY: dict[str, type["Mechanism"]] = {}
MODULES = ("three_tier", "enclave", "joint_investment")


class Mechanism:
    """Base class: every hook is a no-op, so a mechanism overrides only what it changes."""

    name: ClassVar[str] = ""
    schema: ClassVar[type | None] = None   # dataclass of its parameters (types, ranges, docs)
    # Overrides that leave the mechanism selected but with nothing to act on; the shared test
    # harness checks that the run then equals the baseline (no stray draws, no side effects).
    inert: ClassVar[tuple[str, ...]] = ()
    # Its figure, ``mechanism_<name>``: one stacked panel per (time-series column, axis label).
    # Declared as data, not drawn here, so that figures can be drawn in a helper process
    # that never imports the model (see sim.figure_processes).
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
    def pay(self, account: str, per_city, area: int) -> None:
        """Credit (or, if negative, debit) cities; recorded as ledger account ``<name>.<account>``."""
        self.model.credit(f"{self.name}.{account}", per_city, area)

    def sink(self, account: str, amount: float) -> None:
        """Money that leaves the region's accounts (e.g. meeting and office costs)."""
        self._record(f"{self.name}.sink.{account}", amount)

    def source(self, account: str, amount: float) -> None:
        """Money that enters the region's accounts (e.g. a park's production)."""
        self._record(f"{self.name}.source.{account}", amount)

    def _record(self, key: str, amount: float) -> None:
        ledger = self.model.ledger
        ledger[key] = ledger.get(key, 0.0) + float(amount)


def register(cls: type[Mechanism]) -> type[Mechanism]:
    REGISTRY[cls.name] = cls
    return cls


@register
class NoMechanism(Mechanism):
    """The baseline: informal gravity networks only."""

    name = "none"


def _load_all() -> None:
    """Import every mechanism module so that its class registers itself."""
    for module in MODULES:
        importlib.import_module(f"sim.mechanisms.{module}")


def schemas() -> dict[str, type]:
    """Parameter schema of every registered mechanism that has parameters."""
    _load_all()
    return {name: cls.schema for name, cls in REGISTRY.items() if cls.schema is not None}


def build(model, selected: dict[str, Any]) -> list[Mechanism]:
    """Instantiate the selected mechanisms, skipping the do-nothing baseline."""
    _load_all()
    return [REGISTRY[name](model, _typed(REGISTRY[name], params)) for name, params in selected.items()
            if name != "none"]


def _typed(cls: type[Mechanism], params: Any) -> Any:
    """Parameters as the mechanism's schema dataclass (fast attribute access, types checked)."""
    return params if cls.schema is None else as_dataclass(params, cls.schema)
