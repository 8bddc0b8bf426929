"""Registering the schema with Hydra, checking ranges, and composing configs from Python.

Hydra catches unknown keys and wrong types; this module adds the range and choice checks
that dataclasses cannot express, with messages that name the key, the value, where the
value came from and what to do instead.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from pathlib import Path
from collections.abc import Sequence

from hydra import compose, initialize_config_module
from hydra.core.config_store import ConfigStore
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf

from sim.config import posterior
from sim.errors import ConfigError
from sim.mechanisms import registry
from sim.config.schema import SYNTHETIC_KEYS, Config, leaf_fields

CONFIG_MODULE = "sim.runs.configs"
CONFIG_NAME = "config"


def register_schema() -> None:
    """Make the schema available as ``base_config`` to the primary config's defaults list, and
    every registered mechanism's typed config as ``mechanism/<name>``."""
    ConfigStore.instance().store(name="base_config", node=Config)
    registry.store_configs()


def _source(key: str, overrides: Sequence[str], choices: dict[str, str],
            primary: str = "sim/runs/configs/config.yaml") -> str:
    """Name the place a value came from: a command-line override or a config file."""
    for item in overrides:
        name = item.lstrip("+~").split("=", 1)[0]
        if name == key:
            return f"the command-line override '{item}'"
    group = key.split(".", 1)[0]
    if group == "mechanism" and key.count(".") >= 2:
        path = registry.config_path(key.split(".")[1])
        inside = Path(__file__).parents[2]
        return str(path.relative_to(inside) if path.is_relative_to(inside) else path)
    if group in choices and choices[group]:
        return f"sim/configs/{group}/{choices[group]}.yaml"
    return primary


def value_problem(key: str, value, meta: dict) -> str | None:
    if value is None:
        return None
    if OmegaConf.is_list(value) or isinstance(value, list):   # every element in range
        return next((problem for v in value if (problem := value_problem(key, v, meta))), None)
    choices = meta.get("choices") or ()
    if choices and value not in choices:
        return f"{key} = {value!r} is not one of {', '.join(map(repr, choices))}"
    lo, hi = meta.get("lo", -math.inf), meta.get("hi", math.inf)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or not lo <= value <= hi:
            return f"{key} = {value!r} is outside its allowed range [{lo:g}, {hi:g}]"
    return None


def schema_fields(cfg: DictConfig):
    """(key, field) of the top-level schema and of every selected mechanism's schema."""
    yield from leaf_fields(Config)
    selected = cfg.get("mechanism") or {}
    for name, schema in registry.schemas().items():
        if name in selected:
            yield from leaf_fields(schema, f"mechanism.{name}.")


def _leaf_keys(node, prefix: str = ""):
    """Dotted keys of a config's leaves (a list is one leaf)."""
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaf_keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def unknown_keys(cfg: DictConfig) -> list[tuple[str, str]]:
    """Keys that no schema declares. Hydra rejects them when set as ``key=value`` but lets
    ``+key=value`` add them to a structured config, where nothing would ever read them."""
    known = {key for key, _ in schema_fields(cfg)}
    data = OmegaConf.to_container(cfg, resolve=False)
    data.pop("hydra", None)
    problems = []
    for key in _leaf_keys(data):
        if key not in known:
            problems.append((key, _not_a_parameter(key, known)))
    return problems


def _not_a_parameter(key: str, known) -> str:
    near = difflib.get_close_matches(key, known, n=1)
    return f"{key} is not a parameter of the schema{f' (did you mean {near[0]}?)' if near else ''}"


CONFIG_GROUPS = ("region", "model", "mechanism", "experiment", "debug", "posterior")   # key=value chooses a file there
CHOSEN_GROUPS = ("region", "model", "debug", "posterior")   # in the primary config's defaults list: no '+'


def unknown_override_keys(overrides: Sequence[str]) -> list[tuple[str, str]]:
    """Plain ``key=value`` overrides (sweeps included) whose key no schema declares, found before
    Hydra composes: Hydra would reject them with its own message, whose advice ('+key=value')
    only adds a key that nothing reads."""
    known = {key for key, _ in leaf_fields(Config)}
    known |= {f"mechanism.{name}.{key}" for name, schema in registry.schemas().items()
              for key, _ in leaf_fields(schema)}
    problems = []
    for item in overrides:
        key = item.split("=", 1)[0]
        if item.startswith("+") and key.lstrip("+") in CHOSEN_GROUPS:
            problems.append((key[1:], f"{item} adds a second {key[1:]}, but the primary config already chooses one: "
                                  f"write {item[1:]} (without '+') to replace it"))
            continue
        if ("=" not in item or item.startswith(("+", "~", "-", "hydra")) or "/" in key or key in CONFIG_GROUPS
                or key in known or any(k.startswith(key + ".") for k in known)):
            continue
        problems.append((key, _not_a_parameter(key, known)))
    return problems


def range_problems(cfg: DictConfig) -> list[tuple[str, str]]:
    """(key, problem) for every key the schema does not know, and every leaf value outside its
    schema range or choices."""
    problems = unknown_keys(cfg)
    if problems:
        return problems
    for key, f in schema_fields(cfg):
        value = OmegaConf.select(cfg, key)
        problem = value_problem(key, value, dict(f.metadata))
        if problem:
            problems.append((key, problem))
    return problems


def selection_problems(cfg: DictConfig, overrides: Sequence[str]) -> list[tuple[str, str]]:
    """Mechanisms selected twice, and mechanism values set without selecting the mechanism."""
    problems = []
    for item in overrides:
        if item.lstrip("+~").split("=", 1)[0] == "mechanism" and "=" in item:
            from hydra.core.override_parser.overrides_parser import OverridesParser

            value = OverridesParser.create().parse_overrides([item])[0].value()
            names = value if isinstance(value, list) else [value]
            twice = sorted({str(n) for n in names if names.count(n) > 1})
            if twice:
                problems.append(("mechanism", f"{item} selects {', '.join(twice)} more than once; "
                                              "list each mechanism once"))
    schemas = registry.schemas()
    for name, values in (cfg.get("mechanism") or {}).items():
        schema = schemas.get(name)
        if schema is None or not isinstance(values, DictConfig):
            continue
        missing = [key for key, _ in leaf_fields(schema) if OmegaConf.is_missing(values, key) or key not in values]
        if missing:
            given = ", ".join(f"mechanism.{name}.{k}" for k in values)
            first = f"mechanism.{name}.{next(iter(values))}" if len(values) else f"mechanism.{name}"
            problems.append((first, f"{given or f'mechanism.{name}'} is set but mechanism {name} is "
                                                   f"not selected: add +mechanism={name} (or list it in "
                                                   f"+mechanism=[...]) to run it with that value"))
    return problems


SEED_MAX = 2**32 - 1   # numpy's seeds; the schema's range of seed


def region_problems(cfg: DictConfig) -> list[tuple[str, str]]:
    """Region settings that the chosen region would ignore (e.g. region.path without region=csv)."""
    region = cfg.get("region") or {}
    name = region.get("name")
    used = {"csv": ("path",), "synthetic": SYNTHETIC_KEYS}.get(name, ())
    return [(f"region.{key}", f"region.{key} is set but region={name} does not use it (it applies to "
                              f"region={'csv' if key == 'path' else 'synthetic'}); add that choice or drop the value")
            for key in ("path", *SYNTHETIC_KEYS) if key not in used and region.get(key) is not None]


def validate(cfg: DictConfig, overrides: Sequence[str] = (), choices: dict[str, str] | None = None) -> None:
    """Complete the config with its posterior draw, if one is selected (:func:`sim.config.posterior.attach`),
    then raise :class:`ConfigError` naming every out-of-range value and where it was set."""
    problems = (selection_problems(cfg, overrides) or posterior.attach(cfg, overrides) or region_problems(cfg)
                or range_problems(cfg))
    if not problems and int(cfg.seed) + int(cfg.replicates) - 1 > SEED_MAX:
        problems = [("seed", f"seed + replicates - 1 = {int(cfg.seed) + int(cfg.replicates) - 1} exceeds the largest "
                             f"seed, {SEED_MAX}; start lower")]
    if problems:
        raise config_error(problems, overrides, choices or {}, command="run", example="key=value",
                           listing="docs/ODD.md lists every parameter with its range")


def config_error(problems, overrides, choices, command: str, example: str, listing: str,
                 primary: str = "sim/runs/configs/config.yaml") -> ConfigError:
    """One paragraph naming each bad value, where it was set, and how to fix it."""
    lines = [f"{problem} (set in {_source(key, overrides, choices, primary)})" for key, problem in problems]
    return ConfigError(
        "Invalid configuration: " + "; ".join(lines) + ". Nothing was run. Fix the value in that "
        f"file or override, e.g. 'python -m sim {command} {example}'; 'python -m sim {command} --cfg job' "
        f"prints the resolved configuration and {listing}.")


def load_config(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose the configuration from Python exactly as ``python -m sim run`` would."""
    register_schema()
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        try:
            cfg = compose(config_name=CONFIG_NAME, overrides=list(overrides))
        except ConfigCompositionException as err:   # a wrong type, an unknown key or option
            cause = f": {str(err.__cause__).splitlines()[0]}" if err.__cause__ else ""
            raise ConfigError(f"Invalid configuration: {str(err).splitlines()[0]}{cause}. Nothing was run. "
                              "Fix the override; 'python -m sim run --cfg job' prints the resolved "
                              "configuration and docs/ODD.md lists every parameter with its type and range.") from None
    validate(cfg, overrides)
    return cfg


def resolved(cfg: DictConfig) -> dict:
    """The configuration as plain data, interpolations resolved (what config.json holds)."""
    return OmegaConf.to_container(cfg, resolve=True)


def config_hash(cfg: DictConfig | dict) -> str:
    """Stable short hash of the resolved configuration (a config or its :func:`resolved` data)
    without Hydra's own section."""
    container = dict(cfg) if isinstance(cfg, dict) else resolved(cfg)
    for key in ("hydra", "resume"):   # neither changes what a run computes
        container.pop(key, None)
    text = json.dumps(container, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def schema_keys() -> list[str]:
    """Dotted keys of every schema parameter, mechanisms included (for documentation checks)."""
    keys = [key for key, _ in leaf_fields(Config)]
    for name, schema in registry.schemas().items():
        keys += [key for key, _ in leaf_fields(schema, f"mechanism.{name}.")]
    return keys


__all__ = ["register_schema", "validate", "load_config", "resolved", "config_hash", "schema_keys", "range_problems"]
