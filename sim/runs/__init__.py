"""One run of ``python -m sim run``: its configs, simulating it and writing its folder.

* ``sim/runs/configs/``: the primary config, regions, model, experiments and the debug overlay.
* :mod:`sim.runs.runner`: simulate one config, summarise it, write the run folder (tables, summary,
  provenance, figures).
* :mod:`sim.runs.failures`: what a failed run leaves behind (``error.txt``, or nothing for a
  user's mistake in a single run).
"""
