"""One run of ``python -m sim run``: its configs, simulating it and writing its folder.

* ``sim/runs/configs/``: the primary config, regions, model, experiments and the debug overlay.
* :mod:`sim.runs.runner`: simulate one config, summarise it, write the run folder (tables, summary,
  provenance, figures).
* :mod:`sim.runs.layout`: where a job's runs are, in the folder layout (a folder per run) or the
  table layout (:mod:`sim.runs.job_table`: one table per kind for all of a job's replicates).
* :mod:`sim.runs.failures`: what a failed run leaves behind (``error.txt``, or nothing for a
  user's mistake in a single run).
"""
