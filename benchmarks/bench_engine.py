"""Engine: strategy updates per second of the ``lattice_pgg`` study at L = 100.

    python benchmarks/bench_engine.py [--repeats 2]

Calls ``bench()`` of ``experiments/reproduce_published.py`` (the ``--bench`` mode: JIT warm-up,
then two runs of 1000 sweeps at L = 100, r = 4.5, random numbers included) ``repeats`` times in
this process and takes the median of the rates it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, monitor, publish, stats  # noqa: E402

RATE = re.compile(r"L = (\d+), r = ([\d.]+), (\d+) sweeps: ([\d.]+) M updates/s")


def _reproduce_published():
    path = ROOT / "experiments" / "reproduce_published.py"
    spec = importlib.util.spec_from_file_location("reproduce_published", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(repeats: int = 2) -> dict:
    bench = _reproduce_published().bench
    rates, lines = [], []
    with monitor() as load:
        for _ in range(repeats):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                bench()
            for line in buffer.getvalue().splitlines():
                if m := RATE.search(line):
                    rates.append(float(m.group(4)) * 1e6)
                    lines.append(line)
    if not rates:
        raise RuntimeError("experiments/reproduce_published.py bench() printed no rate")
    return {"study": "lattice_pgg", "size": 100, "r": 4.5, "sweeps_per_run": 1000,
            "source": "experiments/reproduce_published.py:bench", "updates_per_s": stats(rates),
            "output": lines, "load": load.as_dict()}


def markdown(r: dict) -> list[str]:
    u = r["updates_per_s"]
    return ["| engine (lattice_pgg, L = 100, r = 4.5) | value | foreign load (cores) |", "|---|---|---|",
            f"| strategy updates per second, median of {u['n']} runs of 1000 sweeps | "
            f"{u['median'] / 1e6:.2f} M/s | {r['load']['foreign_cores']:.2f} |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    opts = parser.parse_args()
    result = run(opts.repeats)
    publish(result, "engine", markdown)


if __name__ == "__main__":
    main()
