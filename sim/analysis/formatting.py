"""Numbers, intervals and verdicts as text, for the analyses' markdown tables and messages."""

from __future__ import annotations

import math

import pandas as pd


def missing(value) -> bool:
    return value is None or bool(pd.isna(value))


def num(value, digits: int = 4) -> str:
    """``digits`` significant digits; empty for a missing value."""
    return "" if missing(value) else f"{value:.{digits}g}"


def bracket(low: str, high: str) -> str:
    return f"[{low}, {high}]"


def interval(low, high, digits: int = 4) -> str:
    """``[low, high]``; empty if a bound is missing."""
    return "" if missing(low) or missing(high) else bracket(num(low, digits), num(high, digits))


def quantity(value, unit: str = "") -> str:
    """A statistic of the validation: years with one decimal, large values and 0 with 4 significant
    digits, others with 3; ``n/a`` if missing or not finite."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if unit == "year":
        return f"{value:.1f}"
    if abs(value) >= 100 or value == 0:
        return f"{value:.4g}"
    return f"{value:.3g}"


def verdict(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"
