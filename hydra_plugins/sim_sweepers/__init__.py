"""The project's Hydra sweepers and launcher, where Hydra's plugin discovery looks for them.

Hydra instantiates sweepers and launchers only from classes of its ``hydra_plugins`` namespace
package; this module ships in the ``sim`` distribution, so ``hydra/sweeper=sim_basic``,
``hydra/sweeper=salib`` and ``hydra/launcher=local`` need no registration at run time. Their code
lives in :mod:`sim.sweeps`.

Hydra's first plugin scan executes its core plugin modules again, which makes new classes of
them; the scan imports this module after that, so ``BasicSweeper`` here is the one Hydra uses.
(Code that imports this module itself should let Hydra scan first: ``Plugins.instance()``.)
"""

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper  # no public name

from sim.sweeps import launcher, salib
from sim.sweeps.basic import ShapeValidation


class SimBasicSweeper(ShapeValidation, BasicSweeper):
    """Hydra's basic sweeper (same jobs, order and batches), checking jobs by shape before launch."""


class SalibSweeper(salib.SalibSweeper):
    __doc__ = salib.SalibSweeper.__doc__


class LocalLauncher(launcher.LocalLauncher):
    __doc__ = launcher.LocalLauncher.__doc__
