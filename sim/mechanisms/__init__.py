"""Coordination institutions as plugins behind one small interface.

A mechanism is a class registered by name. The model calls its hooks at fixed points of the
yearly schedule and reads its observables; selecting no mechanism (or ``none``) is the
baseline. ``+mechanism=[a,b]`` composes several: their hooks run in the order selected.
"""

from __future__ import annotations

from typing import Any, ClassVar

REGISTRY: dict[str, type["Mechanism"]] = {}


class Mechanism:
    """Base class: every hook is a no-op, so a mechanism overrides only what it changes."""

    name: ClassVar[str] = ""

    def __init__(self, model, params: Any) -> None:
        self.model = model
        self.params = params

    def before_round(self, model) -> None:
        """Before the cooperation round (agenda setting, admissions)."""

    def after_production(self, model) -> None:
        """After cooperation and investment, before accounting (parks, transfers, checks)."""

    def observables(self) -> dict[str, float]:
        """This year's mechanism-specific observables, added to the time series."""
        return {}


def register(cls: type[Mechanism]) -> type[Mechanism]:
    REGISTRY[cls.name] = cls
    return cls


@register
class NoMechanism(Mechanism):
    """The baseline: informal gravity networks only."""

    name = "none"


def build(model, selected: dict[str, Any]) -> list[Mechanism]:
    """Instantiate the selected mechanisms, skipping the do-nothing baseline."""
    return [REGISTRY[name](model, params) for name, params in selected.items() if name != "none"]
