"""Empirical targets of calibration and validation, with source, year, value and range (targets.csv).

Every band of ``python -m sim validate`` that rests on data is derived from this table by a rule
stated where the band is built (sim/analysis/validation_checks.py, docs/ODD.md 1.1), and every
datum the calibration fits is read from it. ``split`` declares, in one place, what each row is for:

* ``calibration``: fitted by ``python -m sim.analysis.calibration``; never used to validate;
* ``validation``: held out from every fit; validation bands come from these rows only;
* ``context``: a sourced fact that no statistic of the model uses yet (listed so that it is not lost).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

TARGETS_FILE = Path(__file__).with_name("targets.csv")
SPLITS = ("calibration", "validation", "context")


@dataclass(frozen=True)
class Target:
    target: str
    pattern: str
    region: str
    year: int
    value: float
    low: float      # the datum's own uncertainty range (equal to value for an exact count)
    high: float
    unit: str
    split: str
    source: str
    note: str


def targets(target: str | None = None, region: str | None = None, split: str | None = None) -> list[Target]:
    """The rows of targets.csv, in file order, filtered by target name, region and split."""
    with TARGETS_FILE.open(newline="", encoding="utf-8") as fh:
        rows = [Target(r["target"], r["pattern"], r["region"], int(r["year"]), float(r["value"]), float(r["low"]),
                       float(r["high"]), r["unit"], r["split"], r["source"], r["note"]) for r in csv.DictReader(fh)]
    return [t for t in rows if (target is None or t.target == target) and (region is None or t.region == region)
            and (split is None or t.split == split)]


def by_year(rows: list[Target]) -> dict[int, float]:
    """year -> value of some rows (one target of one region)."""
    return {t.year: t.value for t in rows}
