"""Sweeps: Hydra sweepers, the local launcher and the progress of a multirun.

* :mod:`sim.sweeps.basic`: checking a sweep's jobs before launch, one composition per shape.
* :mod:`sim.sweeps.salib`: the SALib sweeper, a Morris or Sobol design run as a sweep.
* :mod:`sim.sweeps.progress`: "runs done / total, time left" after every job.
* :mod:`sim.sweeps.launcher`: the local launcher (joblib) that goes on when a worker process dies.

Hydra finds the sweepers and the launcher as plugins through ``hydra_plugins/sim_sweepers``.
"""
