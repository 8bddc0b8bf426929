"""Upstream-downstream ecological compensation pacts between cities (the Xin'an River model).

``river_pacts.csv`` lists the pacts we could source (river, upstream and downstream city,
first year, the stake each side puts up and the central grant to the upstream city, in 100
million yuan a year). A region gets the pacts whose two cities it contains, matched by name.
"""

from __future__ import annotations

import functools
from importlib import resources
from io import StringIO

import numpy as np
import pandas as pd


@functools.lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    text = resources.files("sim.data").joinpath("river_pacts.csv").read_text(encoding="utf-8")
    return pd.read_csv(StringIO(text))


def river_pacts(names) -> pd.DataFrame:
    """The pacts between cities in ``names``, with their row indices as ``up`` and ``down``."""
    index = {name: i for i, name in enumerate(names)}
    table = _table()
    present = [up in index and down in index for up, down in zip(table["upstream"], table["downstream"])]
    pacts = table[np.array(present, dtype=bool)].reset_index(drop=True)
    return pacts.assign(up=np.array([index[c] for c in pacts["upstream"]], dtype=int),
                        down=np.array([index[c] for c in pacts["downstream"]], dtype=int))
