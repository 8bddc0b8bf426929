"""Default run: model time per simulated year and whole-command wall time.

    python benchmarks/bench_default_run.py [--repeats 5]

* model time per simulated year: ``CityModel.step()`` alone, in this process, default region
  (middle_yangtze), all three mechanisms, seeds 0..repeats-1 after one untimed warm-up run;
* whole-command wall time of ``python -m sim run '+mechanism=[three_tier,enclave,joint_investment]'``
  with figures (the default) and with ``output.figures=false``, each a fresh process (start-up,
  config, simulation, parquet, figures), and of ``python -m sim run +mechanism=three_tier`` (the
  command the 4 s target names). Commands are interleaved across repeats; medians.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import merge_loads, monitor, publish, run_cli, stats  # noqa: E402

ALL_MECHANISMS = "+mechanism=[three_tier,enclave,joint_investment]"
COMMANDS = {
    "all_mechanisms_with_figures": [ALL_MECHANISMS],
    "all_mechanisms_without_figures": [ALL_MECHANISMS, "output.figures=false"],
    "three_tier_with_figures": ["+mechanism=three_tier"],
}


def model_seconds_per_year(repeats: int, overrides: list[str]) -> tuple[dict, dict]:
    """Time of model steps alone (no set-up, no I/O) per simulated year, one value per seed."""
    from sim.config.loading import load_config
    from sim.model.city_model import CityModel
    from sim.data import load_region

    cfg = load_config(overrides)
    times = []
    with monitor() as load:
        for seed in [0, *range(repeats)]:   # the first run warms caches and lazy imports
            cfg.seed = seed
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = CityModel(cfg, load_region(cfg.region))
            start = time.perf_counter()
            for _ in range(cfg.years):
                model.step()
            times.append((time.perf_counter() - start) / cfg.years)
    return stats(times[1:]), load.as_dict()


def command_seconds(repeats: int) -> dict:
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    loads: dict[str, list[dict]] = {k: [] for k in COMMANDS}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            for key, args in COMMANDS.items():
                with monitor() as load:
                    times[key].append(run_cli(["run", *args, f"hydra.run.dir={tmp}/{key}_{i}"], cwd=tmp))
                loads[key].append(load.as_dict())
    return {key: {"command": "python -m sim run " + " ".join(COMMANDS[key]), "wall_s": stats(times[key]),
                  "load": merge_loads(loads[key])} for key in COMMANDS}


def run(repeats: int = 5) -> dict:
    per_year, load = model_seconds_per_year(repeats, [ALL_MECHANISMS])
    commands = command_seconds(repeats)
    with_fig = commands["all_mechanisms_with_figures"]["wall_s"]["median"]
    without = commands["all_mechanisms_without_figures"]["wall_s"]["median"]
    return {"region": "middle_yangtze (default)", "mechanisms": ALL_MECHANISMS, "years": 20, "repeats": repeats,
            "model_seconds_per_year": {**per_year, "load": load}, "commands": commands,
            "ratio_with_to_without_figures": with_fig / without}


def markdown(r: dict) -> list[str]:
    c = r["commands"]
    py = r["model_seconds_per_year"]
    rows = [("model time per simulated year (steps only, all mechanisms)",
             f"{py['median'] * 1e3:.2f} ms", py["load"]["foreign_cores"])]
    for key, label in (("all_mechanisms_with_figures", "whole command, all mechanisms, with figures"),
                       ("all_mechanisms_without_figures", "whole command, all mechanisms, without figures"),
                       ("three_tier_with_figures", "whole command `python -m sim run +mechanism=three_tier`")):
        rows.append((label, f"{c[key]['wall_s']['median']:.2f} s", c[key]["load"]["foreign_cores"]))
    md = [f"| default run (middle_yangtze, 20 years), median of {r['repeats']} | value | foreign load (cores) |",
          "|---|---|---|"]
    md += [f"| {a} | {b} | {f:.2f} |" for a, b, f in rows]
    md.append(f"\nRatio of wall time with / without figures (all mechanisms): {r['ratio_with_to_without_figures']:.2f}.")
    return md


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    opts = parser.parse_args()
    result = run(opts.repeats)
    publish(result, "default_run", markdown)


if __name__ == "__main__":
    main()
