"""A city table: its columns, and how raw cells become the validated table a region holds.

:func:`table_from_text` parses CSV text (a shipped table or a user's file, read by
:func:`read_user_csv`); :func:`build_table` checks a raw table of string or number cells, from a
file or a synthetic layout (:mod:`sim.data.synthetic`), and returns the cities with the columns
of :data:`COLUMNS`.

Missing values are never filled silently. A missing ``gdp_2015`` where ``gdp_2020`` exists is
imputed as ``gdp_2020`` times the median ``gdp_2015 / gdp_2020`` ratio of the same province's
cities that have both (region-wide median if none); a missing ``secondary_share_2020`` gets the
province median (region-wide if none; the national 2020 share of 37.8 % if no city has one).
Imputed fields are named in the ``imputed`` column. Anything else that is missing or malformed
raises :class:`~sim.errors.RegionError` with one paragraph naming the file, line and column and
saying how to fix it. The columns, units and sources are described in ``sim/data/README.md``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import RegionError

REQUIRED = ("name", "province", "lat", "lon", "gdp_2015", "population_2020")
OPTIONAL = ("name_zh", "circle", "core", "gdp_2020", "population_2010", "secondary_share_2020")
COLUMNS = (
    "name", "name_zh", "province", "circle", "core", "lat", "lon",
    "gdp", "population", "population_2010", "secondary_share", "imputed",
)
#: China's secondary industry share of GDP in 2020 (NBS statistical communiqué), used only
#: when a table has no secondary share for any city.
NATIONAL_SECONDARY_SHARE_2020 = 37.8

FORMAT_HINT = (
    f"The columns are described in sim/data/README.md (required: {', '.join(REQUIRED)}; "
    f"optional: {', '.join(OPTIONAL)})."
)


# --------------------------------------------------------------------------- reading files


def read_user_csv(path) -> tuple[str, Path]:
    """The text of the user's table named by ``region.path``, and the file it came from."""
    if not path:
        raise RegionError(
            "region=csv needs the path of a city table, but region.path is not set. Run e.g. "
            "'python -m sim run region=csv region.path=/path/to/cities.csv'. " + FORMAT_HINT
        )
    file = Path(str(path)).expanduser()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RegionError(
            f"Region file {file} does not exist (resolved to {file.resolve()}). Check region.path; "
            "a relative path is taken from the directory you run the command in."
        ) from None
    except IsADirectoryError:
        raise RegionError(f"Region file {file} is a directory. Set region.path to a CSV file.") from None
    except PermissionError:
        raise RegionError(
            f"Region file {file} cannot be read (permission denied). Fix its permissions or copy it."
        ) from None
    except UnicodeDecodeError as exc:
        raise RegionError(
            f"Region file {file} is not UTF-8 text ({exc.reason} at byte {exc.start}). "
            "Save it as UTF-8 CSV (in Excel: 'CSV UTF-8')."
        ) from None
    return text, file


def table_from_text(text: str, source: str) -> pd.DataFrame:
    """The validated cities of CSV ``text``; errors name ``source`` and the line in it."""
    raw, lines = _parse_csv(text, source)
    return build_table(raw, Where(f"Region file {source}", lambda i: f"line {lines[i]}"))


def _parse_csv(text: str, source: str) -> tuple[pd.DataFrame, list[int]]:
    """Parse CSV text into string cells, remembering each row's line number in the file.

    The csv module (rather than pandas) is used so that error messages can name the real line
    even when blank lines or quoted newlines shift rows.
    """
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows, lines = [], []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [cell.strip() for cell in record]
            continue
        if len(record) != len(header):
            raise RegionError(
                f"Region file {source}, line {reader.line_num}: {len(record)} fields where the "
                f"header has {len(header)}. Every row needs one value per column (leave a cell "
                "empty rather than dropping it, and quote values that contain commas)."
            )
        rows.append([cell.strip() for cell in record])
        lines.append(reader.line_num)
    if header is None:
        raise RegionError(
            f"Region file {source} is empty. It needs a header line and one row per city. " + FORMAT_HINT
        )
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise RegionError(
            f"Region file {source}, line 1: column {duplicated[0]!r} appears more than once in the "
            "header. Rename or remove the extra column."
        )
    return pd.DataFrame(rows, columns=header, dtype=object), lines


# --------------------------------------------------------------------------- validation


def _first(mask: np.ndarray) -> int:
    """Index of the first offending row: one clear message beats a list of fifty."""
    return int(np.flatnonzero(mask)[0])


@dataclass(frozen=True)
class Where:
    """Locates rows for error messages: ``where(i)`` -> "Region file X, line 7".

    Files count lines as the user sees them in an editor (header = line 1); synthetic layouts,
    which have no file, count rows.
    """

    label: str  # the table as a whole: "Region file X" or "synthetic(...)"
    locate: Callable[[int], str]  # row index -> "line 7" / "row 6"

    def __call__(self, i: int) -> str:
        return f"{self.label}, {self.locate(int(i))}"


def build_table(raw: pd.DataFrame, where: Where, plausible: bool = True) -> pd.DataFrame:
    """Validate a raw table, impute documented missing values (flagged) and return the cities.

    Files and synthetic layouts go through this same path, so a generated layout is held to
    the same standard as data, except the plausibility bounds of real cities (``plausible``).
    """
    label = where.label
    _check_columns(raw, label)
    if len(raw) < 2:
        raise RegionError(
            f"{label} has {len(raw)} {'city' if len(raw) == 1 else 'cities'} (column 'name'); a region "
            "needs at least two cities to cooperate. Add rows, one per city."
        )
    text = {c: _text_column(raw, c) for c in ("name", "province")}
    for column, what in (("name", "a name"), ("province", "a province")):
        _require_nonempty(text[column], column, what, where)
    _check_unique_names(text["name"], where)

    num = {c: _numeric_column(raw, c, where) for c in ("lat", "lon", "gdp_2015", "gdp_2020", "population_2020",
                                                        "population_2010", "secondary_share_2020")}
    _check_values(num, where)
    if plausible:
        _check_plausible(num, where)
    imputed = pd.Series([[] for _ in range(len(raw))], dtype=object)
    gdp = _impute_gdp(num["gdp_2015"], num["gdp_2020"], text["province"], imputed, where)
    share = _impute_share(num["secondary_share_2020"], text["province"], imputed)
    earlier = _impute_population_2010(num["population_2010"], num["population_2020"], imputed)
    core = _core_column(raw, gdp, text["province"], where)

    return pd.DataFrame({
        "name": text["name"],
        "name_zh": _text_column(raw, "name_zh"),
        "province": text["province"],
        "circle": _text_column(raw, "circle"),
        "core": core,
        "lat": num["lat"].astype(float),
        "lon": num["lon"].astype(float),
        "gdp": gdp.astype(float),
        "population": num["population_2020"].astype(float),
        "population_2010": earlier.astype(float),
        "secondary_share": share.astype(float),
        "imputed": imputed.map(";".join),
    }, columns=list(COLUMNS)).reset_index(drop=True)


def _check_columns(raw: pd.DataFrame, label: str) -> None:
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise RegionError(
            f"{label}, line 1 (header): required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} missing (found: {', '.join(map(repr, raw.columns))}). "
            f"Add {'them' if len(missing) > 1 else 'it'} to the header. " + FORMAT_HINT
        )


def _text_column(raw: pd.DataFrame, column: str) -> pd.Series:
    """A string column; an absent optional column is all ""."""
    if column not in raw.columns:
        return pd.Series([""] * len(raw), dtype=object)
    values = raw[column].reset_index(drop=True)
    return values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())


def _require_nonempty(values: pd.Series, column: str, what: str, where: Where) -> None:
    empty = values.to_numpy() == ""
    if empty.any():
        raise RegionError(
            f"{where(_first(empty))}, column {column!r}: empty. Every city needs {what}; fill in the cell."
        )


def _check_unique_names(names: pd.Series, where: Where) -> None:
    dup = names.duplicated(keep="first").to_numpy()
    if dup.any():
        i = _first(dup)
        first = _first(names.to_numpy() == names.iloc[i])
        raise RegionError(
            f"{where(i)}, column 'name': {names.iloc[i]!r} is already used by an earlier row "
            f"({where.locate(first)}). City names must be unique; tell homonyms apart "
            "with a province tag, e.g. 'Suzhou (Jiangsu)' and 'Suzhou (Anhui)'."
        )


def _numeric_column(raw: pd.DataFrame, column: str, where: Where) -> pd.Series:
    """Parse a column to float; empty cells become NaN, any other non-number is an error."""
    if column not in raw.columns:
        return pd.Series(np.nan, index=range(len(raw)), dtype=float)
    cells = raw[column].reset_index(drop=True)
    if pd.api.types.is_float_dtype(cells):   # a generated layout: NaN is an empty cell
        values = cells.astype(float)
        empty = values.isna().to_numpy()
    else:
        as_text = cells.map(lambda v: "" if v is None else str(v).strip())
        empty = as_text.to_numpy() == ""
        values = pd.to_numeric(cells.where(~empty, np.nan), errors="coerce").astype(float)
    bad = ~empty & ~np.isfinite(values.to_numpy())
    if bad.any():
        i = _first(bad)
        raise RegionError(
            f"{where(i)}, column {column!r}: {str(cells.iloc[i]).strip()!r} is not a number. {_UNITS[column]} "
            "Write it as a plain decimal number (no units, no thousands separators), or leave "
            "the cell empty if the value is unknown and the column may be missing."
        )
    return values


_UNITS = {
    "lat": "Latitude is in decimal degrees north, between -90 and 90.",
    "lon": "Longitude is in decimal degrees east, between -180 and 180.",
    "gdp_2015": "Every city needs a positive GDP (100 million yuan, current prices).",
    "gdp_2020": "GDP is in 100 million yuan at current prices.",
    "population_2020": "Every city needs a positive resident population (persons).",
    "population_2010": "The 2010 census population is in persons.",
    "secondary_share_2020": "The secondary industry share is a percentage of GDP, between 0 and 100.",
}

# column, lowest allowed, highest allowed, lowest inclusive?, required (empty cell = error)
_RULES = (
    ("lat", -90.0, 90.0, True, True),
    ("lon", -180.0, 180.0, True, True),
    ("population_2020", 0.0, np.inf, False, True),
    ("population_2010", 0.0, np.inf, False, False),
    ("gdp_2015", 0.0, np.inf, False, False),
    ("gdp_2020", 0.0, np.inf, False, False),
    ("secondary_share_2020", 0.0, 100.0, True, False),
)
# Plausibility bounds for the cities of a data table (prefecture-level cities; sim/data/README.md).
# Values outside them are unit mistakes (yuan for 亿元, 10,000s of persons) or corrupt cells.
# Synthetic layouts are abstract and exempt.
PLAUSIBLE = {
    "gdp_2015": (1.0, 1e5, "a prefecture-level city's GDP lies between 1 and 100,000 (100 million yuan, 亿元; "
                           "Shanghai 2023: ~47,000)"),
    "gdp_2020": (1.0, 1e5, "a prefecture-level city's GDP lies between 1 and 100,000 (100 million yuan, 亿元; "
                           "Shanghai 2023: ~47,000)"),
    "population_2020": (1e4, 5e7, "a prefecture-level city's resident population lies between 10,000 and "
                                  "50,000,000 persons (Chongqing 2020: ~32 million; not in 10,000s)"),
    "population_2010": (1e4, 5e7, "a prefecture-level city's resident population lies between 10,000 and "
                                  "50,000,000 persons (Chongqing 2010: ~29 million; not in 10,000s)"),
}
PER_CAPITA_YUAN = (2_000.0, 1_000_000.0)   # GDP per resident, yuan: outside it the units disagree


def _check_values(num: dict[str, pd.Series], where: Where) -> None:
    """Ranges and required cells, column by column, first offending row reported."""
    for column, lo, hi, lo_inclusive, required in _RULES:
        values = num[column].to_numpy()
        missing = np.isnan(values)
        if required and missing.any():
            i = _first(missing)
            raise RegionError(f"{where(i)}, column {column!r}: empty. {_UNITS[column]} Fill in the cell.")
        with np.errstate(invalid="ignore"):
            low = values < lo if lo_inclusive else values <= lo
            out = ~missing & (low | (values > hi))
        if out.any():
            i = _first(out)
            bound = f"between {lo:,g} and {hi:,g}" if np.isfinite(hi) else f"greater than {lo:g}"
            raise RegionError(
                f"{where(i)}, column {column!r}: {values[i]:g} is out of range; it must be {bound}. "
                f"{_UNITS[column]} Correct the value (check the unit and the sign)."
            )


def _check_plausible(num: dict[str, pd.Series], where: Where) -> None:
    """Values a real city cannot have: the bounds of :data:`PLAUSIBLE` and GDP per person."""
    for column, (lo, hi, why) in PLAUSIBLE.items():
        values = num[column].to_numpy()
        out = ~np.isnan(values) & ((values < lo) | (values > hi))
        if out.any():
            i = _first(out)
            raise RegionError(f"{where(i)}, column {column!r}: {values[i]:g} is not plausible: {why}. Correct the "
                              "value (check its unit), or use region=synthetic for an abstract layout.")
    lo, hi = PER_CAPITA_YUAN
    for column in ("gdp_2015", "gdp_2020"):
        with np.errstate(invalid="ignore"):
            per_capita = num[column].to_numpy() * 1e8 / num["population_2020"].to_numpy()
            out = (per_capita < lo) | (per_capita > hi)
        if out.any():
            i = _first(out)
            raise RegionError(
                f"{where(i)}, columns {column!r} and 'population_2020': they give {per_capita[i]:,.0f} yuan of GDP "
                f"per person, outside the "
                f"plausible {lo:,.0f}-{hi:,.0f}. The units of the two columns disagree: GDP is in 100 million "
                "yuan (亿元), population in persons. Correct the values.")


# --------------------------------------------------------------------------- imputation


def _group_median(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Per-row median of ``values`` within the row's group, falling back to the overall median."""
    by_group = values.groupby(groups).transform("median")
    return by_group.fillna(values.median())


def _impute_gdp(
    gdp15: pd.Series, gdp20: pd.Series, province: pd.Series, imputed: pd.Series, where: Where
) -> pd.Series:
    """Fill a missing 2015 GDP from 2020 GDP and the province's 2015/2020 ratio (documented)."""
    gap = gdp15.isna().to_numpy()
    if not gap.any():
        return gdp15
    unrecoverable = gap & gdp20.isna().to_numpy()
    if unrecoverable.any():
        i = _first(unrecoverable)
        raise RegionError(
            f"{where(i)}, column 'gdp_2015': empty, and 'gdp_2020' is empty too, so the initial GDP "
            "cannot be imputed. Fill in gdp_2015 (100 million yuan, current prices), or gdp_2020 to "
            "have gdp_2015 imputed from the province's 2015/2020 ratio."
        )
    ratio = gdp15 / gdp20
    if ratio.isna().all():
        i = _first(gap)
        raise RegionError(
            f"{where(i)}, column 'gdp_2015': empty, and no city in the table has both gdp_2015 and "
            "gdp_2020, so no 2015/2020 ratio exists to impute it from. Fill in gdp_2015 for this "
            "city or give at least one city both years."
        )
    filled = gdp15.where(~gap, gdp20 * _group_median(ratio, province))
    for i in np.flatnonzero(gap):
        imputed.iloc[i].append("gdp")
    return filled


def _impute_share(share: pd.Series, province: pd.Series, imputed: pd.Series) -> pd.Series:
    """Fill a missing secondary share with the province (else region, else national) median."""
    gap = share.isna().to_numpy()
    if not gap.any():
        return share
    fallback = _group_median(share, province).fillna(NATIONAL_SECONDARY_SHARE_2020)
    for i in np.flatnonzero(gap):
        imputed.iloc[i].append("secondary_share")
    return share.where(~gap, fallback)


def _impute_population_2010(earlier: pd.Series, later: pd.Series, imputed: pd.Series) -> pd.Series:
    """A missing 2010 population becomes the 2020 one: no trend for that city."""
    gap = earlier.isna().to_numpy()
    for i in np.flatnonzero(gap):
        imputed.iloc[i].append("population_2010")
    return earlier.where(~gap, later)


def _core_column(raw: pd.DataFrame, gdp: pd.Series, province: pd.Series, where: Where) -> pd.Series:
    """Core flags from the file, or by default the largest-GDP city of each province."""
    cells = _text_column(raw, "core")
    if not (cells != "").any():
        return pd.Series(gdp.index.isin(gdp.groupby(province).idxmax()), dtype=bool)
    truth = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False, "": False}
    lowered = cells.str.lower()
    bad = ~lowered.isin(list(truth))
    if bad.any():
        i = _first(bad.to_numpy())
        raise RegionError(
            f"{where(i)}, column 'core': {cells.iloc[i]!r} is not a yes/no value. Write 1 for a core "
            "city (provincial capital) and 0 otherwise, or drop the column to make the largest-GDP "
            "city of each province the core."
        )
    return lowered.map(truth).astype(bool)
