"""The cities the model runs on: embedded regions, a user's CSV, or a synthetic layout.

Every source ends in the same validated table (:class:`Region`), so the model never has to
guess about units, missing values or malformed input:

* ``middle_yangtze``, ``yangtze_delta``, ``yangtze_delta_26``: tables shipped in ``sim/data``
  (sources and caveats in ``sim/data/README.md``), read with :mod:`importlib.resources`.
* ``csv``: a user's table with the same columns (``region.path``).
* ``synthetic``: a generated layout of provinces, metropolitan circles and Zipf-sized cities.

Missing values are never filled silently. A missing ``gdp_2015`` where ``gdp_2020`` exists is
imputed as ``gdp_2020`` times the median ``gdp_2015 / gdp_2020`` ratio of the same province's
cities that have both (region-wide median if none); a missing ``secondary_share_2020`` gets the
province median (region-wide if none; the national 2020 share of 37.8 % if no city has one).
Imputed fields are named in the ``imputed`` column and one :class:`UserWarning` per load lists
them. Anything else that is missing or malformed raises :class:`~sim.errors.RegionError` with
one paragraph naming the file, line and column and saying how to fix it.
"""

from __future__ import annotations

import csv
import functools
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import RegionError

EMBEDDED = ("middle_yangtze", "yangtze_delta", "yangtze_delta_26")
REQUIRED = ("name", "province", "lat", "lon", "gdp_2015", "population_2020")
OPTIONAL = ("name_zh", "circle", "core", "gdp_2020", "secondary_share_2020")
COLUMNS = (
    "name", "name_zh", "province", "circle", "core", "lat", "lon",
    "gdp", "population", "secondary_share", "imputed",
)
#: China's secondary industry share of GDP in 2020 (NBS statistical communiqué), used only
#: when a table has no secondary share for any city.
NATIONAL_SECONDARY_SHARE_2020 = 37.8

_FORMAT_HINT = (
    f"The columns are described in sim/data/README.md (required: {', '.join(REQUIRED)}; "
    f"optional: {', '.join(OPTIONAL)})."
)


@dataclass(frozen=True, eq=False)
class Region:
    """A validated city table.

    ``cities`` has one row per city (RangeIndex) and the columns of :data:`COLUMNS`:
    name, name_zh ("" if unknown), province, circle ("" = outside any circle), core (bool),
    lat, lon (degrees), gdp (initial GDP = gdp_2015, 100 million yuan, > 0), population
    (= population_2020, persons, > 0), secondary_share (percent) and imputed (";"-joined
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


# --------------------------------------------------------------------------- reading files


@functools.cache
def _load_embedded(name: str) -> Region:
    """Read a table shipped in ``sim.data``; it passes the same checks as a user's file."""
    resource = resources.files("sim.data").joinpath(f"{name}.csv")
    text = resource.read_text(encoding="utf-8")
    return _region_from_text(name, text, str(resource))


def _load_user_csv(path) -> Region:
    """Read the user's table named by ``region.path``."""
    if not path:
        raise RegionError(
            "region=csv needs the path of a city table, but region.path is not set. Run e.g. "
            "'python -m sim run region=csv region.path=/path/to/cities.csv'. " + _FORMAT_HINT
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
    return _region_from_text(file.stem, text, str(file))


def _region_from_text(name: str, text: str, source: str) -> Region:
    raw, lines = _parse_csv(text, source)
    where = _Where(f"Region file {source}", lambda i: f"line {lines[i]}")
    return _build_region(name, raw, source, where)


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
            f"Region file {source} is empty. It needs a header line and one row per city. " + _FORMAT_HINT
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
class _Where:
    """Locates rows for error messages: ``where(i)`` -> "Region file X, line 7".

    Files count lines as the user sees them in an editor (header = line 1); synthetic layouts,
    which have no file, count rows.
    """

    label: str  # the table as a whole: "Region file X" or "synthetic(...)"
    locate: Callable[[int], str]  # row index -> "line 7" / "row 6"

    def __call__(self, i: int) -> str:
        return f"{self.label}, {self.locate(int(i))}"


def _build_region(name: str, raw: pd.DataFrame, source: str, where: _Where) -> Region:
    """Validate a raw table, impute documented missing values (flagged) and return the Region.

    Files and synthetic layouts go through this same path, so a generated layout is held to
    the same standard as data.
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

    num = {c: _numeric_column(raw, c, where) for c in ("lat", "lon", "gdp_2015", "gdp_2020",
                                                        "population_2020", "secondary_share_2020")}
    _check_values(num, where)
    imputed = pd.Series([[] for _ in range(len(raw))], dtype=object)
    gdp = _impute_gdp(num["gdp_2015"], num["gdp_2020"], text["province"], imputed, where)
    share = _impute_share(num["secondary_share_2020"], text["province"], imputed)
    core = _core_column(raw, gdp, text["province"], where)

    cities = pd.DataFrame({
        "name": text["name"],
        "name_zh": _text_column(raw, "name_zh"),
        "province": text["province"],
        "circle": _text_column(raw, "circle"),
        "core": core,
        "lat": num["lat"].astype(float),
        "lon": num["lon"].astype(float),
        "gdp": gdp.astype(float),
        "population": num["population_2020"].astype(float),
        "secondary_share": share.astype(float),
        "imputed": imputed.map(";".join),
    }, columns=list(COLUMNS)).reset_index(drop=True)
    return Region(name=name, cities=cities, source=source)


def _check_columns(raw: pd.DataFrame, label: str) -> None:
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise RegionError(
            f"{label}, line 1 (header): required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} missing (found: {', '.join(map(repr, raw.columns))}). "
            f"Add {'them' if len(missing) > 1 else 'it'} to the header. " + _FORMAT_HINT
        )


def _text_column(raw: pd.DataFrame, column: str) -> pd.Series:
    """A string column; an absent optional column is all ""."""
    if column not in raw.columns:
        return pd.Series([""] * len(raw), dtype=object)
    values = raw[column].reset_index(drop=True)
    return values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())


def _require_nonempty(values: pd.Series, column: str, what: str, where: _Where) -> None:
    empty = values.to_numpy() == ""
    if empty.any():
        raise RegionError(
            f"{where(_first(empty))}, column {column!r}: empty. Every city needs {what}; fill in the cell."
        )


def _check_unique_names(names: pd.Series, where: _Where) -> None:
    dup = names.duplicated(keep="first").to_numpy()
    if dup.any():
        i = _first(dup)
        first = _first(names.to_numpy() == names.iloc[i])
        raise RegionError(
            f"{where(i)}, column 'name': {names.iloc[i]!r} is already used by an earlier row "
            f"({where.locate(first)}). City names must be unique; tell homonyms apart "
            "with a province tag, e.g. 'Suzhou (Jiangsu)' and 'Suzhou (Anhui)'."
        )


def _numeric_column(raw: pd.DataFrame, column: str, where: _Where) -> pd.Series:
    """Parse a column to float; empty cells become NaN, any other non-number is an error."""
    if column not in raw.columns:
        return pd.Series(np.nan, index=range(len(raw)), dtype=float)
    cells = raw[column].reset_index(drop=True)
    as_text = cells.map(lambda v: "" if v is None else str(v).strip())
    empty = as_text.to_numpy() == ""
    values = pd.to_numeric(cells.where(~empty, np.nan), errors="coerce").astype(float)
    bad = ~empty & ~np.isfinite(values.to_numpy())
    if bad.any():
        i = _first(bad)
        raise RegionError(
            f"{where(i)}, column {column!r}: {as_text.iloc[i]!r} is not a number. {_UNITS[column]} "
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
    "secondary_share_2020": "The secondary industry share is a percentage of GDP, between 0 and 100.",
}

# column, lowest allowed, highest allowed, lowest inclusive?, required (empty cell = error)
_RULES = (
    ("lat", -90.0, 90.0, True, True),
    ("lon", -180.0, 180.0, True, True),
    ("population_2020", 0.0, np.inf, False, True),
    ("gdp_2015", 0.0, np.inf, False, False),
    ("gdp_2020", 0.0, np.inf, False, False),
    ("secondary_share_2020", 0.0, 100.0, True, False),
)


def _check_values(num: dict[str, pd.Series], where: _Where) -> None:
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
            bound = f"between {lo:g} and {hi:g}" if np.isfinite(hi) else f"greater than {lo:g}"
            raise RegionError(
                f"{where(i)}, column {column!r}: {values[i]:g} is out of range; it must be {bound}. "
                f"{_UNITS[column]} Correct the value (check the unit and the sign)."
            )


# --------------------------------------------------------------------------- imputation


def _group_median(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Per-row median of ``values`` within the row's group, falling back to the overall median."""
    by_group = values.groupby(groups).transform("median")
    return by_group.fillna(values.median())


def _impute_gdp(
    gdp15: pd.Series, gdp20: pd.Series, province: pd.Series, imputed: pd.Series, where: _Where
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


def _core_column(raw: pd.DataFrame, gdp: pd.Series, province: pd.Series, where: _Where) -> pd.Series:
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
        "province's median (region-wide if the province has none). They are flagged in the "
        "'imputed' column; see sim/data/README.md.",
        UserWarning,
        stacklevel=3,
    )


# --------------------------------------------------------------------------- synthetic layout

_KM_PER_DEG_LAT = 111.32
_ORIGIN_LAT, _ORIGIN_LON = 30.0, 114.0  # the Middle Yangtze, so synthetic distances look familiar
_LARGEST_GDP = 10_000.0  # 100 million yuan: a Wuhan/Hangzhou-sized leading city
_CORE_PER_CAPITA = 150_000.0  # yuan per person for the largest city (Guangzhou ~154k in 2022)
_CORE_PERIPHERY_RATIO = 2.5  # target per-capita gap between a province's core and its median city
_SYNTHETIC_KEYS = ("n_cities", "n_provinces", "circles_per_province", "zipf_exponent", "extent_km", "seed")


def _synthetic_params(cfg) -> tuple:
    """The settings a synthetic layout depends on, in :data:`_SYNTHETIC_KEYS` order (hashable)."""
    return tuple(_get(cfg, key) for key in _SYNTHETIC_KEYS)


@functools.cache
def _synthetic(values: tuple) -> Region:
    """Generate a layout from the region settings and ``region.seed`` alone.

    The layout is an *input*: it depends only on the region settings and ``region.seed``,
    never on the model's ``seed``, so replicate runs with different model seeds share the
    same cities. See :func:`synthetic_cities` for the construction.
    """
    params = dict(zip(_SYNTHETIC_KEYS, values))
    unset = [key for key, value in params.items() if value is None]
    if unset:
        raise RegionError(
            f"region=synthetic needs {', '.join('region.' + k for k in unset)}, which "
            f"{'are' if len(unset) > 1 else 'is'} not set. Use 'region=synthetic' so that "
            "configs/region/synthetic.yaml provides them, then override single values."
        )
    n, p = int(params["n_cities"]), int(params["n_provinces"])
    if n < 2 or p < 1 or n < p:
        raise RegionError(
            f"region=synthetic with n_cities={n} and n_provinces={p}: every province needs at least "
            "one city and a region at least two. Set region.n_cities >= max(2, region.n_provinces)."
        )
    source = "synthetic(" + ", ".join(f"{k}={params[k]}" for k in _SYNTHETIC_KEYS) + ")"
    raw = synthetic_cities(
        n, p, int(params["circles_per_province"]), float(params["zipf_exponent"]),
        float(params["extent_km"]), np.random.default_rng(int(params["seed"])),
    )
    return _build_region("synthetic", raw, source, _Where(source, lambda i: f"row {i + 1}"))


def synthetic_cities(n: int, p: int, circles: int, exponent: float, extent_km: float,
                     rng: np.random.Generator) -> pd.DataFrame:
    """A raw city table (file columns) of ``n`` cities in ``p`` provinces.

    * GDP follows the rank-size rule ``gdp_r = 10000 * r**-exponent`` over the whole region;
      ranks are dealt to provinces at random, so provinces differ in size.
    * The largest city of each province is its core and sits at the province centre; province
      centres are uniform in the ``extent_km`` square.
    * Each province has up to ``circles`` metropolitan circles ("<province> circle <k>"),
      centred on its largest cities (circle 1 on the core); about half of the province's cities
      are circle members, clustered tightly around their circle centre; the rest (circle "")
      scatter around the province centre.
    * Per-capita GDP rises with size, ``y ∝ gdp**b`` with a per-province ``b`` (0 <= b <= 0.5)
      chosen so the core's per-capita GDP is ~2.5 times the province's median other city's,
      the core-periphery gap seen in Chinese provinces; population = GDP / per-capita GDP.
    * Secondary share is uniform in [30, 55] percent.
    """
    sizes = 1 + rng.multinomial(n - p, np.full(p, 1.0 / p))
    province = np.repeat(np.arange(p), sizes)
    gdp = _LARGEST_GDP * rng.permutation(np.arange(1, n + 1)).astype(float) ** -exponent
    order = np.lexsort((-gdp, province))  # by province, then largest first
    gdp = gdp[order]
    start = np.repeat(np.cumsum(sizes) - sizes, sizes)
    rank = np.arange(n) - start  # 0 = the province's largest city = core

    circle = _assign_circles(rank, province, sizes, circles, rng)
    x, y = _place(province, rank, circle, start, p, extent_km, rng)
    population = _population(gdp, province, rank, start, rng)

    width, pwidth = max(4, len(str(n))), max(2, len(str(p)))
    province_names = np.array([f"Province {k + 1:0{pwidth}d}" for k in range(p)], dtype=object)
    circle_label = province_names[province] + " circle " + (circle + 1).astype(str)
    circle_names = np.where(circle >= 0, circle_label, "")
    lat = _ORIGIN_LAT + (y - extent_km / 2) / _KM_PER_DEG_LAT
    lon = _ORIGIN_LON + (x - extent_km / 2) / (_KM_PER_DEG_LAT * np.cos(np.radians(_ORIGIN_LAT)))
    return pd.DataFrame({
        "name": [f"City {i + 1:0{width}d}" for i in range(n)],
        "name_zh": "",
        "province": province_names[province],
        "circle": circle_names.astype(object),
        "core": rank == 0,
        "lat": lat,
        "lon": lon,
        "gdp_2015": gdp,
        "population_2020": population,
        "secondary_share_2020": rng.uniform(30.0, 55.0, n),
    })


def _assign_circles(rank, province, sizes, circles, rng) -> np.ndarray:
    """Circle index per city (-1 = none): the top-k cities are centres, random others join.

    A province with n cities forms ``min(circles, (n // 2) // 2)`` circles so that each has at
    least two members, and puts ``n // 2`` cities in circles.
    """
    members = sizes // 2
    n_circles = np.minimum(circles, members // 2)[province]
    is_centre = rank < n_circles
    # Random order of the non-centres within each province; the first few join circles.
    key = np.where(is_centre, -1.0, rng.random(rank.size))
    order = np.lexsort((key, province))
    position = np.empty_like(rank)
    position[order] = np.arange(rank.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    joins = ~is_centre & (n_circles > 0) & (position < members[province])
    circle = np.full(rank.size, -1)
    circle[is_centre] = rank[is_centre]
    joiner_slot = position - n_circles  # 0, 1, 2, ... among joiners
    circle[joins] = joiner_slot[joins] % n_circles[joins]
    return circle


def _place(province, rank, circle, start, p, extent_km, rng) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in km: cores at province centres, members near their circle centre."""
    spread = 0.25 * extent_km / np.sqrt(p)  # provinces of about equal area tile the square
    centre = rng.uniform(0.15, 0.85, size=(p, 2)) * extent_km
    xy = centre[province] + rng.normal(0.0, spread, size=(rank.size, 2))
    xy[rank == 0] = centre[province[rank == 0]]
    member = (circle >= 0) & (rank != circle)  # circle members that are not the centre
    centre_row = start + circle  # circle k's centre is the province's rank-k city
    xy[member] = xy[centre_row[member]] + rng.normal(0.0, 0.25 * spread, size=(member.sum(), 2))
    np.clip(xy, 0.0, extent_km, out=xy)
    return xy[:, 0], xy[:, 1]


def _population(gdp, province, rank, start, rng) -> np.ndarray:
    """Population from GDP via a per-capita income that rises with city size."""
    core_gdp = gdp[start]
    rest = pd.Series(gdp).where(rank > 0)
    median_rest = rest.groupby(province).transform("median").to_numpy()
    gap = np.log(core_gdp / median_rest)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(gap > 1e-9, np.log(_CORE_PERIPHERY_RATIO) / gap, 0.0)
    b = np.clip(np.nan_to_num(b), 0.0, 0.5)  # b <= 0.5 keeps population rising with GDP
    core_per_capita = _CORE_PER_CAPITA * (core_gdp / _LARGEST_GDP) ** 0.1
    per_capita = core_per_capita * (gdp / core_gdp) ** b
    per_capita *= np.where(rank > 0, rng.lognormal(0.0, 0.1, gdp.size), 1.0)
    return gdp * 1e8 / per_capita  # 100 million yuan -> yuan, over yuan per person


__all__ = ["Region", "load_region", "synthetic_cities", "EMBEDDED", "COLUMNS"]
