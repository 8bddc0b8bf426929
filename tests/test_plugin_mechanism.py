"""A mechanism from another package: installed with pip, found through the entry-point group
``sim.mechanisms``, run with ``+mechanism=<name>`` and passed through the shared harness, with
no file of ``sim/`` edited (tests/plugin_package is that package)."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent / "plugin_package"
NAME = "equalisation"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                              str(target), str(PACKAGE)], capture_output=True, text=True)
    if install.returncode != 0:
        pytest.fail(f"pip could not install the test plugin package:\n{install.stderr[-2000:]}")
    assert list(target.glob("sim_equalisation-*.dist-info"))
    return target


def sim(args, cwd, plugin=None, **kw):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(plugin or ""), os.environ.get("PYTHONPATH", "")) if p)}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True, **kw)


def test_installed_plugin_runs_and_reports_its_metrics(plugin_path, tmp_path):
    out = tmp_path / "run"
    done = sim(["sim", "run", f"+mechanism={NAME}", "years=3", f"hydra.run.dir={out}"], tmp_path, plugin_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mechanisms"] == [NAME] and summary["equalisation_paid_total"] > 0
    assert (out / "figures" / f"mechanism_{NAME}.png").is_file()
    # its own parameter file is the config, checked against its schema like any other
    bad = sim(["sim", "run", f"+mechanism={NAME}", f"mechanism.{NAME}.rate=0.5", f"hydra.run.dir={tmp_path / 'bad'}"],
              tmp_path, plugin_path)
    assert bad.returncode == 2 and f"mechanism.{NAME}.rate = 0.5 is outside its allowed range" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_unknown_without_the_package(tmp_path):
    done = sim(["sim", "run", f"+mechanism={NAME}", "years=1", f"hydra.run.dir={tmp_path / 'run'}"], tmp_path)
    assert done.returncode != 0 and f"mechanism/{NAME}" in done.stderr and "three_tier" in done.stderr


def test_installing_a_plugin_without_traits_leaves_other_runs_unchanged(plugin_path, tmp_path):
    digests = []
    for plugin in (None, plugin_path):
        out = tmp_path / f"run{len(digests)}"
        done = sim(["sim", "run", "+mechanism=three_tier", "years=4", "output.figures=false", f"hydra.run.dir={out}"],
                   tmp_path, plugin)
        assert done.returncode == 0, done.stderr
        digests.append([hashlib.sha256((out / f).read_bytes()).hexdigest() for f in ("timeseries.parquet", "cities.parquet")])
    assert digests[0] == digests[1]


def test_plugin_passes_the_shared_harness(plugin_path):
    root = Path(__file__).parent.parent
    env = {"SIM_HARNESS_MECHANISMS": NAME}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_mechanism_harness.py"],
                          cwd=root, capture_output=True, text=True,
                          env={**os.environ, **env, "PYTHONPATH": str(plugin_path)})
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
