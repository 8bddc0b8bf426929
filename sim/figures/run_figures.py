"""The figures of one simulation run.

:func:`write_run_figures` writes every figure of a run (PNG + PDF, optional JSON
sidecar) into a directory. Each figure has its own builder ``plot_<stem>`` that
returns a :class:`~matplotlib.figure.Figure`, so figures can also be composed or
inspected without writing files. The figures of a sweep report are in
:mod:`sim.figures.comparison_figures`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sim.figures.axes import require_columns, year_axis
from sim.figures.style import (
    DOMAIN_COLORS,
    DOMAIN_LABELS,
    DOUBLE_COLUMN,
    NEUTRAL,
    PALETTE,
    SINGLE_COLUMN,
    close_figure,
    new_figure,
    save_figure,
    use_style,
)
from sim.config.schema import DOMAINS

YI_PER_TRILLION = 1e4  # input GDP is in 100 million yuan (亿元)

MAX_LEGEND_ENTRIES = 12
LINK_COLOR = (0.25, 0.25, 0.25)


# --------------------------------------------------------------------------- helpers


def _legend(ax: Axes, **kw) -> None:
    ax.legend(**{"loc": "best", "handlelength": 1.6, "borderaxespad": 0.3, **kw})


def _panel_letter(ax: Axes, letter: str) -> None:
    # y given: no automatic title placement, which measures every tick label of the axes (a
    # fifth of a panel's drawing time) to dodge top tick labels these figures never have.
    ax.set_title(letter, loc="left", fontweight="bold", pad=2, y=1.0)


def _last_year(cities: pd.DataFrame) -> pd.DataFrame:
    return cities[cities["year"] == cities["year"].max()]


def _is_core(cities: pd.DataFrame) -> np.ndarray:
    """Boolean core flag per row; missing column or values count as not core."""
    if "core" not in cities.columns:
        return np.zeros(len(cities), dtype=bool)
    return cities["core"].astype("boolean").fillna(False).to_numpy(dtype=bool)


# --------------------------------------------------------------------------- figures


def plot_cooperation_by_domain(timeseries: pd.DataFrame) -> Figure:
    """Share of cities implementing each domain, and the overall cooperation index."""
    columns = [f"implemented_{d}" for d in DOMAINS]
    require_columns(timeseries, ["year", "cooperation_index", *columns], "timeseries")
    ts = timeseries.sort_values("year")
    fig, ax = new_figure("single", 2.9)
    for d in DOMAINS:
        ax.plot(ts["year"], ts[f"implemented_{d}"], color=DOMAIN_COLORS[d], label=DOMAIN_LABELS[d])
    ax.plot(ts["year"], ts["cooperation_index"], color="black", linewidth=2.2, label="Cooperation index")
    ax.set_ylim(0, 1)
    ax.set_ylabel("Cities implementing (share)")
    year_axis(ax)
    fig.legend(loc="outside lower center", ncols=3, columnspacing=1.0)
    return fig


def plot_agreements_vs_projects(timeseries: pd.DataFrame) -> Figure:
    """Agreements signed and projects implemented per year, totals over domains."""
    require_columns(timeseries, ["year", "agreements_total", "projects_total"], "timeseries")
    ts = timeseries.sort_values("year")
    fig, ax = new_figure("single", 2.4)
    few = len(ts) <= 25  # markers only while they do not merge into a band
    for column, marker, color, label in (
        ("agreements_total", "o", PALETTE[0], "Agreements signed"),
        ("projects_total", "s", PALETTE[1], "Projects implemented"),
    ):
        ax.plot(ts["year"], ts[column], marker=marker if few else "", color=color, label=label)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("Count per year")
    year_axis(ax)
    _legend(ax)
    return fig


def plot_gdp_inequality(timeseries: pd.DataFrame) -> Figure:
    """GDP total; Theil and Gini; core/periphery GDP per capita ratio; shared year axis."""
    require_columns(timeseries, ["year", "gdp_total", "theil", "gini", "core_periphery_ratio"], "timeseries")
    ts = timeseries.sort_values("year")
    fig, (ax_gdp, ax_ineq, ax_ratio) = new_figure("single", 4.6, nrows=3, sharex=True)

    ax_gdp.plot(ts["year"], ts["gdp_total"] / YI_PER_TRILLION, color=PALETTE[0])
    ax_gdp.set_ylabel("GDP (trillion yuan)")
    _panel_letter(ax_gdp, "a")

    ax_ineq.plot(ts["year"], ts["theil"], color=PALETTE[1], label="Theil")
    ax_ineq.plot(ts["year"], ts["gini"], color=PALETTE[2], linestyle="--", label="Gini")
    ax_ineq.set_ylabel("Inequality index")
    ax_ineq.set_ylim(bottom=0)
    _legend(ax_ineq)
    _panel_letter(ax_ineq, "b")

    ax_ratio.plot(ts["year"], ts["core_periphery_ratio"], color=PALETTE[3])
    ax_ratio.set_ylabel("Core / periphery\nGDP per capita")
    _panel_letter(ax_ratio, "c")

    for ax in (ax_gdp, ax_ineq):
        year_axis(ax, label=False)
    year_axis(ax_ratio)
    fig.align_ylabels()
    return fig


# ----------------------------------------------------------------- city map helpers


#: Province names as Pinyin, so that legends render without CJK fonts.
PROVINCE_PINYIN = {"湖北省": "Hubei", "湖南省": "Hunan", "江西省": "Jiangxi", "上海市": "Shanghai",
                   "江苏省": "Jiangsu", "浙江省": "Zhejiang", "安徽省": "Anhui"}


def _category_column(cities: pd.DataFrame) -> str:
    """Colour by province when the palette can tell them apart, else by circle."""
    options = [c for c in ("province", "circle") if c in cities.columns]
    if not options:
        return ""
    for column in options:
        if cities[column].nunique(dropna=True) <= len(PALETTE) - 1:
            return column
    return min(options, key=lambda c: cities[c].nunique(dropna=True))


def _category_colors(cities: pd.DataFrame, column: str) -> tuple[pd.Series, dict[str, str]]:
    """Colour per city, largest categories (by GDP) first; grey beyond the palette."""
    if not column:
        return pd.Series(PALETTE[0], index=cities.index), {}
    keys = cities[column].astype("string").fillna("none").map(lambda k: PROVINCE_PINYIN.get(k, k))
    order = cities.groupby(keys, sort=True)["gdp"].sum().sort_values(ascending=False, kind="stable").index
    colors = {key: (PALETTE[i] if i < len(PALETTE) - 1 else NEUTRAL) for i, key in enumerate(order)}
    return keys.map(colors), colors


def _marker_areas(gdp: pd.Series, n: int) -> tuple[np.ndarray, float, float]:
    """Marker areas (pt^2) proportional to GDP, the largest area, and the largest GDP.

    The largest city's area shrinks with the number of cities so that 4000 stay legible.
    """
    largest = float(np.clip(1500.0 / np.sqrt(max(n, 1)), 20.0, 150.0))
    top = float(gdp.max()) if len(gdp) and gdp.max() > 0 else 1.0
    return np.maximum(gdp.clip(lower=0).to_numpy(float) / top * largest, 0.5), largest, top


def _draw_links(ax: Axes, links: pd.DataFrame, where: pd.DataFrame) -> None:
    """Links as one LineCollection; width and opacity grow with strength."""
    if links is None or links.empty:
        return
    require_columns(links, ["source", "target", "strength"], "links")
    links = links[links["strength"] > 0]
    links = links[links["source"].isin(where.index) & links["target"].isin(where.index)]
    if links.empty:
        return
    src = where.loc[links["source"], ["lon", "lat"]].to_numpy(float)
    dst = where.loc[links["target"], ["lon", "lat"]].to_numpy(float)
    rel = links["strength"].to_numpy(float) / float(links["strength"].max())
    crowd = 1.0 if len(links) <= 500 else float(np.sqrt(500 / len(links)))  # thinner when dense
    colors = np.tile((*LINK_COLOR, 0.0), (len(rel), 1))
    colors[:, 3] = (0.15 + 0.6 * rel) * crowd
    lines = LineCollection(
        np.stack([src, dst], axis=1),
        linewidths=(0.2 + 1.6 * rel) * crowd,
        colors=colors,
        zorder=1,
        capstyle="round",
    )
    lines.set_rasterized(len(links) > 5000)  # keep the PDF small for dense networks
    ax.add_collection(lines, autolim=False)


def _label_cores(ax: Axes, cities: pd.DataFrame) -> None:
    for row in cities[_is_core(cities)].itertuples():
        ax.annotate(
            str(row.name),
            (row.lon, row.lat),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=6.5,
            zorder=4,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6},
        )


def _map_legends(fig: Figure, colors: dict[str, str], column: str, largest: float, top: float) -> None:
    """Colour legend (if few enough categories) and a GDP marker-size key, right of the map."""
    dot = {"linestyle": "", "marker": "o", "markeredgecolor": "white", "markeredgewidth": 0.4}
    if column and 1 < len(colors) <= MAX_LEGEND_ENTRIES:
        handles = [Line2D([], [], **dot, markersize=5, color=c, label=k) for k, c in colors.items() if c != NEUTRAL]
        if NEUTRAL in colors.values():
            handles.append(Line2D([], [], **dot, markersize=5, color=NEUTRAL, label="other"))
        fig.legend(handles=handles, title=column.capitalize(), loc="outside right upper", alignment="left")
    size_handles = [
        Line2D([], [], **dot, color=NEUTRAL, markersize=np.sqrt(v * YI_PER_TRILLION / top * largest), label=f"{v:g}")
        for v in _round_values(top / YI_PER_TRILLION)
    ]
    fig.legend(
        handles=size_handles, title="GDP\n(trillion yuan)", loc="outside right lower",
        alignment="left", labelspacing=1.2, borderpad=0.6,
    )


def _round_values(top: float) -> list[float]:
    """Two round reference values up to ``top`` for the size key."""
    if top <= 0:
        return [1.0]
    magnitude = 10 ** np.floor(np.log10(top))
    lead = float(np.floor(top / magnitude) * magnitude)
    values = [lead, lead / 4]
    return [float(f"{v:.2g}") for v in values if v > 0]


def _map_size(ratio: float) -> tuple[float, float]:
    """Figure (width, height) in inches for a map whose height/width ratio is ``ratio``.

    Double-column width for wide regions; narrower (down to a single column) for
    tall ones, so the map never exceeds a legible page height.
    """
    frame_w, frame_h = 0.8 + 1.1, 0.6  # axis labels and ticks; legends on the right
    plot_w, max_h = DOUBLE_COLUMN - frame_w, 5.4
    if ratio * plot_w <= max_h:
        return DOUBLE_COLUMN, max(ratio * plot_w, 2.4) + frame_h
    return max(max_h / ratio + frame_w, SINGLE_COLUMN), max_h + frame_h


def plot_city_map(cities: pd.DataFrame, links: pd.DataFrame) -> Figure:
    """Cities of the last year at (lon, lat), area ~ GDP, colour by province or circle."""
    require_columns(cities, ["year", "city", "name", "lat", "lon", "gdp"], "cities")
    now = _last_year(cities).drop_duplicates("city").set_index("city", drop=False)
    n = len(now)
    mean_lat = float(now["lat"].mean())
    aspect = 1.0 / np.cos(np.deg2rad(mean_lat))
    lon_span = max(float(np.ptp(now["lon"])), 0.5)
    lat_span = max(float(np.ptp(now["lat"])), 0.5)
    fig, ax = new_figure(*_map_size(lat_span * aspect / lon_span))

    column = _category_column(now)
    color, colors = _category_colors(now, column)
    areas, largest, top = _marker_areas(now["gdp"], n)
    order = np.argsort(-areas, kind="stable")  # small markers on top of big ones
    core = _is_core(now)
    edge = np.where(core, "black", "white")
    width = np.where(core, 0.8, 0.4 if n <= 500 else 0.0)
    ax.scatter(
        now["lon"].to_numpy()[order],
        now["lat"].to_numpy()[order],
        s=areas[order],
        c=color.to_numpy()[order],
        alpha=0.85 if n <= 500 else 0.7,
        edgecolors=edge[order],
        linewidths=width[order],
        zorder=2,
    )
    _draw_links(ax, links, now)
    _label_cores(ax, now)

    ax.margins(0.06)
    ax.set_aspect(aspect, adjustable="datalim")  # figure height already follows the extent
    ax.set_xlabel("Longitude (°E)")
    ax.set_ylabel("Latitude (°N)")
    _map_legends(fig, colors, column, largest, top)
    return fig


def mechanism_panels(timeseries: pd.DataFrame, panels: list[tuple[str, str]]) -> Figure:
    """One stacked panel per (column, label) over years: the figure of an institution."""
    require_columns(timeseries, ["year", *(c for c, _ in panels)], "timeseries")
    ts = timeseries.sort_values("year")
    fig, axes = new_figure("single", 1.5 * len(panels) + 0.4, nrows=len(panels), sharex=True)
    for i, (ax, (column, label)) in enumerate(zip(np.atleast_1d(axes), panels)):
        ax.plot(ts["year"], ts[column], color=PALETTE[i % len(PALETTE)])
        ax.set_ylabel(label)
        year_axis(ax, label=i == len(panels) - 1)
    return fig


# --------------------------------------------------------------------------- driver


RUN_FIGURES: dict[str, Callable[..., Figure]] = {
    "cooperation_by_domain": lambda ts, cities, links: plot_cooperation_by_domain(ts),
    "agreements_vs_projects": lambda ts, cities, links: plot_agreements_vs_projects(ts),
    "gdp_inequality": lambda ts, cities, links: plot_gdp_inequality(ts),
    "city_map": lambda ts, cities, links: plot_city_map(cities, links),
}

#: A figure of a run: its file stem and, for a mechanism's figure, its (column, label) panels.
FigureSpec = tuple[str, tuple[tuple[str, str], ...]]


def run_figure_specs(mechanism_panels: Iterable[tuple[str, tuple]] = ()) -> list[FigureSpec]:
    """Every figure of a run: the run's own, then one per mechanism that declares panels.

    ``mechanism_panels`` holds each active mechanism's (name, figure_panels). Plain data in and
    out (nothing is drawn yet), so that another process can draw them.
    """
    return [(stem, ()) for stem in RUN_FIGURES] + [
        (f"mechanism_{name}", tuple(panels)) for name, panels in mechanism_panels if panels]


def write_run_figure(out_dir: Path, spec: FigureSpec, timeseries: pd.DataFrame, cities: pd.DataFrame,
                     links: pd.DataFrame, sidecar: dict | None = None) -> list[Path]:
    """Draw one figure of a run and write it (PNG, PDF, sidecar) into ``out_dir``."""
    stem, panels = spec
    with use_style():
        fig = (mechanism_panels(timeseries, list(panels)) if panels
               else RUN_FIGURES[stem](timeseries, cities, links))
        return save_figure(fig, out_dir, stem, sidecar)


def write_run_figures(
    out_dir: Path,
    timeseries: pd.DataFrame,
    cities: pd.DataFrame,
    links: pd.DataFrame,
    sidecar: dict | None = None,
    mechanism_panels: Iterable[tuple[str, tuple]] = (),
) -> list[Path]:
    """Write every figure of one run, and one per active mechanism, into ``out_dir``."""
    return [path for spec in run_figure_specs(mechanism_panels)
            for path in write_run_figure(out_dir, spec, timeseries, cities, links, sidecar)]


def warm_up() -> None:
    """Load what a process's first figure would: the PDF back end, fontTools, and the project's
    regular and bold fonts with their text layout (a throwaway figure drawn on the Agg canvas)."""
    import fontTools.subset  # noqa: F401
    from matplotlib.backends import backend_pdf  # noqa: F401

    with use_style():
        fig, ax = new_figure("single")
        ax.set_xlabel("Year 0123456789")
        _panel_letter(ax, "a")
        fig.canvas.draw()
        close_figure(fig)
