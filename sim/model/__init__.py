"""The city model: :class:`~sim.model.city_model.CityModel` and its submodels.

* :mod:`sim.model.city_model`: the model; ``CityModel.step`` reads as the yearly schedule.
* :mod:`sim.model.city`: the Mesa agents, views onto the model's per-city arrays.
* :mod:`sim.model.network`: distances, gravity partners, groups and trust edges.
* :mod:`sim.model.game`, :mod:`sim.model.cooperation`: the five-domain cooperation round.
* :mod:`sim.model.firms`: mobile firms choosing hosts among subsidy offers.
* :mod:`sim.model.learning`: strategy revision (Fermi imitation, Bush-Mosteller).
* :mod:`sim.model.traits`: the vocabulary of traits and policy areas (mechanisms add theirs).
* :mod:`sim.model.metrics`, :mod:`sim.model.recorder`: inequality measures and the yearly record.
"""
