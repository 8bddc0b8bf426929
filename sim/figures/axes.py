"""Pieces every figure builder shares: input column checks and the year axis."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`ValueError` naming the ``columns`` that ``frame`` (called ``what``) lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {', '.join(missing)}")


def year_axis(ax: Axes, label: bool = True) -> None:
    """Integer year ticks; the label only on the bottom panel of a stack."""
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    if label:
        ax.set_xlabel("Year")
