"""Parameters drawn from a calibration's posterior: ``posterior=<name>``.

``python -m sim calibrate`` writes its posterior as equally weighted draws (``posterior_draws.csv``:
one row per draw, one column per dotted config key). Selecting a posterior (``posterior=yrd_council``,
or ``posterior=csv posterior.path=FILE``) sets each of those keys to its value in draw
``posterior.draw`` modulo the number of draws. The draw is the run's seed unless set, so a sweep
over seeds samples the posterior predictive distribution (draws x seeds) and ``config.json``
records the values each run used.

The keys are set as interpolations (``${posterior:KEY}``) resolved when read: replicates and
batches that change only the seed follow the draw. A key also given on the command line keeps the
command line's value (e.g. a null model that switches one rule off).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from sim.errors import ConfigError

RESOLVER = "posterior"
PACKAGED = "pkg://"


class Draws:
    """Equally weighted parameter sets: ``values[key][k]`` is key's value in draw k."""

    def __init__(self, values: dict[str, list], source: str) -> None:
        self.values, self.source = values, source
        self.count = len(next(iter(values.values())))

    def value(self, key: str, draw: int):
        return self.values[key][int(draw) % self.count]


def _scalar(text: str, where: str):
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    raise ConfigError(f"{where} holds {text!r}, which is not a number or true/false. Each column of a draws file "
                      "is a numeric or boolean parameter (python -m sim calibrate writes posterior_draws.csv).")


@functools.lru_cache(maxsize=8)
def read_draws(path: str) -> Draws:
    """The draws in a CSV file (``#`` lines are comments), or a :class:`ConfigError` saying what is wrong."""
    if path.startswith(PACKAGED):
        module, _, name = path[len(PACKAGED):].partition("/")
        file = resources.files(module).joinpath(name)
    else:
        file = Path(path)
    if not path or not file.is_file():
        raise ConfigError(f"posterior.path={path!r}: no such file. Give the posterior_draws.csv that python -m sim "
                          "calibrate wrote (posterior=csv posterior.path=FILE), or an embedded posterior "
                          "(posterior=yrd_council).")
    lines = [line for line in file.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    rows = list(csv.reader(lines))
    if len(rows) < 2 or not all(rows[0]):
        raise ConfigError(f"posterior.path={path!r} has no draws: it needs a header of dotted config keys (e.g. "
                          "mechanism.three_tier.entry_rate) and one row per draw.")
    header = rows[0]
    values: dict[str, list] = {key: [] for key in header}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ConfigError(f"posterior.path={path!r}, data row {number - 1}: {len(row)} values for "
                              f"{len(header)} columns. Each row is one draw with a value for every column.")
        for key, text in zip(header, row):
            values[key].append(_scalar(text, f"posterior.path={path!r}, column {key}, data row {number - 1}"))
    return Draws(values, path)


def _resolve(key: str, _root_: DictConfig):
    node = _root_.posterior
    return read_draws(str(node.path)).value(key, int(node.draw))


if not OmegaConf.has_resolver(RESOLVER):
    OmegaConf.register_new_resolver(RESOLVER, _resolve, use_cache=False)


def attach(cfg: DictConfig, overrides: Sequence[str] = ()) -> list[tuple[str, str]]:
    """Point every key of the selected posterior's draws at the draw (in place); returns
    (key, problem) pairs for a posterior that cannot apply to this config."""
    node = cfg.get("posterior")
    if node is None or node.name == "none":
        return []
    try:
        draws = read_draws(str(node.path))
    except ConfigError as err:
        return [("posterior.path", str(err).rstrip("."))]
    given = {item.lstrip("+~").split("=", 1)[0] for item in overrides}
    selected = cfg.get("mechanism") or {}
    missing = sorted({key.split(".")[1] for key in draws.values
                      if key.startswith("mechanism.") and key.split(".")[1] not in selected})
    if missing:
        return [("posterior", f"posterior={node.name} sets parameters of {', '.join(missing)}, which is not selected: "
                              f"add +mechanism={missing[0] if len(missing) == 1 else '[' + ','.join(missing) + ']'}")]
    unknown = [key for key in draws.values
               if key.split(".")[0] == "posterior" or OmegaConf.select(cfg, key, default=KeyError) is KeyError]
    if unknown:
        return [("posterior.path", f"posterior={node.name} sets {', '.join(unknown)}, which this configuration does "
                                   f"not have: {draws.source} names keys that are no parameters of the schema")]
    for key in draws.values:
        if key not in given:
            OmegaConf.update(cfg, key, f"${{{RESOLVER}:{key}}}", merge=False)
    return []
