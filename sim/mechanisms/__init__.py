"""Coordination institutions as plugins behind one small interface.

:mod:`sim.mechanisms.base` is the interface (the hooks the model calls, money accounts, traits);
:mod:`sim.mechanisms.registry` finds mechanisms through the entry-point group ``sim.mechanisms``;
each other module here is one institution, with its parameter values in ``<name>.yaml`` beside it.
"""

from sim.mechanisms.base import Mechanism, NoMechanism, Trait

__all__ = ["Mechanism", "NoMechanism", "Trait"]
