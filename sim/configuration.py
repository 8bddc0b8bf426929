"""Registering the schema with Hydra, checking ranges, and composing configs from Python.

Hydra catches unknown keys and wrong types; this module adds the range and choice checks
that dataclasses cannot express, with messages that name the key, the value, where the
value came from and what to do instead.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence

from hydra import compose, initialize_config_module
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.errors import ConfigError
from sim.schema import Config, leaf_fields

CONFIG_MODULE = "sim.configs"
CONFIG_NAME = "config"


def register_schema() -> None:
    """Make the schema available as ``base_config`` to the primary config's defaults list."""
    ConfigStore.instance().store(name="base_config", node=Config)


def _source(key: str, overrides: Sequence[str], choices: dict[str, str],
            primary: str = "configs/config.yaml") -> str:
    """Name the place a value came from: a command-line override or a config file."""
    for item in overrides:
        name = item.lstrip("+~").split("=", 1)[0]
        if name == key:
            return f"the command-line override '{item}'"
    group = key.split(".", 1)[0]
    if group in choices and choices[group]:
        return f"configs/{group}/{choices[group]}.yaml"
    return primary


def _check_value(key: str, value, meta: dict) -> str | None:
    if value is None:
        return None
    choices = meta.get("choices") or ()
    if choices and value not in choices:
        return f"{key} = {value!r} is not one of {', '.join(map(repr, choices))}"
    lo, hi = meta.get("lo", -math.inf), meta.get("hi", math.inf)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or not lo <= value <= hi:
            return f"{key} = {value!r} is outside its allowed range [{lo:g}, {hi:g}]"
    return None


def _mechanism_schemas() -> dict[str, type]:
    from sim.mechanisms import schemas

    return schemas()


def _schema_fields(cfg: DictConfig):
    """(key, field) of the top-level schema and of every selected mechanism's schema."""
    yield from leaf_fields(Config)
    selected = cfg.get("mechanism") or {}
    for name, schema in _mechanism_schemas().items():
        if name in selected:
            yield from leaf_fields(schema, f"mechanism.{name}.")


def _mechanism_structure_problems(cfg: DictConfig) -> list[tuple[str, str]]:
    """Unknown keys and wrong types in mechanism configs (their schemas are not Hydra's)."""
    problems = []
    schemas = _mechanism_schemas()
    for name, values in (cfg.get("mechanism") or {}).items():
        if name not in schemas:
            continue
        try:
            OmegaConf.merge(OmegaConf.structured(schemas[name]), values)
        except Exception as err:  # omegaconf reports the key and the expected type
            key = f"mechanism.{name}.{getattr(err, 'key', '') or ''}".rstrip(".")
            problems.append((key, f"{key}: {str(err).splitlines()[0]}"))
    return problems


def range_problems(cfg: DictConfig) -> list[tuple[str, str]]:
    """(key, problem) for every leaf value outside its schema range or choices."""
    problems = _mechanism_structure_problems(cfg)
    if problems:
        return problems
    for key, f in _schema_fields(cfg):
        value = OmegaConf.select(cfg, key)
        problem = _check_value(key, value, dict(f.metadata))
        if problem:
            problems.append((key, problem))
    return problems


def validate(cfg: DictConfig, overrides: Sequence[str] = (), choices: dict[str, str] | None = None) -> None:
    """Raise :class:`ConfigError` naming every out-of-range value and where it was set."""
    problems = range_problems(cfg)
    if problems:
        raise config_error(problems, overrides, choices or {}, command="run", example="key=value",
                           listing="docs/ODD.md lists every parameter with its range")


def config_error(problems, overrides, choices, command: str, example: str, listing: str,
                 primary: str = "configs/config.yaml") -> ConfigError:
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
        cfg = compose(config_name=CONFIG_NAME, overrides=list(overrides))
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
    for name, schema in _mechanism_schemas().items():
        keys += [key for key, _ in leaf_fields(schema, f"mechanism.{name}.")]
    return keys


__all__ = ["register_schema", "validate", "load_config", "resolved", "config_hash", "schema_keys", "range_problems"]
