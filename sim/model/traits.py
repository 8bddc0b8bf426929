"""The vocabulary of strategy traits and policy areas: what cities learn, and what judges it.

The model's own traits come first: a sign and an implement propensity per domain, and the
subsidy a city offers mobile firms. Each registered mechanism then appends the traits and
policy areas it declares (:class:`sim.mechanisms.Trait`), in registry order. Every registered
mechanism's traits are present in every run, selected or not, so that selecting a mechanism
never changes how the others are initialised (our assumption: a city holds a propensity towards
an institution before it exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import numpy as np

from sim.config.schema import DOMAINS
from sim.mechanisms.base import Trait

D = len(DOMAINS)
MODEL_AREAS = (*DOMAINS, "investment", "unconditional")
INVESTMENT = D                                   # index of the investment area
UNCONDITIONAL = D + 1                            # transfers no action earns: judges no trait
SUBSIDY = 2 * D                                  # index of the subsidy trait
MODEL_TRAITS = (*(Trait(f"sign_{d}", d, "traits.sign") for d in DOMAINS),
                *(Trait(f"implement_{d}", d, "traits.implement") for d in DOMAINS),
                Trait("subsidy", "investment", "traits.subsidy", upper="firms.subsidy_max"))


def _value(spec: float | str, params) -> float:
    """A number, or the dotted key of a model parameter that holds it."""
    if isinstance(spec, str):
        return float(reduce(getattr, spec.split("."), params))
    return float(spec)


@dataclass(frozen=True)
class Vocabulary:
    traits: tuple[Trait, ...]
    areas: tuple[str, ...]

    @classmethod
    def of(cls, mechanism_traits: tuple[Trait, ...], mechanism_areas: tuple[str, ...]) -> "Vocabulary":
        vocabulary = cls((*MODEL_TRAITS, *mechanism_traits), (*MODEL_AREAS, *mechanism_areas))
        names = vocabulary.names
        clash = sorted({n for n in names if names.count(n) > 1} | {a for a in vocabulary.areas if vocabulary.areas.count(a) > 1})
        unknown = sorted({t.area for t in vocabulary.traits} - set(vocabulary.areas))
        if clash or unknown:
            from sim.errors import UserError

            raise UserError(f"The installed mechanisms declare clashing trait or area names ({', '.join(clash) or '-'}) "
                            f"or traits judged by unknown areas ({', '.join(unknown) or '-'}). Rename them in the "
                            "mechanism that added them (its 'traits' and 'areas').")
        return vocabulary

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.traits)

    def trait(self, name: str) -> int:
        """Column of trait ``name`` in the model's trait matrix."""
        return self.names.index(name)

    def area(self, name: str) -> int:
        """Column of policy area ``name`` in the model's area payoffs."""
        return self.areas.index(name)

    def judging_areas(self) -> tuple[np.ndarray, np.ndarray]:
        """The areas that judge at least one trait (learning draws per area, so an area that
        judges none must add no draws), and each trait's position among them."""
        judged = np.array([self.area(t.area) for t in self.traits])
        areas = np.unique(judged)
        return areas, np.searchsorted(areas, judged)

    def means(self, params) -> np.ndarray:
        return np.array([_value(t.mean, params) for t in self.traits])

    def upper(self, params) -> np.ndarray:
        return np.array([_value(t.upper, params) for t in self.traits])
