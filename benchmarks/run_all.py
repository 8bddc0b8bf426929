"""Run every benchmark and write one results table with the machine description.

    python benchmarks/run_all.py            # full suite, about 11 minutes on 2 idle cores
    python benchmarks/run_all.py --quick    # fewer repeats and 20 seeds per sweep design, about 2 minutes

Writes ``benchmarks/results/benchmarks.json`` and ``benchmarks/results/benchmarks.md`` (git
ignores the folder) and prints the markdown. Timings are medians of repeated runs; comparisons
are ratios of measurements taken in this session. Every result carries the load average
(:func:`os.getloadavg`) before and after it and the CPU used by other processes meanwhile
(``foreign_cores``); targets are reported as PASS / FAIL / "n/a under load", never asserted.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_default_run  # noqa: E402
import bench_engine  # noqa: E402
import bench_scale  # noqa: E402
import bench_sweeps  # noqa: E402
from common import LOADED_CORES, RESULTS, machine, max_slowdown, verdict, write_json  # noqa: E402

SETTINGS = {
    "full": {"default_repeats": 5, "scale_repeats": 3, "sweep_seeds": 100, "sweep_repeats": 3,
             "efficiency_repeats": 2, "engine_repeats": 2},
    "quick": {"default_repeats": 2, "scale_repeats": 1, "sweep_seeds": 20, "sweep_repeats": 1,
              "efficiency_repeats": 1, "engine_repeats": 1},
}
BENCHMARKS = ("engine", "default", "scale", "sweeps")


def target(name: str, value: float, limit: float, unit: str, higher_is_better: bool, loads: list[dict],
           low: float | None = None, high: float | None = None, work_cores: float = 1, fmt: str = "{:.2f}") -> dict:
    """A target row: the measured value, its verdict and the load it was measured under.

    ``low``/``high`` bound the unloaded value; by default those of a single measurement that
    load can only slow down (a time, or a rate if ``higher_is_better``) on ``work_cores`` cores.
    """
    worst = max(loads, key=lambda x: x["foreign_cores"])
    s = max_slowdown(worst["foreign_cores"], work_cores)
    if low is None or high is None:
        low, high = (value, value * s) if higher_is_better else (value / s, value)
    return {"target": name, "limit": f"{'≥' if higher_is_better else '≤'} {fmt.format(limit)} {unit}".strip(),
            "measured": f"{fmt.format(value)} {unit}".strip(), "value": value, "unloaded_range": [low, high],
            "verdict": verdict(value, limit, higher_is_better, low, high),
            "foreign_cores": worst["foreign_cores"], "loadavg_before": loads[0]["loadavg_before"],
            "loadavg_after": loads[-1]["loadavg_after"]}


def slowdown(load: dict, work_cores: float) -> float:
    return max_slowdown(load["foreign_cores"], work_cores)


def targets(results: dict) -> list[dict]:
    rows = []
    if "default" in results:
        d = results["default"]
        py = d["model_seconds_per_year"]
        rows.append(target("default run: model time per simulated year (all mechanisms)", py["median"] * 1e3, 1,
                           "ms", False, [py["load"]]))
        c = d["commands"]["three_tier_with_figures"]
        rows.append(target("`python -m sim run +mechanism=three_tier`, whole command with figures",
                           c["wall_s"]["median"], 2, "s", False, [c["load"]]))
    if "scale" in results:
        s = results["scale"]
        big = max(s["rows"], key=lambda r: r["n_cities"])
        n = big["n_cities"]
        rows.append(target(f"{n} cities x 20 years, all mechanisms: whole process time", big["process_s"]["median"],
                           15, "s", False, [big["load"]]))
        gb = big["peak_rss_mb"] / 1024   # memory does not depend on load
        rows.append(target(f"{n} cities x 20 years, all mechanisms: peak RSS", gb, 2, "GB", False, [big["load"]],
                           low=gb, high=gb))
        g = s["growth_exponent"]["model_s"]
        a, b = g["between"]
        ra, rb = (next(r for r in s["rows"] if r["n_cities"] == k) for k in (a, b))
        ta, tb = ra["model_s"]["median"], rb["model_s"]["median"]
        sa, sb = slowdown(ra["load"], 1), slowdown(rb["load"], 1)
        rows.append(target(f"growth exponent of time (set-up + steps) in N, {a}-{b}", g["last_two"], 1.1, "",
                           False, [ra["load"], rb["load"]], low=math.log(tb / sb / ta) / math.log(b / a),
                           high=math.log(tb / (ta / sa)) / math.log(b / a)))
    if "sweeps" in results:
        w = results["sweeps"]
        n2, batch = w["sweep_n2"], w["batch_run"]
        ratio = w["ratio_sweep_to_batch_run"]
        rows.append(target("sweep runs/s relative to mesa.batch_run", ratio, 3, "x", True, [n2["load"], batch["load"]],
                           low=ratio / slowdown(batch["load"], 2), high=ratio * slowdown(n2["load"], 2)))
        table, ratio = w["sweep_table_n2"], w["ratio_table_sweep_to_batch_run"]
        rows.append(target("sweep runs/s relative to mesa.batch_run, output.layout=table", ratio, 3, "x", True,
                           [table["load"], batch["load"]], low=ratio / slowdown(batch["load"], 2),
                           high=ratio * slowdown(table["load"], 2)))
        if "parallel_efficiency" in w:
            eff = w["parallel_efficiency"] * 100
            n1 = w["sweep_n1"]
            rows.append(target("sweep parallel efficiency on 2 cores, T1 / (2 T2)", eff, 85, "%", True,
                               [n1["load"], n2["load"]], low=eff / slowdown(n1["load"], 1),
                               high=eff * slowdown(n2["load"], 2), fmt="{:.1f}"))
    if "engine" in results:
        e = results["engine"]
        rows.append(target("engine: lattice_pgg strategy updates per second (L = 100)",
                           e["updates_per_s"]["median"] / 1e6, 5, "M/s", True, [e["load"]]))
    return rows


def markdown(report: dict) -> str:
    m = report["machine"]
    v = m["versions"]
    md = [f"# Benchmark results ({report['mode']})", "",
          f"Command: `{report['command']}`, {report['started']}, {report['total_minutes']:.1f} min in all.", "",
          f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, {m['platform']}; "
          f"Python {v['python']}, Mesa {v['mesa']}, NumPy {v['numpy']}, numba {v['numba']}, "
          f"hydra-core {v['hydra-core']}, joblib {v['joblib']}; sim at git {m['git']}.", "",
          f"Load: `os.getloadavg()` was {m['loadavg_at_start']} at the start and "
          f"{report['loadavg_at_end']} at the end; each row gives it before → after its measurement and the "
          f"CPU used by other processes meanwhile (foreign cores, from /proc/stat minus our own CPU time). "
          f"A measurement with ≥ {LOADED_CORES} foreign cores counts as taken under load.", "",
          "## Targets", "",
          "| target | limit | measured | verdict | range allowing for load | foreign cores "
          "| loadavg (1 min) before → after |",
          "|---|---|---|---|---|---|---|"]
    for t in report["targets"]:
        low, high = t["unloaded_range"]
        span = "-" if math.isclose(low, high) else f"{low:.3g} – {high:.3g}"
        md.append(f"| {t['target']} | {t['limit']} | {t['measured']} | **{t['verdict']}** | {span} | "
                  f"{t['foreign_cores']:.2f} | {t['loadavg_before'][0]:.2f} → {t['loadavg_after'][0]:.2f} |")
    if report.get("errors"):
        md += ["", f"Not measured (benchmark failed, see below): {', '.join(report['errors'])}; their targets are "
               "missing from this table."]
    sections = (("engine", "Engine", bench_engine), ("default", "Default run", bench_default_run),
                ("scale", "Scale", bench_scale), ("sweeps", "Sweep throughput", bench_sweeps))
    for key, title, module in sections:
        if key in report["results"]:
            md += ["", f"## {title}", "", *module.markdown(report["results"][key])]
        elif key in report.get("errors", {}):
            md += ["", f"## {title}", "", "**Failed**, no result:", "", "```",
                   report["errors"][key].strip()[-1500:], "```"]
    return "\n".join(md) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 20 seeds per sweep design")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    parser.add_argument("--out", type=Path, default=RESULTS)
    opts = parser.parse_args()
    mode = "quick" if opts.quick else "full"
    cfg = SETTINGS[mode]
    report = {"mode": mode, "settings": cfg, "command": " ".join(["python benchmarks/run_all.py", *sys.argv[1:]]),
              "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": machine(), "results": {}}
    start = time.perf_counter()
    runners = {
        "engine": lambda: bench_engine.run(cfg["engine_repeats"]),
        "default": lambda: bench_default_run.run(cfg["default_repeats"]),
        "scale": lambda: bench_scale.run([1000, 4000, 16000], cfg["scale_repeats"]),
        "sweeps": lambda: bench_sweeps.run(cfg["sweep_seeds"], cfg["sweep_repeats"], cfg["efficiency_repeats"]),
    }
    for name in BENCHMARKS:
        if opts.only and name not in opts.only:
            continue
        print(f"[{time.perf_counter() - start:6.0f} s] {name} ...", file=sys.stderr, flush=True)
        try:
            report["results"][name] = runners[name]()
        except Exception as err:   # report it and go on with the other benchmarks
            print(f"{name} failed: {err}", file=sys.stderr)
            report.setdefault("errors", {})[name] = f"{type(err).__name__}: {err}"
        write_json(report, opts.out / "benchmarks.partial.json")   # survives an interrupted suite
    report["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["total_minutes"] = (time.perf_counter() - start) / 60
    report["targets"] = targets(report["results"])
    write_json(report, opts.out / "benchmarks.json")
    (opts.out / "benchmarks.partial.json").unlink(missing_ok=True)
    text = markdown(report)
    (opts.out / "benchmarks.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
