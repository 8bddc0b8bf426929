"""Figures of one run: written, deterministic, robust to empty links, sidecar, atomic."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from sim.figures.run_figures import RUN_FIGURES, plot_city_map, write_run_figures
from sim.figures.style import DOMAIN_COLORS, PALETTE, new_figure, save_figure, use_style
from sim.config.schema import DOMAINS

STEMS = ("cooperation_by_domain", "agreements_vs_projects", "gdp_inequality", "city_map")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_timeseries(years: range, rng: np.random.Generator) -> pd.DataFrame:
    n = len(years)
    data: dict[str, object] = {"year": np.array(years, dtype=int)}
    for d in DOMAINS:
        data[f"agreements_{d}"] = rng.integers(0, 10, n)
        data[f"projects_{d}"] = rng.integers(0, 6, n)
        data[f"implemented_{d}"] = np.sort(rng.uniform(0, 1, n))
    ts = pd.DataFrame(data)
    ts["cooperation_index"] = ts[[f"implemented_{d}" for d in DOMAINS]].mean(axis=1)
    ts["agreements_total"] = ts[[f"agreements_{d}" for d in DOMAINS]].sum(axis=1)
    ts["projects_total"] = ts[[f"projects_{d}" for d in DOMAINS]].sum(axis=1)
    ts["gdp_total"] = np.cumsum(rng.uniform(8e4, 1.2e5, n))  # 100 million yuan
    ts["theil"] = rng.uniform(0.05, 0.3, n)
    ts["gini"] = rng.uniform(0.2, 0.5, n)
    ts["core_periphery_ratio"] = rng.uniform(1.5, 3.0, n)
    ts["ignored_extra"] = "x"  # other columns must be ignored
    return ts


def make_cities(n_cities: int, years: range, rng: np.random.Generator, n_cores: int = 1) -> pd.DataFrame:
    lat = rng.uniform(29.0, 33.5, n_cities)
    lon = rng.uniform(115.5, 122.0, n_cities)
    provinces = np.array(["Jiangsu", "Zhejiang", "Anhui", "Shanghai"])[np.arange(n_cities) % 4]
    rows = []
    for year in years:
        gdp = rng.lognormal(8.0, 1.0, n_cities)
        pop = rng.uniform(100, 2000, n_cities)
        rows.append(
            pd.DataFrame(
                {
                    "year": year,
                    "city": np.arange(n_cities),
                    "name": [f"City {i}" for i in range(n_cities)],
                    "province": provinces,
                    "circle": np.where(np.arange(n_cities) % 2 == 0, "Nanjing", "Hangzhou"),
                    "core": np.arange(n_cities) < n_cores,
                    "lat": lat,
                    "lon": lon,
                    "gdp": gdp,
                    "population": pop,
                    "gdp_per_capita": gdp / pop,
                    "ignored_extra": 0.0,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def make_links(n_cities: int, n_links: int, rng: np.random.Generator) -> pd.DataFrame:
    src = rng.integers(0, n_cities, n_links)
    dst = (src + rng.integers(1, n_cities, n_links)) % n_cities
    strength = rng.uniform(0, 1, n_links)
    strength[::3] = 0.0  # zero-strength links are not drawn
    return pd.DataFrame({"source": src, "target": dst, "strength": strength})


@pytest.fixture
def run_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(20240601)
    years = range(2020, 2026)
    return make_timeseries(years, rng), make_cities(5, years, rng), make_links(5, 8, rng)


def test_all_figures_written_as_png_and_pdf(tmp_path: Path, run_frames) -> None:
    out = tmp_path / "figures" / "nested"  # created by write_run_figures
    written = write_run_figures(out, *run_frames)
    assert set(RUN_FIGURES) == set(STEMS)
    for stem in STEMS:
        png, pdf = out / f"{stem}.png", out / f"{stem}.pdf"
        assert png in written and pdf in written
        assert png.read_bytes().startswith(PNG_MAGIC) and png.stat().st_size > 1000
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
    assert not list(out.glob("*.json"))  # no sidecar asked for


def test_same_inputs_give_byte_identical_pdf_and_png(tmp_path: Path, run_frames) -> None:
    write_run_figures(tmp_path / "a", *run_frames)
    write_run_figures(tmp_path / "b", *run_frames)
    for stem in STEMS:
        for ext in ("pdf", "png"):
            a = (tmp_path / "a" / f"{stem}.{ext}").read_bytes()
            b = (tmp_path / "b" / f"{stem}.{ext}").read_bytes()
            assert a == b, f"{stem}.{ext} differs between identical runs"


def test_pdf_embeds_truetype_and_has_no_creation_date(tmp_path: Path, run_frames) -> None:
    write_run_figures(tmp_path, *run_frames)
    pdf = (tmp_path / "cooperation_by_domain.pdf").read_bytes()
    assert b"/CreationDate" not in pdf
    assert b"/TrueType" in pdf or b"/CIDFontType2" in pdf  # fonttype 42, not Type 3
    assert b"/Type3" not in pdf


def test_empty_links_frame_works(tmp_path: Path, run_frames) -> None:
    ts, cities, _ = run_frames
    empty = pd.DataFrame({"source": pd.Series(dtype=int), "target": pd.Series(dtype=int),
                          "strength": pd.Series(dtype=float)})
    written = write_run_figures(tmp_path, ts, cities, empty)
    assert (tmp_path / "city_map.png") in written
    assert (tmp_path / "city_map.pdf").stat().st_size > 1000
    # all-zero strengths and links to unknown cities are skipped, not errors
    odd = pd.DataFrame({"source": [0, 1], "target": [99, 2], "strength": [1.0, 0.0]})
    with use_style():
        fig = plot_city_map(cities, odd)
    assert not [c for c in fig.axes[0].collections if type(c).__name__ == "LineCollection"]


def test_sidecar_json_written_with_given_content(tmp_path: Path, run_frames) -> None:
    sidecar = {"command": "python -m sim run seed=7", "config_hash": "abc123", "seeds": [7, 8]}
    write_run_figures(tmp_path, *run_frames, sidecar=sidecar)
    for stem in STEMS:
        assert json.loads((tmp_path / f"{stem}.json").read_text(encoding="utf-8")) == sidecar


def test_save_figure_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    with use_style():
        fig, ax = new_figure()
        ax.plot([0, 1], [0, 1])
        written = save_figure(fig, tmp_path, "line", sidecar={"seeds": [1]})
    assert sorted(p.name for p in written) == ["line.json", "line.pdf", "line.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.json", "line.pdf", "line.png"]
    assert not fig.axes  # the figure was closed (cleared)


def test_failed_save_keeps_old_file_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    (tmp_path / "line.png").write_bytes(b"old")
    with use_style():
        fig, _ = new_figure()

    def broken_savefig(path, **kwargs):
        Path(path).write_bytes(b"partial")
        raise RuntimeError("disk full")

    fig.savefig = broken_savefig
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(fig, tmp_path, "line")
    assert [p.name for p in tmp_path.iterdir()] == ["line.png"]
    assert (tmp_path / "line.png").read_bytes() == b"old"


def test_style_is_column_width_okabe_ito_and_restored() -> None:
    before = matplotlib.rcParams["font.size"]
    with use_style():
        fig, ax = new_figure("single")
        assert fig.get_figwidth() == pytest.approx(3.5)
        assert new_figure("double")[0].get_figwidth() == pytest.approx(7.0)
        assert 8 <= matplotlib.rcParams["font.size"] <= 9
        assert matplotlib.rcParams["pdf.fonttype"] == 42
        assert not matplotlib.rcParams["axes.spines.top"]
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == PALETTE
    assert matplotlib.rcParams["font.size"] == before
    assert set(DOMAIN_COLORS) == set(DOMAINS)
    assert len(set(DOMAIN_COLORS.values())) == len(DOMAINS)


def test_city_map_scales_to_4000_cities(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    years = range(2030, 2032)
    cities = make_cities(4000, years, rng, n_cores=25)
    links = make_links(4000, 20000, rng)
    with use_style():
        fig = plot_city_map(cities, links)
        ax = fig.axes[0]
        n_cores = int(cities.loc[cities["year"] == 2031, "core"].sum())
        assert len(ax.texts) == n_cores  # only core cities are labelled
        assert sum(type(c).__name__ == "LineCollection" for c in ax.collections) == 1
        written = save_figure(fig, tmp_path, "city_map")
    assert all(p.stat().st_size > 1000 for p in written)
