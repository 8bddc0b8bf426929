"""docs/ODD.md stays in step with the code: every parameter documented once with its default,
and the schedule described in the order of ``CityModel.step``."""

from __future__ import annotations

import ast
import inspect
import math
import re
import textwrap
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sim.model import city_model as model_module
from sim.config.loading import load_config, schema_keys
from sim.mechanisms import Mechanism
from sim.model.city_model import CityModel
from sim.model.recorder import Recorder

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def section(text: str, title: str) -> str:
    """The body of the level-2 section whose heading contains ``title``."""
    match = re.search(rf"^## [^\n]*{re.escape(title)}[^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/ODD.md has no '## ... {title}' section"
    return match.group(1)


def cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


@pytest.fixture(scope="module")
def odd() -> str:
    assert ODD.exists(), f"{ODD} is missing"
    return ODD.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def parameter_rows(odd) -> list[list[str]]:
    """Rows of the parameter tables: lines of the Parameters section starting with '| `'."""
    rows = [cells(line) for line in section(odd, "Parameters").splitlines() if line.startswith("| `")]
    assert rows, "no parameter table rows ('| `key` | default | ...') found in the Parameters section"
    return rows


def table_key(row: list[str]) -> str:
    first = row[0]
    assert first.startswith("`") and first.endswith("`"), f"first cell {first!r} is not a key in backticks"
    return first.strip("`")


def test_every_schema_key_is_documented_exactly_once(parameter_rows):
    keys = [table_key(row) for row in parameter_rows]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    expected = set(schema_keys())
    missing = sorted(expected - set(keys))
    extra = sorted(set(keys) - expected)
    assert not missing and not extra, (
        "docs/ODD.md parameter tables and sim/config/schema.py disagree.\n"
        f"  missing from the ODD ({len(missing)}): {missing}\n"
        f"  in the ODD but not in the schema ({len(extra)}): {extra}"
    )
    assert not duplicated, f"keys documented more than once in docs/ODD.md: {duplicated}"


def test_rows_have_five_columns(parameter_rows):
    bad = [row[0] for row in parameter_rows if len(row) != 5]
    assert not bad, f"parameter rows without exactly 5 cells (key, default, range, meaning, source): {bad}"


def _default(cfg, key: str):
    """A key's composed value; an interpolation (posterior.draw is ${seed}) as written."""
    raw = OmegaConf.to_container(cfg, resolve=False)
    for part in key.split("."):
        raw = raw[part]
    return raw if isinstance(raw, str) and raw.startswith("${") else OmegaConf.select(cfg, key)


def _matches(documented: str, value) -> bool:
    text = documented.strip().strip("`").strip()
    if isinstance(value, bool):
        return text.lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            number = float(text.replace("−", "-"))
        except ValueError:
            return False
        return math.isclose(number, float(value), rel_tol=1e-9, abs_tol=1e-12)
    return text == str(value) or (value == "" and text == "(empty)")


def test_documented_defaults_equal_the_composed_config(parameter_rows):
    configs = {}
    wrong = []
    for row in parameter_rows:
        key = table_key(row)
        if key.startswith("region."):
            continue  # documented from sim/runs/configs/region/synthetic.yaml, not the default region
        # A mechanism's defaults are those of its config file, composed with +mechanism=NAME.
        group = key.split(".")[1] if key.startswith("mechanism.") else ""
        if group not in configs:
            configs[group] = load_config([f"+mechanism={group}"] if group else [])
        value = _default(configs[group], key)
        if not _matches(row[1], value):
            wrong.append(f"{key}: ODD says {row[1]!r}, config gives {value!r}")
    assert not wrong, "docs/ODD.md defaults differ from the composed config:\n  " + "\n  ".join(wrong)


def schedule_calls() -> list[str]:
    """Names of the schedule's steps, in the order ``CityModel.step`` calls them.

    A step is a call of a CityModel method, a Mechanism hook, a Recorder method or a
    function defined in sim.model.city_model (such as ``attention``).
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(CityModel.step)))
    calls = sorted((node for node in ast.walk(tree) if isinstance(node, ast.Call)),
                   key=lambda node: (node.lineno, node.col_offset))
    local_functions = {name for name, obj in vars(model_module).items()
                       if inspect.isfunction(obj) and obj.__module__ == model_module.__name__}
    names = []
    for call in calls:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        known = (name in local_functions or name in vars(CityModel) or name in vars(Mechanism)
                 or name in vars(Recorder))
        if known and name not in names:
            names.append(name)
    return names


def test_schedule_is_read_from_the_code():
    steps = schedule_calls()
    core = ["cooperate", "attract_investment", "account_and_grow", "learn", "update_trust"]
    assert [s for s in steps if s in core] == core, f"CityModel.step calls {steps}"


def test_process_overview_follows_the_schedule(odd):
    text = section(odd, "Process overview")
    steps = schedule_calls()
    positions = {}
    for name in steps:
        found = re.search(rf"`(?:[\w.]+\.)?{re.escape(name)}(?:\(|`)", text)
        assert found, f"the Process overview section of docs/ODD.md does not name the step `{name}`"
        positions[name] = found.start()
    documented = sorted(steps, key=positions.get)
    assert documented == steps, (
        f"docs/ODD.md describes the schedule in the order {documented}; CityModel.step runs {steps}"
    )
