"""City agents: thin Mesa views onto the model's per-city arrays."""

from __future__ import annotations

import mesa



class City(mesa.Agent):
    """One city of the agglomeration.

    State lives in the model's arrays (struct of arrays) so that yearly submodels are
    vectorised; an agent reads and names its row.
    """

    def __init__(self, model, index: int, name: str, province: str, circle: str) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.province = province
        self.circle = circle

    @property
    def gdp(self) -> float:
        return float(self.model.gdp[self.index])

    @property
    def population(self) -> float:
        return float(self.model.population[self.index])

    @property
    def core(self) -> bool:
        return bool(self.model.core[self.index])

    @property
    def payoff(self) -> float:
        return float(self.model.payoff[self.index])

    @property
    def traits(self) -> dict[str, float]:
        return dict(zip(self.model.trait_names, self.model.traits[self.index].tolist()))

    @property
    def partners(self) -> list["City"]:
        return [self.model.cities[j] for j in self.model.partners[self.index]]

    def __repr__(self) -> str:
        return f"City({self.name!r}, gdp={self.gdp:.1f})"

    @property
    def trust_in_partners(self) -> float:
        return float(self.model.trust_by_city()[self.index])
