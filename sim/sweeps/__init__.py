"""Sweeps: Hydra sweepers and the progress of a multirun.

* :mod:`sim.sweeps.basic`: checking a sweep's jobs before launch, one composition per shape.
* :mod:`sim.sweeps.salib`: the SALib sweeper, a Morris or Sobol design run as a sweep.
* :mod:`sim.sweeps.progress`: "runs done / total, time left" after every job.

Hydra finds the sweepers as plugins through ``hydra_plugins/sim_sweepers``.
"""
