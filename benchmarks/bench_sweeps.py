"""Sweep throughput: the same runs through our sweep path and through ``mesa.batch_run``.

    python benchmarks/bench_sweeps.py [--seeds 100] [--repeats 3] [--efficiency-repeats 2]

4 designs (none, three_tier, enclave, joint_investment) x ``seeds`` seeds, default region,
20 years, measured in one session:

* our sweep path: ``python -m sim run -m '+mechanism=none,three_tier,enclave,joint_investment'
  'seed=range(0,SEEDS,R)' replicates=R hydra/launcher=joblib output.figures=false
  output.events=false hydra.launcher.n_jobs=2`` with R = gcd(SEEDS, 50) replicates per job
  (n_jobs=2 is joblib's default -1 on this 2-core machine), whole command timed, every run's
  summary.json counted;
* the same sweep with ``output.layout=table`` (one table per kind per job instead of a folder
  per run), every run counted in the jobs' summaries.json;
* ``mesa.batch_run(BatchCityModel, {"design": [...], "seed": range(SEEDS)}, number_processes=2,
  iterations=1, max_steps=20, data_collection_period=-1)`` called in this process (never inside
  a Hydra/joblib worker: it forces the spawn start method), pool start-up included;
* the same sweep with ``hydra.launcher.n_jobs=1`` for the parallel efficiency T1 / (2 T2);
* ``batch_run`` with one process, for batch_run's own efficiency on this machine: a reference
  for what two cores give here when both are busy (shared caches, clock), whatever the tool.

Our sweep path also writes each run's folder (parquet tables, config.json, summary.json with
provenance); batch_run writes nothing and returns the same summary metrics in memory.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import merge_loads, monitor, publish, run_cli, stats  # noqa: E402

DESIGNS = ("none", "three_tier", "enclave", "joint_investment")
# Replicates per job: the runs of a job share its config composition (~0.25 s) where it runs.
# 50 splits each design's 100 seeds into two jobs that the two workers run side by side, so no
# core idles at the end (measured, 400 runs, n_jobs=2: 35.0 s with 25 per job, 31.9 s with 50).
PER_JOB = 50


def per_job(seeds: int) -> int:
    """Replicates per job, dividing ``seeds`` so that the jobs cover them exactly."""
    return math.gcd(seeds, PER_JOB)


def sweep_args(seeds: int, n_jobs: int, layout: str = "folders") -> list[str]:
    r = per_job(seeds)
    return ["run", "-m", f"+mechanism={','.join(DESIGNS)}", f"seed=range(0,{seeds},{r})",
            f"replicates={r}", "hydra/launcher=joblib", "output.figures=false", "output.events=false",
            f"output.layout={layout}", f"hydra.launcher.n_jobs={n_jobs}"]


def time_sweep(seeds: int, n_jobs: int, layout: str = "folders") -> tuple[float, dict]:
    runs = len(DESIGNS) * seeds
    with tempfile.TemporaryDirectory() as tmp, monitor() as load:
        elapsed = run_cli([*sweep_args(seeds, n_jobs, layout), f"hydra.sweep.dir={tmp}/s"], cwd=tmp)
        done = sum(1 for _ in Path(tmp, "s").rglob("summary.json")) + sum(
            len(json.loads(p.read_text())["runs"]) for p in Path(tmp, "s").rglob("summaries.json"))
    if done != runs:
        raise RuntimeError(f"sweep with n_jobs={n_jobs}: expected {runs} runs, found {done}")
    return elapsed, load.as_dict()


def time_batch_run(seeds: int, processes: int = 2) -> tuple[float, dict]:
    from mesa.batchrunner import batch_run

    from batch_model import BatchCityModel

    runs = len(DESIGNS) * seeds
    with monitor() as load:
        start = time.perf_counter()
        rows = batch_run(BatchCityModel, {"design": list(DESIGNS), "seed": range(seeds)},
                         number_processes=processes, iterations=1, max_steps=20, data_collection_period=-1,
                         display_progress=False)
        elapsed = time.perf_counter() - start
    if len(rows) != runs or any(r["Step"] != 19 or r["cooperation_index"] is None for r in rows):
        raise RuntimeError(f"batch_run: expected {runs} finished 20-year runs, got {len(rows)}")
    return elapsed, load.as_dict()


def per_run_breakdown(runs: int = 10) -> dict:
    """Diagnostic, in this process: where one run of the sweep path spends its time (three_tier,
    default region), next to what BatchCityModel does per run. Milliseconds per run, medians."""
    import warnings

    from sim.config.loading import config_hash, load_config
    from sim.provenance import git_revision, package_versions
    from sim.runs.runner import simulate, write_run

    from batch_model import BatchCityModel

    cfg = load_config(["+mechanism=three_tier", "output.figures=false", "output.events=false"])
    parts: dict[str, list[float]] = {"batch_run model (build, 20 steps, summary)": [],
                                     "simulate() (same, plus run tables and provenance)": [],
                                     "provenance alone (git_revision, package_versions, config_hash; part of simulate())": [],
                                     "write_run() (parquet tables, config.json, summary.json)": []}
    keys = list(parts)

    def timed(key, fn):
        start = time.perf_counter()
        out = fn()
        parts[key].append((time.perf_counter() - start) * 1e3)
        return out

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate(cfg)   # warm-up
        for seed in range(runs):
            cfg.seed = seed
            def batch(seed=seed):
                m = BatchCityModel("three_tier", seed)
                while m.running:
                    m.step()
            timed(keys[0], batch)
            result = timed(keys[1], lambda: simulate(cfg))
            timed(keys[2], lambda: (git_revision(), package_versions(), config_hash(cfg)))
            timed(keys[3], lambda: write_run(result, cfg, Path(tmp, str(seed)), "bench"))
    return {k: statistics.median(v) for k, v in parts.items()}


def run(seeds: int = 100, repeats: int = 3, efficiency_repeats: int = 2) -> dict:
    """Interleaved repeats (sweep n_jobs=2, batch_run, sweep n_jobs=1, batch_run with one process)
    so that slow drifts in the machine's load hit all alike; medians over repeats.
    ``efficiency_repeats`` = 0 skips the single-core measurements."""
    runs = len(DESIGNS) * seeds
    measure = {"sweep_n2": lambda: time_sweep(seeds, 2), "batch_run": lambda: time_batch_run(seeds),
               "sweep_table_n2": lambda: time_sweep(seeds, 2, "table"),
               "sweep_n1": lambda: time_sweep(seeds, 1), "batch_run_p1": lambda: time_batch_run(seeds, 1)}
    times: dict[str, list[float]] = {k: [] for k in measure}
    loads: dict[str, list[dict]] = {k: [] for k in measure}
    for i in range(max(repeats, efficiency_repeats)):
        for key in measure:
            if i >= (efficiency_repeats if key in ("sweep_n1", "batch_run_p1") else repeats):
                continue
            t, load = measure[key]()
            times[key].append(t)
            loads[key].append(load)
    out = {"designs": list(DESIGNS), "seeds": seeds, "runs": runs, "years": 20, "repeats": repeats,
           "efficiency_repeats": efficiency_repeats,
           "command": "python -m sim " + " ".join(sweep_args(seeds, 2))}
    for key, values in times.items():
        if values:
            out[key] = {"wall_s": stats(values), "runs_per_s": runs / statistics.median(values),
                        "load": merge_loads(loads[key])}
    out["ratio_sweep_to_batch_run"] = out["sweep_n2"]["runs_per_s"] / out["batch_run"]["runs_per_s"]
    out["ratio_table_sweep_to_batch_run"] = out["sweep_table_n2"]["runs_per_s"] / out["batch_run"]["runs_per_s"]
    if efficiency_repeats:
        t1, t2 = out["sweep_n1"]["wall_s"]["median"], out["sweep_n2"]["wall_s"]["median"]
        out["parallel_efficiency"] = t1 / (2 * t2)
        b1, b2 = out["batch_run_p1"]["wall_s"]["median"], out["batch_run"]["wall_s"]["median"]
        out["batch_run_parallel_efficiency"] = b1 / (2 * b2)
    out["per_run_ms"] = per_run_breakdown()
    return out


def markdown(r: dict) -> list[str]:
    md = [f"| sweep ({r['runs']} runs: 4 designs x {r['seeds']} seeds, 20 years) | wall time (median of n) | runs/s "
          "| foreign load (cores) |", "|---|---|---|---|"]
    labels = {"sweep_n2": "`python -m sim run -m ...` joblib, n_jobs=2", "batch_run": "`mesa.batch_run`, 2 processes",
              "sweep_table_n2": "the same sweep with `output.layout=table`, n_jobs=2",
              "sweep_n1": "`python -m sim run -m ...` joblib, n_jobs=1", "batch_run_p1": "`mesa.batch_run`, 1 process"}
    for key, label in labels.items():
        if key in r:
            md.append(f"| {label} | {r[key]['wall_s']['median']:.1f} s (n={r[key]['wall_s']['n']}) | "
                      f"{r[key]['runs_per_s']:.2f} | "
                      f"{r[key]['load']['foreign_cores']:.2f} |")
    md.append(f"\nRatio of runs/s, our sweep / batch_run: {r['ratio_sweep_to_batch_run']:.2f} (folder layout), "
              f"{r['ratio_table_sweep_to_batch_run']:.2f} (table layout).")
    if "parallel_efficiency" in r:
        md.append(f"Parallel efficiency on 2 cores, T1 / (2 T2): {r['parallel_efficiency']:.1%} "
                  f"(batch_run's own on this machine: {r['batch_run_parallel_efficiency']:.1%}).")
    if "per_run_ms" in r:
        md += ["", "Diagnostic (one process, three_tier, median of 10 runs): milliseconds per run", "",
               "| part | ms per run |", "|---|---|"]
        md += [f"| {k} | {v:.0f} |" for k, v in r["per_run_ms"].items()]
    return md


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the n_jobs=2 sweep and of batch_run")
    parser.add_argument("--efficiency-repeats", type=int, default=2,
                        help="repeats of the n_jobs=1 sweep and of batch_run with one process "
                             "(0: skip the parallel efficiencies)")
    opts = parser.parse_args()
    result = run(opts.seeds, opts.repeats, opts.efficiency_repeats)
    publish(result, "sweeps", markdown)


if __name__ == "__main__":
    main()
