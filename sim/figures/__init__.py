"""Figures, grouped by who reads them.

* :mod:`sim.figures.style`: the one plotting style, figure sizes and deterministic saving.
* :mod:`sim.figures.axes`: pieces every figure builder shares (column checks, year axis).
* :mod:`sim.figures.run_figures`: the figures a run writes into its folder.
* :mod:`sim.figures.comparison_figures`: the figures a sweep report draws to compare designs.
* :mod:`sim.figures.processes`: drawing a run's figures in helper processes.
"""
