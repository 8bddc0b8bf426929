"""Synthetic regions: generated layouts of provinces, metropolitan circles and Zipf-sized cities.

A layout is an *input* like a shipped table: it depends only on the region settings
(``sim/runs/configs/region/synthetic.yaml``) and ``region.seed``, and goes through the same checks
(:func:`sim.data.city_table.build_table`). The rules are described under "Synthetic layout" in
section 6 (Input data) of ``docs/ODD.md`` and in :func:`synthetic_cities`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config.schema import SYNTHETIC_KEYS
from sim.data.city_table import Where, build_table
from sim.errors import RegionError

_KM_PER_DEG_LAT = 111.32
_ORIGIN_LAT, _ORIGIN_LON = 30.0, 114.0  # the Middle Yangtze, so synthetic distances look familiar
_LARGEST_GDP = 10_000.0  # 100 million yuan: a Wuhan/Hangzhou-sized leading city
_CORE_PER_CAPITA = 150_000.0  # yuan per person for the largest city (Guangzhou ~154k in 2022)
_CORE_PERIPHERY_RATIO = 2.5  # target per-capita gap between a province's core and its median city


def synthetic_table(values: tuple) -> tuple[pd.DataFrame, str]:
    """The validated cities of a layout, and its ``synthetic(...)`` description.

    ``values`` are the region settings in :data:`SYNTHETIC_KEYS` order. ``region.seed`` seeds the
    layout, never the model's ``seed``, so replicate runs with different model seeds share the
    same cities. See :func:`synthetic_cities` for the construction.
    """
    params = dict(zip(SYNTHETIC_KEYS, values))
    unset = [key for key, value in params.items() if value is None]
    if unset:
        raise RegionError(
            f"region=synthetic needs {', '.join('region.' + k for k in unset)}, which "
            f"{'are' if len(unset) > 1 else 'is'} not set. Use 'region=synthetic' so that "
            "sim/runs/configs/region/synthetic.yaml provides them, then override single values."
        )
    n, p = int(params["n_cities"]), int(params["n_provinces"])
    if n < 2 or p < 1 or n < p:
        raise RegionError(
            f"region=synthetic with n_cities={n} and n_provinces={p}: every province needs at least "
            "one city and a region at least two. Set region.n_cities >= max(2, region.n_provinces)."
        )
    source = "synthetic(" + ", ".join(f"{k}={params[k]}" for k in SYNTHETIC_KEYS) + ")"
    raw = synthetic_cities(
        n, p, int(params["circles_per_province"]), float(params["zipf_exponent"]),
        float(params["extent_km"]), np.random.default_rng(int(params["seed"])),
    )
    return build_table(raw, Where(source, lambda i: f"row {i + 1}"), plausible=False), source


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
        "population_2010": population,   # an abstract layout: no population trend
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
