"""The cities the model runs on: embedded regions, a user's CSV, or a synthetic layout.

Every source ends in the same validated table (:class:`Region`), so the model never has to
guess about units, missing values or malformed input:

* ``middle_yangtze``, ``yangtze_delta``, ``yangtze_delta_26``: tables shipped in ``sim/data``
  (sources and caveats in ``sim/data/README.md``), read with :mod:`importlib.resources`.
* ``csv``: a user's table with the same columns (``region.path``).
* ``synthetic``: a generated layout of provinces, metropolitan circles and Zipf-sized cities
  (:mod:`sim.data.synthetic`).

Tables are checked, and documented missing values imputed, by :mod:`sim.data.city_table`;
one :class:`UserWarning` per load lists the imputed fields.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from importlib import resources

import pandas as pd

from sim.data.city_table import COLUMNS, read_user_csv, table_from_text
from sim.config.schema import SYNTHETIC_KEYS
from sim.data.synthetic import synthetic_table
from sim.errors import RegionError

EMBEDDED = ("middle_yangtze", "yangtze_delta", "yangtze_delta_26")


@dataclass(frozen=True, eq=False)
class Region:
    """A validated city table.

    ``cities`` has one row per city (RangeIndex) and the columns of :data:`COLUMNS`:
    name, name_zh ("" if unknown), province, circle ("" = outside any circle), core (bool),
    lat, lon (degrees), gdp (initial GDP = gdp_2015, 100 million yuan, > 0), population
    (= population_2020, persons, > 0), population_2010 (the 2010 census, persons; = population if
    unknown), secondary_share (percent) and imputed (";"-joined
    names of imputed fields, "" if none). ``source`` is the file path or a
    ``synthetic(...)`` description. ``eq=False`` keeps identity equality and hashing,
    which a DataFrame field cannot provide.
    """

    name: str
    cities: pd.DataFrame
    source: str

    def __len__(self) -> int:
        return len(self.cities)


# --------------------------------------------------------------------------- entry point


def load_region(cfg) -> Region:
    """Build the :class:`Region` that ``cfg`` (the ``region`` config node) names."""
    name = _get(cfg, "name")
    if name in EMBEDDED:
        region = _fresh_copy(_load_embedded(name))
    elif name == "csv":
        region = _load_user_csv(_get(cfg, "path"))
    elif name == "synthetic":
        region = _fresh_copy(_synthetic(_synthetic_params(cfg)))
    else:
        raise _unknown_region(name)
    _warn_imputed(region)
    return region


def _fresh_copy(region: Region) -> Region:
    """A caller's own copy of a cached region, so that no run can change another's input.

    Shipped tables and synthetic layouts are fixed functions of their settings, so they are
    parsed or generated once per process (a sweep's replicates share them: ~19 ms per run for
    the default region); a user's CSV file is re-read every time, as it may be edited.
    """
    return Region(region.name, region.cities.copy(), region.source)


def _unknown_region(name) -> RegionError:
    return RegionError(
        f"Unknown region {name!r}. Choose one of {', '.join(EMBEDDED)}, 'synthetic' or 'csv' "
        "(e.g. 'region=middle_yangtze', or 'region=csv region.path=cities.csv' for your own table)."
    )


def _get(cfg, key: str, default=None):
    """Read ``key`` from an OmegaConf node, a mapping or any object; missing/'???' -> default."""
    try:
        value = cfg[key] if isinstance(cfg, dict) else getattr(cfg, key, default)
    except Exception:  # omegaconf.MissingMandatoryValue for '???', KeyError for mappings
        return default
    return default if value == "???" else value


# --------------------------------------------------------------------------- sources


@functools.cache
def _load_embedded(name: str) -> Region:
    """Read a table shipped in ``sim.data``; it passes the same checks as a user's file."""
    resource = resources.files("sim.data").joinpath(f"{name}.csv")
    text = resource.read_text(encoding="utf-8")
    return Region(name, table_from_text(text, str(resource)), str(resource))


def _load_user_csv(path) -> Region:
    """Read the user's table named by ``region.path`` (re-read on every load)."""
    text, file = read_user_csv(path)
    return Region(file.stem, table_from_text(text, str(file)), str(file))


def _synthetic_params(cfg) -> tuple:
    """The settings a synthetic layout depends on, in :data:`SYNTHETIC_KEYS` order (hashable)."""
    return tuple(_get(cfg, key) for key in SYNTHETIC_KEYS)


@functools.cache
def _synthetic(values: tuple) -> Region:
    """The layout of the region settings ``values``, generated once per process."""
    cities, source = synthetic_table(values)
    return Region("synthetic", cities, source)


def _warn_imputed(region: Region) -> None:
    """One warning per load, pointing at the caller of :func:`load_region`."""
    rows = region.cities[region.cities["imputed"] != ""]
    if rows.empty:
        return
    listing = ", ".join(f"{n} ({f.replace(';', ', ')})" for n, f in zip(rows["name"], rows["imputed"]))
    cities = "city" if len(rows) == 1 else "cities"
    warnings.warn(
        f"Region {region.name} ({region.source}): imputed values for {len(rows)} {cities}: {listing}. "
        "gdp = gdp_2020 x the province's median gdp_2015/gdp_2020 ratio; secondary_share = the "
        "province's median (region-wide if the province has none); population_2010 = population_2020 "
        "(no population trend). They are flagged in the "
        "'imputed' column; see sim/data/README.md.",
        UserWarning,
        stacklevel=3,
    )


__all__ = ["Region", "load_region", "EMBEDDED", "COLUMNS"]
