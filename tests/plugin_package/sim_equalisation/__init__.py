"""Horizontal fiscal equalisation: cities richer than the median (GDP per capita) pay a share
of their GDP into a fund that is paid out the same year to the poorer cities, in proportion to
their population. A test plugin: it exercises the mechanism interface from outside ``sim``.

It declares a policy area of its own and no trait: a trait would be added to every run while
the package is installed, and so change every run's random draws.
"""

from dataclasses import dataclass

import numpy as np

from sim.config.schema import param
from sim.mechanisms import Mechanism


@dataclass
class EqualisationConfig:
    rate: float = param(0, 0.05, "share of GDP a city above the median GDP per capita pays into the fund")


class Equalisation(Mechanism):
    """A fund from the richer half of the cities to the poorer half."""

    name = "equalisation"
    schema = EqualisationConfig
    areas = ("equalisation",)
    report_metrics = {"equalisation_paid_total": ("Equalisation transfers, total", "100 million yuan")}
    figure_panels = (("equalisation_fund", "Fund (100 million yuan)"),)
    inert = ("mechanism.equalisation.rate=0",)

    def __init__(self, model, params) -> None:
        super().__init__(model, params)
        self.fund = 0.0

    def after_production(self, model) -> None:
        per_capita = model.gdp / model.population
        rich = per_capita > np.median(per_capita)
        paid = np.where(rich, self.params.rate * model.gdp, 0.0)
        self.fund = float(paid.sum())
        poor_population = np.where(rich, 0.0, model.population)
        received = self.fund * poor_population / poor_population.sum()
        self.pay("contribution", -paid, "equalisation")
        self.pay("grant", received, "equalisation")

    def observables(self) -> dict[str, float]:
        return {"equalisation_fund": self.fund}

    def summary(self, timeseries) -> dict:
        return {"equalisation_paid_total": float(timeseries["equalisation_fund"].sum())}
