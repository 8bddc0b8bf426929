"""Analyses of runs and sweeps; none of them changes the model.

- :mod:`~sim.analysis.report`: ``python -m sim report``, designs of a sweep compared with a baseline
  (figures in :mod:`~sim.analysis.report_figures`).
- :mod:`~sim.analysis.sensitivity`: ``python -m sim sensitivity``, Morris or Sobol indices of a SALib
  sweep (:mod:`~sim.analysis.sensitivity_indices`, :mod:`~sim.analysis.sensitivity_report`,
  :mod:`~sim.analysis.sensitivity_figures`).
- :mod:`~sim.analysis.validate`: ``python -m sim validate``, the patterns of docs/ODD.md section 1 over
  many seeds, each check also under its null model (:mod:`~sim.analysis.validation_checks`,
  :mod:`~sim.analysis.validation_nulls`, :mod:`~sim.analysis.validation_measures`,
  :mod:`~sim.analysis.validation_report`, :mod:`~sim.analysis.validation_figures`); ``--robustness``
  runs it under learning-rule and network variants and ranks the designs (:mod:`~sim.analysis.robustness`).
- :mod:`~sim.analysis.calibration`: ``python -m sim.analysis.calibration``, the three-tier entry
  thresholds fitted to the YRD council's growth (pattern P1); :mod:`~sim.analysis.posterior`:
  ``python -m sim calibrate``, their ABC-SMC posterior, whose draws ``posterior=<name>`` runs take.
- Shared: :mod:`~sim.analysis.sweep_folder` (reading a sweep folder), :mod:`~sim.analysis.design_runs`
  (running designs over seeds), :mod:`~sim.analysis.stats` (intervals) and
  :mod:`~sim.analysis.formatting` (numbers as text).
"""
