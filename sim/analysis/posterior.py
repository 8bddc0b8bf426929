"""``python -m sim calibrate``: the posterior of the council's entry parameters by ABC-SMC (pyABC).

The grid search of :mod:`sim.analysis.calibration` gives a point; a referee asks how sure it is.
This command estimates the joint posterior of the unsourced entry parameters of the three-tier
council, given the council counts that ``sim/data/targets.csv`` declares for calibration
(1992-2010; 2013-2019 stay held out for the forecast check P1a), by approximate Bayesian
computation with sequential Monte Carlo (Beaumont et al. 2009; Toni et al. 2009), as implemented
by pyABC (Schaelte et al. 2022).

* Parameters and priors (:data:`PRIORS`): ``income_threshold`` ~ U(0.2, 1.0) (the grid's range
  widened by 0.1) and ``linkage_threshold`` ~ U(0, 1) (its whole range: the grid's best point lies
  on the grid's edge, 0.8), ``entry_rate``
  (epsilon) ~ log-uniform(0.05, 5), two decades around its default 1 **[our assumption]**. The
  discrete settings keep the grid's estimate (:data:`FIXED`).
* Simulation: the P1 design (YRD, three_tier from the 14 founders of 1992, the Delta's plan
  years) run 1992-2010, one seed per simulation, derived from the parameter values and
  ``--seed`` so that a parameter point always gives the same path.
* Distance: the RMSE of the yearly council size against the data step path, the grid's
  objective (:func:`sim.analysis.calibration.path_rmse`); pyABC lowers its tolerance each
  generation by the median of the last one's distances.
* Budget: ``--population`` particles a generation, at most ``--generations`` generations and
  ``--budget`` simulations. The defaults (200, 6, 6,000) ran 2,486 simulations in 158 s on one core; on a
  cluster pyABC's Redis or Dask samplers spread the same run over nodes (``--jobs`` sets the
  local processes).
* Reproducibility: with ``--jobs 1`` (pyABC's single-core sampler, the one its documentation
  names for deterministic sampling) the same ``--seed`` gives the same posterior, bit for bit
  (tested), with the same package versions (recorded in ``posterior.json``): the transition
  kernel's last bits differ across NumPy/SciPy/pandas releases and the chain then diverges from
  the second generation on (docs/ODD.md 1.1). With more processes pyABC schedules dynamically: which proposals are accepted first
  depends on the workers' timing, so the posterior is reproducible in distribution only.

Outputs in ``--out``: ``posterior.csv`` (last generation's particles and weights),
``posterior.json`` (per parameter weighted mean, sd and 95% credible interval; per generation
tolerance, simulations, acceptance rate and effective sample size; command, seed, priors, data,
git revision), ``posterior.md``, ``figures/posterior.{png,pdf,json}`` (marginals and pairs),
``posterior_draws.csv`` (the particles resampled by weight into equally weighted draws, with the fixed
settings, one column per ``mechanism.three_tier.*`` key: what ``posterior=csv posterior.path=...``
reads, and what ``posterior=yrd_council`` ships), ``posterior_overrides.yaml`` (the posterior median
as overrides) and ``abc.db`` (pyABC's history, readable with ``pyabc.History``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from sim.analysis import calibration
from sim.errors import UserError
from sim.extras import require
from sim.files import write_json, write_text

#: name -> (scipy distribution, arguments as pyabc.RV takes them, text)
PRIORS: dict[str, tuple[str, tuple, str]] = {
    "income_threshold": ("uniform", (0.2, 0.8), "U(0.2, 1.0)"),
    "linkage_threshold": ("uniform", (0.0, 1.0), "U(0, 1)"),
    "entry_rate": ("loguniform", (0.05, 5.0), "log-uniform(0.05, 5)"),
}
FIXED = {k: v for k, v in calibration.CALIBRATED.items() if k not in PRIORS}
FIT_YEARS = tuple(y for y in calibration.YEARS if y <= max(calibration.FIT_DATA))
QUICK = {"population": 20, "generations": 2, "budget": 400}
DEFAULT = {"population": 200, "generations": 6, "budget": 6000}


class CouncilModel:
    """One simulation of the P1 design to the last fitted year: parameters -> council sizes.

    The config is composed once and changed in place per simulation (composition costs ~0.25 s,
    a simulation ~0.1 s)."""

    def __init__(self, seed: int) -> None:
        from sim.analysis.validation_nulls import with_changes
        from sim.config.loading import load_config
        from sim.data import load_region

        design = with_changes(calibration.p1_overrides(FIXED),
                              (f"years={len(FIT_YEARS)}", "output.figures=false", "output.events=false"))
        self.cfg = load_config(list(design))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # the table's imputation note, once per process
            self.region = load_region(self.cfg.region)
        self.seed = seed

    def member_seed(self, params: dict) -> int:
        text = f"{self.seed}:" + ",".join(f"{k}={float(params[k]):.17g}" for k in sorted(PRIORS))
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")

    def __call__(self, params) -> dict:
        from sim.model.city_model import CityModel

        for key in PRIORS:
            self.cfg.mechanism.three_tier[key] = float(params[key])
        self.cfg.seed = self.member_seed(params)
        timeseries = CityModel(self.cfg, self.region).run().timeseries()
        return {"path": calibration.council_path(timeseries, FIT_YEARS)}


def observed() -> dict:
    return {"path": calibration.data_path(FIT_YEARS, calibration.FIT_DATA)}


def distance(x: dict, x0: dict) -> float:
    """RMSE of the council-size path against the data path (the grid calibration's objective)."""
    return calibration.path_rmse(np.asarray(x["path"]), np.asarray(x0["path"]))


def run_abc(out: Path, population: int, generations: int, budget: int, jobs: int, seed: int):
    """ABC-SMC into ``out/abc.db``; returns pyABC's history."""
    pyabc = require("pyabc", "calibrate", "python -m sim calibrate (ABC-SMC)")
    import logging

    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("Sampler").setLevel(logging.WARNING)
    prior = pyabc.Distribution(**{k: pyabc.RV(dist, *args) for k, (dist, args, _) in PRIORS.items()})
    sampler = (pyabc.sampler.SingleCoreSampler() if jobs == 1
               else pyabc.sampler.MulticoreEvalParallelSampler(n_procs=jobs))
    np.random.seed(seed)   # pyABC draws from NumPy's global generator
    abc = pyabc.ABCSMC(CouncilModel(seed), prior, distance, population_size=population, sampler=sampler)
    db = out / "abc.db"
    db.unlink(missing_ok=True)
    abc.new(f"sqlite:///{db}", observed())
    return abc.run(max_nr_populations=generations, max_total_nr_simulations=budget)


def summarize(history) -> tuple[dict, "object"]:
    """Posterior table (last generation) and per-generation diagnostics from pyABC's history."""
    import pyabc

    stats = pyabc.weighted_statistics
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    weights = np.asarray(weights, float) / np.sum(weights)
    params = {}
    for key in PRIORS:
        v = frame[key].to_numpy(float)
        params[key] = {"mean": float(stats.weighted_mean(v, weights)), "sd": float(stats.weighted_std(v, weights)),
                       "median": float(stats.weighted_quantile(v, weights, alpha=0.5)),
                       "interval_95": [float(stats.weighted_quantile(v, weights, alpha=a)) for a in (0.025, 0.975)],
                       "prior": PRIORS[key][2]}
    pops = history.get_all_populations()
    generations = []
    for _, row in pops[pops["t"] >= 0].iterrows():
        _, w = history.get_distribution(m=0, t=int(row["t"]))
        generations.append({"t": int(row["t"]), "epsilon": float(row["epsilon"]), "simulations": int(row["samples"]),
                            "particles": int(row["particles"]),
                            "acceptance_rate": float(row["particles"]) / max(int(row["samples"]), 1),
                            "effective_sample_size": float(stats.effective_sample_size(w))})
    frame = frame.assign(weight=weights)
    return {"parameters": params, "per_generation": generations,
            "simulations": int(history.total_nr_simulations)}, frame


def equal_weight_draws(frame, seed: int):
    """The weighted particles resampled into as many equally weighted draws (multinomial resampling
    with the calibration's seed), the fixed settings added, columns named by their config keys."""
    rng = np.random.default_rng(seed)
    weights = frame["weight"].to_numpy(float)
    rows = rng.choice(len(frame), size=len(frame), p=weights / weights.sum())
    draws = frame.iloc[rows][list(PRIORS)].reset_index(drop=True)
    for key, value in FIXED.items():
        draws[key] = value
    return draws.rename(columns=lambda k: f"mechanism.three_tier.{k}")


def write_draws(draws, out: Path, command: str, revision: str | None) -> None:
    header = (f"# Equally weighted posterior draws of {command} (git {revision or 'unknown'}).\n"
              "# Use: python -m sim run +mechanism=three_tier posterior=csv posterior.path=<this file>\n")
    write_text(header + draws.to_csv(index=False, lineterminator="\n"), out / "posterior_draws.csv")


def markdown(result: dict) -> str:
    lines = ["# Posterior of the council's entry parameters (ABC-SMC)", "",
             f"- Command: `{result['command']}`",
             f"- Data: council counts {', '.join(f'{y}: {v:.0f}' for y, v in calibration.FIT_DATA.items())} "
             "(targets.csv, split 'calibration'); held out: "
             f"{', '.join(f'{y}: {v:.0f}' for y, v in calibration.HELD_OUT.items())}",
             f"- Fixed: {', '.join(f'`{k}={v}`' for k, v in FIXED.items())} (the grid estimate)",
             f"- Simulations: {result['simulations']} in {result['seconds']} s; population {result['population']}",
             "", "| parameter | prior | posterior median | 95% credible interval | mean | sd |", "|---|---|---:|---|---:|---:|"]
    for key, p in result["parameters"].items():
        lo, hi = p["interval_95"]
        lines.append(f"| `{key}` | {p['prior']} | {p['median']:.3g} | [{lo:.3g}, {hi:.3g}] | {p['mean']:.3g} | "
                     f"{p['sd']:.3g} |")
    lines += ["", "| generation | tolerance (RMSE, cities) | simulations | acceptance rate | effective sample size |",
              "|---:|---:|---:|---:|---:|"]
    lines += [f"| {g['t']} | {g['epsilon']:.3f} | {g['simulations']} | {g['acceptance_rate']:.1%} | "
              f"{g['effective_sample_size']:.0f} |" for g in result["per_generation"]]
    return "\n".join(lines) + "\n"


def figure(frame, out: Path, sidecar: dict) -> None:
    from sim.figures.style import PALETTE, new_figure, save_figure, use_style

    keys = list(PRIORS)
    w = frame["weight"].to_numpy()
    with use_style():
        fig, axes = new_figure("double", 4.6, nrows=len(keys), ncols=len(keys))
        for i, a in enumerate(keys):
            for j, b in enumerate(keys):
                ax = axes[i][j]
                if i == j:
                    ax.hist(frame[a], bins=20, weights=w, color=PALETTE[0])
                elif i > j:
                    ax.scatter(frame[b], frame[a], s=4 + 200 * w, color=PALETTE[0], alpha=0.5, lw=0)
                else:
                    ax.axis("off")
                if i == len(keys) - 1:
                    ax.set_xlabel(b)
                if j == 0 and i > 0:
                    ax.set_ylabel(a)
        fig.suptitle("Posterior of the entry parameters (last ABC-SMC generation)")
    save_figure(fig, out / "figures", "posterior", sidecar=sidecar)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sim calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"a tiny run for tests: population {QUICK['population']}, {QUICK['generations']} "
                             f"generations, at most {QUICK['budget']} simulations")
    parser.add_argument("--population", type=int, help=f"particles per generation (default {DEFAULT['population']})")
    parser.add_argument("--generations", type=int, help=f"most generations (default {DEFAULT['generations']})")
    parser.add_argument("--budget", type=int, help=f"most simulations in all (default {DEFAULT['budget']})")
    parser.add_argument("--jobs", type=int, default=-1, help="local processes (-1: all cores)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampler and of the simulations")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default results/calibrate/<timestamp>)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = {k: (QUICK if args.quick else DEFAULT)[k] if getattr(args, k) is None else getattr(args, k)
                for k in DEFAULT}
    out = args.out or Path("results/calibrate") / time.strftime("%Y-%m-%d_%H-%M-%S")
    jobs = args.jobs if args.jobs != -1 else max(1, len(os.sched_getaffinity(0)))
    problem = next((f"--{k} {v}: give a whole number of at least 1" for k, v in settings.items() if v < 1), None) or (
        f"--jobs {args.jobs}: give a number of processes >= 1, or -1 for all cores" if args.jobs == 0 or args.jobs < -1
        else f"--seed {args.seed}: give a seed in [0, 2^32 - 1]" if not 0 <= args.seed < 2**32
        else f"--out {out}: it is a file; give a folder" if out.exists() and not out.is_dir()
        else f"--out {out}: it already holds a posterior; give another folder" if (out / "posterior.json").exists()
        else None)
    if problem:
        print(f"error: {problem}. Nothing was run.", file=sys.stderr)
        return 2
    try:
        require("pyabc", "calibrate", "python -m sim calibrate (ABC-SMC)")
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from sim.provenance import git_revision, package_version, package_versions

    command = " ".join(["python -m sim calibrate", *(sys.argv[1:] if argv is None else argv)])
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    history = run_abc(out, settings["population"], settings["generations"], settings["budget"], jobs, args.seed)
    result, frame = summarize(history)
    result.update({"command": command, "seed": args.seed, "jobs": jobs, **settings,
                   "seconds": round(time.time() - started, 1), "fixed": FIXED,
                   "data": {str(y): v for y, v in calibration.FIT_DATA.items()},
                   "held_out": {str(y): v for y, v in calibration.HELD_OUT.items()},
                   "distance": "RMSE of the yearly council size 1992-2010 against the data step path",
                   "git_revision": git_revision(),
                   "versions": {**package_versions(), "pyabc": package_version("pyabc")}})
    frame.to_csv(out / "posterior.csv", index=False)
    write_draws(equal_weight_draws(frame, args.seed), out, command, result["git_revision"])
    medians = {f"mechanism.three_tier.{k}": round(p["median"], 4) for k, p in result["parameters"].items()}
    write_text("# posterior medians of python -m sim calibrate; add to the P1 design's overrides\n"
               + "".join(f"{k}: {v}\n" for k, v in medians.items()), out / "posterior_overrides.yaml")
    figure(frame, out, {"command": command, "seed": args.seed})
    write_text(markdown(result), out / "posterior.md")
    write_json(result, out / "posterior.json")   # last: its presence marks a complete calibration
    for key, p in result["parameters"].items():
        print(f"{key:<18} median {p['median']:.3g}  95% [{p['interval_95'][0]:.3g}, {p['interval_95'][1]:.3g}]")
    print(f"{result['simulations']} simulations in {result['seconds']} s. Results: {out.resolve()}")
    return 0
