"""Published public-goods models run on the city model's engine (``python -m sim reproduce``).

* :mod:`sim.reproduce.config`: study schemas, their checks and config composition.
* :mod:`sim.reproduce.studies`: the studies: build each model's population and run its updates.
* :mod:`sim.reproduce.kernels`: compiled (numba) payoff and strategy-update kernels.
* :mod:`sim.reproduce.command`: the command: run one study and write its run folder.
"""
