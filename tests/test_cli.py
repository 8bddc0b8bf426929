"""End to end through ``python -m sim`` in a temporary directory, as a user would run it."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from sim.config.loading import load_config
from sim.errors import ConfigError


def sim(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """One full default run with figures, shared by the output-contract tests."""
    tmp = tmp_path_factory.mktemp("cli")
    proc = sim(tmp, "run", "hydra.run.dir=out")
    return tmp / "out", proc


def test_run_prints_where_and_headline(default_run):
    out, proc = default_run
    assert proc.returncode == 0, proc.stderr
    assert f"Results: {out.resolve()}" in proc.stdout
    assert "cooperation index" in proc.stdout and "core/periphery" in proc.stdout


def test_run_folder_contract(default_run):
    out, _ = default_run
    for name in ("timeseries.parquet", "cities.parquet", "events.parquet", "links.parquet",
                 "summary.json", "config.json"):
        assert (out / name).stat().st_size > 0, name
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 20 and ts["year"].iloc[0] == 2015
    for col in ("agreements_industry", "projects_ecology", "cooperation_index", "subsidy_total",
                "firms_placed", "firms_lost", "gdp_total", "theil", "gini", "core_periphery_ratio"):
        assert col in ts
    cities = pd.read_parquet(out / "cities.parquet")
    for col in ("gdp", "gdp_per_capita", "payoff", "sign_industry", "implement_ecology", "subsidy",
                "agreements", "implementations"):
        assert col in cities
    events = pd.read_parquet(out / "events.parquet")
    assert {"agreement", "implementation", "sanction", "firm"} <= set(events["kind"].astype(str))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 0 and summary["command"].startswith("python -m sim run")
    assert summary["versions"]["mesa"].startswith("3.")
    figures = {p.name for p in (out / "figures").iterdir()}
    for stem in ("cooperation_by_domain", "agreements_vs_projects", "gdp_inequality", "city_map"):
        assert {f"{stem}.png", f"{stem}.pdf"} <= figures
    assert not list(out.rglob("*.tmp"))


def test_same_seed_same_outputs_from_the_command_line(default_run, tmp_path):
    out, _ = default_run
    proc = sim(tmp_path, "run", "hydra.run.dir=again", "output.figures=false")
    assert proc.returncode == 0, proc.stderr
    for table in ("timeseries", "cities", "events"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{table}.parquet"),
                                      pd.read_parquet(tmp_path / "again" / f"{table}.parquet"))


def test_help_lists_commands(tmp_path):
    proc = sim(tmp_path, "--help")
    assert proc.returncode == 0 and "run" in proc.stdout
    proc = sim(tmp_path, "frobnicate")
    assert proc.returncode == 2 and "unknown command 'frobnicate'" in proc.stderr


@pytest.mark.parametrize("command", ["run", "report", "reproduce", "validate", "sensitivity"])
def test_every_command_is_dispatched(command, tmp_path):
    proc = sim(tmp_path, command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert command in sim(tmp_path, "--help").stdout


def test_run_help_shows_config_groups(tmp_path):
    proc = sim(tmp_path, "run", "--help")
    assert proc.returncode == 0
    assert "region: csv, middle_yangtze, synthetic, yangtze_delta, yangtze_delta_26" in proc.stdout
    assert "mechanism: enclave, joint_investment, none, three_tier" in proc.stdout


def test_cfg_job_prints_resolved_config(tmp_path):
    proc = sim(tmp_path, "run", "--cfg", "job", "seed=5")
    assert proc.returncode == 0
    assert "seed: 5" in proc.stdout and "partners: 5" in proc.stdout
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("override, expected", [
    ("model.enforcement.detection=1.5", "model.enforcement.detection = 1.5 is outside its allowed range [0, 1]"),
    ("years=-3", "years = -3 is outside its allowed range"),
    ("model.learning.rule=magic", "model.learning.rule = 'magic' is not one of"),
])
def test_out_of_range_values_fail_before_running(tmp_path, override, expected):
    proc = sim(tmp_path, "run", override)
    assert proc.returncode == 2
    assert expected in proc.stderr and f"command-line override '{override}'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list((tmp_path / "results").rglob("*")) if (tmp_path / "results").exists() else True
    assert not list(tmp_path.rglob("summary.json"))


@pytest.mark.parametrize("override, expected", [
    ("model.network.partnres=3", "partnres"),
    ("model.network.partners=many", "partners"),
    ("seeed=3", "seeed"),
])
def test_unknown_keys_and_wrong_types_fail(tmp_path, override, expected):
    proc = sim(tmp_path, "run", override)
    assert proc.returncode != 0
    assert expected in proc.stderr
    assert not list(tmp_path.rglob("summary.json"))


@pytest.mark.parametrize("args, near", [
    (("model.network.partnres=3",), "model.network.partners"),
    (("-m", "seeed=1,2"), "seed"),
    (("+mechanism=enclave", "mechanism.enclave.renege_rat=0.5"), "mechanism.enclave.renege_rate"),
])
def test_a_misspelt_key_gets_our_error_with_the_nearest_name(tmp_path, args, near):
    """Not Hydra's message, whose advice '+key=value' would add a key that nothing reads."""
    proc = sim(tmp_path, "run", *args)
    assert proc.returncode == 2
    assert f"did you mean {near}?" in proc.stderr and "Nothing was run" in proc.stderr
    assert "+" + args[-1] not in proc.stderr and "HYDRA_FULL_ERROR" not in proc.stderr
    assert list(tmp_path.iterdir()) == []   # no run or sweep folder, no log


def test_bad_region_file_is_a_clear_error(tmp_path):
    (tmp_path / "cities.csv").write_text("name,province,lat,lon,gdp_2015,population_2020\nA,P,30,114,-5,100\n"
                                         "B,P,31,115,10,100\n")
    proc = sim(tmp_path, "run", "region=csv", "region.path=cities.csv")
    assert proc.returncode == 2
    assert "cities.csv" in proc.stderr and "gdp_2015" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.rglob("summary.json"))


def test_a_users_csv_region_runs(tmp_path):
    rows = ["name,province,circle,lat,lon,gdp_2015,population_2020"]
    rows += [f"C{i},P{i % 2},,{30 + i * 0.3},{114 + i * 0.2},{100 + 50 * i},{1e6 + 1e5 * i}" for i in range(8)]
    (tmp_path / "mine.csv").write_text("\n".join(rows) + "\n")
    proc = sim(tmp_path, "run", "region=csv", "region.path=mine.csv", "years=3", "output.figures=false",
               "hydra.run.dir=out", "model.network.partners=3")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["n_cities"] == 8


def test_validation_from_python_names_the_key():
    with pytest.raises(ConfigError, match=r"model\.trust\.rate = 2.0 is outside"):
        load_config(["model.trust.rate=2.0"])
