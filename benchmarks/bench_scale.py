"""Scale: time and peak memory against the number of cities.

    python benchmarks/bench_scale.py [--sizes 1000 4000 16000] [--repeats 3]

``region=synthetic region.n_cities=N``, 20 years, all three mechanisms, ``output.figures=false``.
Each (N, repeat) runs in a fresh ``python benchmarks/bench_scale.py --child N`` process, so its
peak resident memory (``VmHWM`` of ``/proc/self/status``, the high-water mark of the resident set;
interpreter and imports included) belongs to that N alone. The child times separately

* set-up: ``load_region`` (the synthetic layout) + ``CityModel(cfg, region)``;
* steps: the 20 ``model.step()`` calls;
* process: the child's whole wall time as seen by the parent (Python start-up, imports, config,
  set-up, steps), which is what the 30 s target is checked against.

The growth exponent is the log-log slope of time in N: between the two largest sizes, and
the least-squares slope over all sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PYTHON, merge_loads, monitor, publish, stats  # noqa: E402

MECHANISMS = "+mechanism=[three_tier,enclave,joint_investment]"


def overrides(n: int) -> list[str]:
    return ["region=synthetic", f"region.n_cities={n}", MECHANISMS, "output.figures=false", "years=20"]


def child(n: int) -> None:
    import warnings

    from sim.config.loading import load_config
    from sim.model.city_model import CityModel
    from sim.data import load_region

    cfg = load_config(overrides(n))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CityModel(cfg, load_region(cfg.region))
    setup = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(int(cfg.years)):
        model.step()
    steps = time.perf_counter() - start
    print(json.dumps({"n": model.n, "setup_s": setup, "steps_s": steps, "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """Peak resident memory of this process: VmHWM of /proc/self/status. (``ru_maxrss`` would also
    count the parent's resident memory at fork time, which Linux carries over across exec.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: kilobytes


def measure(n: int) -> dict:
    with monitor() as load:
        start = time.perf_counter()
        proc = subprocess.run([PYTHON, __file__, "--child", str(n)], capture_output=True, text=True)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"scale child N={n} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["n"] != n:
        raise RuntimeError(f"asked for {n} cities, the model has {out['n']}")
    return {**out, "process_s": wall, "load": load.as_dict()}


def slope(xs: list[float], ys: list[float]) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def run(sizes: list[int], repeats: int = 3) -> dict:
    samples: dict[int, list[dict]] = {n: [] for n in sizes}
    for _ in range(repeats):            # interleaved, so that load drifts hit every N alike
        for n in sizes:
            samples[n].append(measure(n))
    rows = []
    for n in sizes:
        s = samples[n]
        setup = stats([x["setup_s"] for x in s])
        steps = stats([x["steps_s"] for x in s])
        model = stats([x["setup_s"] + x["steps_s"] for x in s])
        rows.append({"n_cities": n, "setup_s": setup, "steps_s": steps, "model_s": model,
                     "steps_s_per_year": steps["median"] / 20,
                     "process_s": stats([x["process_s"] for x in s]),
                     "peak_rss_mb": max(x["peak_rss_mb"] for x in s),
                     "load": merge_loads([x["load"] for x in s])})
    ns = [r["n_cities"] for r in rows]
    exponents = {}
    for key in ("model_s", "setup_s", "steps_s"):
        ts = [r[key]["median"] for r in rows]
        exponents[key] = {"last_two": slope(ns[-2:], ts[-2:]), "all": slope(ns, ts),
                          "between": [ns[-2], ns[-1]]}
    return {"overrides": overrides(0)[:1] + ["region.n_cities=N", *overrides(0)[2:]], "repeats": repeats,
            "rows": rows, "growth_exponent": exponents}


def markdown(r: dict) -> list[str]:
    md = [f"| cities N (synthetic, 20 years, all mechanisms), median of {r['repeats']} | set-up | 20 steps "
          "| set-up + steps | whole process | peak RSS | foreign load (cores) |", "|---|---|---|---|---|---|---|"]
    for x in r["rows"]:
        md.append(f"| {x['n_cities']} | {x['setup_s']['median']:.2f} s | {x['steps_s']['median']:.2f} s | "
                  f"{x['model_s']['median']:.2f} s | {x['process_s']['median']:.2f} s | {x['peak_rss_mb']:.0f} MB | "
                  f"{x['load']['foreign_cores']:.2f} |")
    g = r["growth_exponent"]
    a, b = g["model_s"]["between"]
    md.append("")
    md.append(f"Growth exponent of time in N (log-log slope), {a}-{b} / least squares over all sizes: "
              + "; ".join(f"{label} {g[k]['last_two']:.2f} / {g[k]['all']:.2f}"
                          for k, label in (("model_s", "set-up + steps"), ("setup_s", "set-up"),
                                           ("steps_s", "steps"))) + ".")
    return md


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child(opts.child)
        return
    result = run(sorted(opts.sizes), opts.repeats)
    publish(result, "scale", markdown)


if __name__ == "__main__":
    main()
