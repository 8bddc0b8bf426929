"""Region loading: embedded tables, validation of user CSVs, imputation and synthetic layouts."""

from __future__ import annotations

import csv
import io
import time
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from sim.errors import RegionError
from sim.data import COLUMNS, Region, load_region
from sim.config.schema import RegionConfig

CONFIG_DIR = Path(__file__).resolve().parents[1] / "sim" / "runs" / "configs" / "region"
FILE_COLUMNS = [
    "name", "name_zh", "province", "circle", "core", "lat", "lon",
    "gdp_2015", "gdp_2020", "population_2020", "population_2010", "secondary_share_2020",
]
SIZES = {"middle_yangtze": 31, "yangtze_delta": 41, "yangtze_delta_26": 26}
CORES = {
    "middle_yangtze": {"Wuhan", "Changsha", "Nanchang"},
    "yangtze_delta": {"Shanghai", "Nanjing", "Hangzhou", "Hefei"},
    "yangtze_delta_26": {"Shanghai", "Nanjing", "Hangzhou", "Hefei"},
}
HUBEI_GAPS = {"Xiantao", "Qianjiang", "Tianmen"}


def region_cfg(name: str, **values):
    """The region node as the model receives it: the schema dataclass under OmegaConf."""
    return OmegaConf.structured(RegionConfig(name=name, **values))


def synthetic_cfg(**overrides):
    values = dict(n_cities=250, n_provinces=4, circles_per_province=2, zipf_exponent=1.0,
                  extent_km=800.0, seed=0)
    values.update(overrides)
    return region_cfg("synthetic", **values)


def load_quietly(cfg) -> Region:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return load_region(cfg)


def embedded_text(name: str) -> str:
    return resources.files("sim.data").joinpath(f"{name}.csv").read_text(encoding="utf-8")


def per_capita(cities: pd.DataFrame) -> pd.Series:
    return cities["gdp"] * 1e8 / cities["population"]


# --------------------------------------------------------------------------- embedded regions


@pytest.mark.parametrize("name", sorted(SIZES))
def test_embedded_region_shape_and_cores(name):
    region = load_quietly(region_cfg(name))
    cities = region.cities
    assert len(region) == SIZES[name]
    assert list(cities.columns) == list(COLUMNS)
    assert isinstance(cities.index, pd.RangeIndex)
    assert cities["name"].is_unique
    assert set(cities.loc[cities["core"], "name"]) == CORES[name]
    assert cities["core"].dtype == bool
    assert (cities["gdp"] > 0).all() and (cities["population"] > 0).all()
    assert cities["lat"].between(20, 40).all() and cities["lon"].between(105, 125).all()
    assert cities["secondary_share"].between(0, 100).all()
    assert region.source.endswith(f"{name}.csv")
    assert "/work/shared" not in region.source


@pytest.mark.parametrize("name", sorted(SIZES))
def test_embedded_files_have_the_documented_columns(name):
    header = next(csv.reader(io.StringIO(embedded_text(name))))
    assert header == FILE_COLUMNS


def test_yangtze_delta_has_41_unique_names_including_tagged_homonyms():
    names = load_quietly(region_cfg("yangtze_delta")).cities["name"]
    assert names.nunique() == 41
    assert {"Suzhou (Jiangsu)", "Suzhou (Anhui)", "Taizhou (Jiangsu)", "Taizhou (Zhejiang)"} <= set(names)


def test_yangtze_delta_26_is_a_subset_of_the_41_with_the_same_values():
    big = load_quietly(region_cfg("yangtze_delta")).cities.set_index("name")
    small = load_quietly(region_cfg("yangtze_delta_26")).cities.set_index("name")
    pd.testing.assert_frame_equal(small, big.loc[small.index])


def test_middle_yangtze_imputes_exactly_the_three_hubei_cities_by_the_documented_rule():
    cities = load_quietly(region_cfg("middle_yangtze")).cities
    flagged = cities[cities["imputed"] != ""]
    assert set(flagged["name"]) == HUBEI_GAPS
    assert (flagged["imputed"] == "gdp;secondary_share").all()
    assert (flagged["gdp"] > 0).all()

    raw = pd.read_csv(io.StringIO(embedded_text("middle_yangtze")))
    hubei = raw[(raw["province"] == "湖北省") & raw["gdp_2015"].notna()]
    ratio = (hubei["gdp_2015"] / hubei["gdp_2020"]).median()
    share = hubei["secondary_share_2020"].median()
    for _, row in flagged.iterrows():
        gdp_2020 = raw.loc[raw["name"] == row["name"], "gdp_2020"].item()
        assert row["gdp"] == pytest.approx(gdp_2020 * ratio)
        assert row["secondary_share"] == pytest.approx(share)
    # Nothing else is touched: the other cities keep their published 2015 GDP.
    untouched = cities[cities["imputed"] == ""].set_index("name")["gdp"]
    published = raw.set_index("name").loc[untouched.index, "gdp_2015"]
    np.testing.assert_allclose(untouched.to_numpy(), published.to_numpy())


def test_imputation_emits_one_warning_listing_the_cities():
    with pytest.warns(UserWarning) as record:
        load_region(region_cfg("middle_yangtze"))
    messages = [str(w.message) for w in record if issubclass(w.category, UserWarning)]
    assert len(messages) == 1
    assert all(name in messages[0] for name in HUBEI_GAPS)
    assert "Wuhan" not in messages[0]


def test_complete_tables_load_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_region(region_cfg("yangtze_delta"))


# --------------------------------------------------------------------------- user CSV validation

GOOD = [
    ["name", "province", "lat", "lon", "gdp_2015", "population_2020"],
    ["Alpha", "P1", "30.0", "114.0", "100", "1000000"],
    ["Beta", "P1", "30.5", "114.5", "50", "500000"],
    ["Gamma", "P2", "31.0", "115.0", "80", "800000"],
]


def write_csv(path: Path, rows, blank_line_after: int | None = None) -> Path:
    lines = [",".join(row) for row in rows]
    if blank_line_after is not None:
        lines.insert(blank_line_after, "")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def with_cell(row: int, column: str, value: str):
    rows = [list(r) for r in GOOD]
    rows[row][GOOD[0].index(column)] = value
    return rows


def load_csv(path: Path) -> Region:
    return load_quietly(region_cfg("csv", path=str(path)))


BAD_TABLES = {
    # case: (rows, column named in the message, line named in the message or None)
    "missing column": ([[c for c in r[:-1]] for r in GOOD], "population_2020", 1),
    "non-numeric cell": (with_cell(2, "gdp_2015", "abc"), "gdp_2015", 3),
    "negative gdp": (with_cell(3, "gdp_2015", "-5"), "gdp_2015", 4),
    "zero population": (with_cell(1, "population_2020", "0"), "population_2020", 2),
    "latitude 95": (with_cell(2, "lat", "95"), "lat", 3),
    "longitude 200": (with_cell(3, "lon", "200"), "lon", 4),
    "duplicate name": (with_cell(3, "name", "Alpha"), "name", 4),
    "one city only": (GOOD[:2], "name", None),
    "empty latitude": (with_cell(2, "lat", ""), "lat", 3),
    "empty population": (with_cell(3, "population_2020", ""), "population_2020", 4),
    "gdp missing with no 2020 value": (with_cell(2, "gdp_2015", ""), "gdp_2015", 3),
    "infinite gdp": (with_cell(1, "gdp_2015", "inf"), "gdp_2015", 2),
    "implausible gdp (1e300)": (with_cell(1, "gdp_2015", "1e300"), "gdp_2015", 2),
    "gdp in yuan, not 100 million yuan": (with_cell(2, "gdp_2015", "5000000000"), "gdp_2015", 3),
    "implausible population (1e300)": (with_cell(1, "population_2020", "1e300"), "population_2020", 2),
    "population in 10,000s": (with_cell(3, "population_2020", "80"), "population_2020", 4),
    "gdp and population in clashing units": (with_cell(1, "gdp_2015", "90000"), "gdp_2015", 2),
}


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_bad_table_raises_one_paragraph_naming_file_line_and_column(tmp_path, case):
    rows, column, line = BAD_TABLES[case]
    path = write_csv(tmp_path / "cities.csv", rows)
    with pytest.raises(RegionError) as info:
        load_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert f"'{column}'" in message
    if line is not None:
        assert f"line {line}" in message
    assert "\n" not in message


def test_non_numeric_message_quotes_the_cell_and_says_how_to_fix_it(tmp_path):
    path = write_csv(tmp_path / "cities.csv", with_cell(2, "gdp_2015", "abc"))
    with pytest.raises(RegionError, match=r"line 3, column 'gdp_2015': 'abc' is not a number") as info:
        load_csv(path)
    assert "positive GDP" in str(info.value)


def test_line_numbers_count_blank_lines_as_in_the_file(tmp_path):
    path = write_csv(tmp_path / "cities.csv", with_cell(2, "gdp_2015", "abc"), blank_line_after=2)
    with pytest.raises(RegionError, match="line 4"):
        load_csv(path)


def test_duplicate_name_message_points_at_the_first_use(tmp_path):
    path = write_csv(tmp_path / "cities.csv", with_cell(3, "name", "Alpha"))
    with pytest.raises(RegionError, match=r"line 4, column 'name'.*\(line 2\)"):
        load_csv(path)


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(RegionError, match="nowhere.csv") as info:
        load_csv(path)
    assert "does not exist" in str(info.value)


def test_csv_region_without_a_path_says_how_to_give_one():
    cfg = OmegaConf.merge(OmegaConf.structured(RegionConfig), OmegaConf.load(CONFIG_DIR / "csv.yaml"))
    with pytest.raises(RegionError, match=r"region\.path"):
        load_region(cfg)


def test_row_with_wrong_number_of_fields_names_its_line(tmp_path):
    rows = [list(r) for r in GOOD]
    rows[2] = rows[2][:-1]
    with pytest.raises(RegionError, match="line 3"):
        load_csv(write_csv(tmp_path / "cities.csv", rows))


def test_user_csv_defaults_and_imputation(tmp_path):
    rows = [
        ["name", "province", "lat", "lon", "gdp_2015", "gdp_2020", "population_2020", "secondary_share_2020",
         "population_2010"],
        ["A", "P1", "30", "114", "100", "200", "1000000", "40", "900000"],
        ["B", "P1", "30", "115", "50", "125", "1000000", "50", "900000"],
        ["C", "P1", "31", "114", "", "300", "1000000", "", "900000"],  # province ratio median(0.5, 0.4) = 0.45
        ["D", "P2", "31", "115", "", "100", "1000000", "", "900000"],  # P2 has no pair: region-wide median 0.45
        ["E", "P2", "32", "115", "70", "", "1000000", "30", "900000"],
    ]
    path = write_csv(tmp_path / "mine.csv", rows)
    listing = r"2 cities: C \(gdp, secondary_share\), D \(gdp, secondary_share\)\."
    with pytest.warns(UserWarning, match=listing):
        region = load_region(region_cfg("csv", path=str(path)))
    cities = region.cities.set_index("name")
    assert cities.loc["C", "gdp"] == pytest.approx(135.0)
    assert cities.loc["D", "gdp"] == pytest.approx(45.0)
    assert cities.loc["C", "secondary_share"] == pytest.approx(45.0)  # P1 median
    assert cities.loc["D", "secondary_share"] == pytest.approx(30.0)  # P2 median
    assert cities.loc["D", "imputed"] == "gdp;secondary_share"
    assert cities.loc["A", "imputed"] == ""
    # No core column: the largest city of each province (after imputation: C's 135 > A's 100).
    assert set(cities.index[cities["core"]]) == {"C", "E"}
    assert (cities["circle"] == "").all() and (cities["name_zh"] == "").all()
    assert region.source == str(path)


def test_csv_region_reproduces_the_embedded_table(tmp_path):
    path = tmp_path / "middle_yangtze_copy.csv"
    path.write_text(embedded_text("middle_yangtze"), encoding="utf-8")
    embedded = load_quietly(region_cfg("middle_yangtze"))
    copied = load_csv(path)
    pd.testing.assert_frame_equal(copied.cities, embedded.cities)


# --------------------------------------------------------------------------- synthetic layouts


def check_valid(cities: pd.DataFrame, n: int, p: int) -> None:
    assert list(cities.columns) == list(COLUMNS)
    assert len(cities) == n and cities["name"].is_unique
    assert cities["province"].nunique() == p
    assert (cities["gdp"] > 0).all() and (cities["population"] > 0).all()
    assert np.isfinite(cities[["lat", "lon", "gdp", "population", "secondary_share"]].to_numpy()).all()
    assert cities["lat"].between(-90, 90).all() and cities["lon"].between(-180, 180).all()
    assert cities["secondary_share"].between(30, 55).all()
    assert (cities["imputed"] == "").all()
    # Exactly one core per province, and it is the province's largest city.
    assert (cities.groupby("province")["core"].sum() == 1).all()
    largest = cities.groupby("province")["gdp"].transform("max")
    assert (cities.loc[cities["core"], "gdp"] == largest[cities["core"]]).all()
    # A circle never spans two provinces and is named after its province.
    in_circle = cities[cities["circle"] != ""]
    assert (in_circle.groupby("circle")["province"].nunique() == 1).all()
    assert all(c.startswith(f"{p_} circle ") for c, p_ in zip(in_circle["circle"], in_circle["province"]))


def test_synthetic_default_layout_is_valid():
    region = load_region(synthetic_cfg())
    check_valid(region.cities, 250, 4)
    assert region.source.startswith("synthetic(") and "seed=0" in region.source
    assert region.cities["name"].iloc[0] == "City 0001"
    assert set(region.cities["province"]) == {f"Province 0{k}" for k in range(1, 5)}


def test_synthetic_is_deterministic_for_a_seed_and_differs_for_another():
    first = load_region(synthetic_cfg(seed=7)).cities
    pd.testing.assert_frame_equal(first, load_region(synthetic_cfg(seed=7)).cities)
    other = load_region(synthetic_cfg(seed=8)).cities
    assert not np.allclose(first["lat"], other["lat"])


@pytest.mark.parametrize("exponent", [0.7, 1.0, 1.5])
def test_synthetic_gdp_follows_the_rank_size_rule(exponent):
    gdp = np.sort(load_region(synthetic_cfg(zipf_exponent=exponent)).cities["gdp"].to_numpy())[::-1]
    rank = np.arange(1, gdp.size + 1)
    slope = np.polyfit(np.log(rank), np.log(gdp), 1)[0]
    assert slope == pytest.approx(-exponent, abs=0.05)
    assert gdp[0] == pytest.approx(10_000, rel=0.01)
    assert gdp[0] / np.median(gdp) > 0.8 * (gdp.size / 2) ** exponent  # a few giants, many small


def test_synthetic_core_is_richer_per_capita_by_a_realistic_factor():
    cities = load_region(synthetic_cfg()).cities.assign(per_capita=lambda d: per_capita(d))
    for _, province in cities.groupby("province"):
        core = province.loc[province["core"], "per_capita"].item()
        rest = province.loc[~province["core"]]
        assert 1.5 <= core / rest["per_capita"].median() <= 4
        assert 1.5 <= core / (rest["gdp"].sum() * 1e8 / rest["population"].sum()) <= 4
        # Population still rises with GDP: bigger cities are bigger in people too.
        assert np.corrcoef(np.log(province["gdp"]), np.log(province["population"]))[0, 1] > 0.8


def test_synthetic_circles_hold_about_half_the_cities_clustered_near_their_centre():
    cities = load_region(synthetic_cfg()).cities
    assert cities["circle"].replace("", np.nan).dropna().nunique() == 8
    for _, province in cities.groupby("province"):
        assert 0.35 <= (province["circle"] != "").mean() <= 0.65
    spread = cities.groupby("circle")[["lat", "lon"]].std()
    inside, outside = spread.drop(index=""), spread.loc[""]
    assert (inside.mean() < outside).all()


def test_synthetic_is_fast_for_4000_cities():
    start = time.perf_counter()
    region = load_region(synthetic_cfg(n_cities=4000, n_provinces=12, circles_per_province=3))
    assert time.perf_counter() - start < 5.0
    check_valid(region.cities, 4000, 12)


def test_synthetic_rejects_fewer_cities_than_provinces():
    with pytest.raises(RegionError, match="n_cities"):
        load_region(synthetic_cfg(n_cities=3, n_provinces=5))


def test_synthetic_without_its_settings_says_which_are_missing():
    with pytest.raises(RegionError, match=r"region\.n_cities"):
        load_region(region_cfg("synthetic"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 80),
    p=st.integers(1, 10),
    circles=st.integers(1, 4),
    exponent=st.floats(0.0, 2.5),
    extent=st.floats(1.0, 5000.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_synthetic_property_any_small_layout_is_valid(n, p, circles, exponent, extent, seed):
    assume(p <= n)
    cfg = synthetic_cfg(n_cities=n, n_provinces=p, circles_per_province=circles,
                        zipf_exponent=exponent, extent_km=extent, seed=seed)
    check_valid(load_region(cfg).cities, n, p)


# --------------------------------------------------------------------------- config files


@pytest.mark.parametrize("name", ["middle_yangtze", "yangtze_delta", "yangtze_delta_26", "synthetic", "csv"])
def test_region_yaml_matches_the_schema(name):
    cfg = OmegaConf.merge(OmegaConf.structured(RegionConfig), OmegaConf.load(CONFIG_DIR / f"{name}.yaml"))
    assert cfg.name == name
    if name != "csv":
        assert len(load_quietly(cfg)) == (SIZES[name] if name in SIZES else 250)


@pytest.mark.parametrize("cfg", [region_cfg("middle_yangtze"), synthetic_cfg(n_cities=40)], ids=["embedded", "synthetic"])
def test_repeated_loads_are_equal_and_independent(cfg):
    """Shipped and synthetic regions are built once per process; each caller still owns its copy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        first, second = load_region(cfg), load_region(cfg)
    pd.testing.assert_frame_equal(first.cities, second.cities)
    first.cities.loc[0, "gdp"] = -1.0
    assert second.cities.loc[0, "gdp"] > 0 and load_region(cfg).cities.loc[0, "gdp"] > 0


def test_the_imputation_warning_is_repeated_for_every_load():
    """A cached region still warns each run about its imputed values (the CLI logs it per run)."""
    for _ in range(2):
        with pytest.warns(UserWarning, match="imputed values for 3 cities"):
            load_region(region_cfg("middle_yangtze"))
