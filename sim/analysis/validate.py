"""Pattern-oriented validation: ``python -m sim validate [--quick] [--seeds N] [--out DIR] [--jobs N]``.

Runs the patterns of docs/ODD.md section 1 (P1-P5, P8, P9; checks in section 1.1) over many seeds
and writes, to ``results/validation/<timestamp>/`` (or ``--out``):

- ``validation.json``: per pattern its claim, source and verdict, and per check (one measurable
  statement of the pattern) the statistic, its value (mean over seeds), the 95% interval, the band,
  pass or fail, the number of seeds, the per-seed values and the overrides of every run design used;
- ``report.md``: the table and one paragraph per pattern, saying why a check fails;
- ``figures/``: council size against the data (P1), cooperation trajectories of the baseline and
  three-tier operation (P2) and the entry order of the council (P1), PNG + PDF + JSON sidecar.

The exit code is 1 if any check fails and 0 if all pass.

Every run goes through :func:`sim.runs.runner.simulate` on a config composed by
:func:`sim.config.loading.load_config`, exactly as ``python -m sim run`` would compose it. A *design*
is a tuple of overrides; runs are shared between patterns (cached by overrides and seed) and spread
over processes with joblib (:mod:`sim.analysis.design_runs`). Seeds are 0..N-1 for every design, so
contrasts are paired by seed.

Decision rule: a check passes if the whole 95% interval of its statistic lies inside the band.
For a one-sided band ("> 0") that is a significance test; for a two-sided band it asks that the
mean is known to lie in the band. Intervals are Student-t intervals of the mean over seeds
(:func:`sim.analysis.stats.mean_interval`), except for the P2 trajectory statistics, which are
statistics of the seed-mean trajectory with a percentile bootstrap over seeds
(:func:`sim.analysis.stats.bootstrap_trajectories`). A statistic that is undefined in a run (e.g.
no violating park formed) drops that seed; the number of seeds used is reported.

Null models: every check is also evaluated under a null model (:func:`~sim.analysis.validation_nulls.nulls`),
its designs with the pattern's cause removed. A passing check is *not diagnostic* if the null
passes it too, *validated* if the null does not and the two intervals are disjoint, *inconclusive*
if they overlap and *unchecked* if the null's statistic is undefined; a side condition met by
doing nothing (P5c) has no null. The exit code still follows pass and fail.
``--quick`` runs 3 seeds and a 10-year horizon (P1 keeps its 28 years): it exercises every code
path, but its intervals are too wide for its verdicts to mean much.

The parts: :mod:`sim.analysis.validation_checks` (patterns, designs, checks), :mod:`~sim.analysis.validation_nulls`
(their null models),
:mod:`~sim.analysis.validation_measures` (statistics of a run), :mod:`~sim.analysis.validation_report`
(``report.md``) and :mod:`~sim.analysis.validation_figures`; this module runs them and is the command.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sim.analysis import calibration
from sim.analysis.design_runs import RunRecord, run_designs
from sim.analysis.formatting import quantity
from sim.analysis.robustness import DEFAULT_SEEDS as ROBUST_SEEDS, VARIANTS, robustness, write as write_robustness
from sim.analysis.stats import CONFIDENCE
from sim.analysis.validation_checks import CHECKS, PATTERNS, QUICK_YEARS, p1_design, run_designs_spec
from sim.analysis.validation_nulls import evaluate_nulls, null_designs, null_facts, nulls, with_changes
from sim.analysis.validation_report import check_interval, model_facts, report_markdown
from sim.analysis.validation_figures import figures
from sim.files import write_json, write_text

FULL_SEEDS, QUICK_SEEDS = 100, 3
DEFAULT_POSTERIOR = "yrd_council"


def validate(n_seeds: int, quick: bool = False, jobs: int = 1, posterior: str | None = DEFAULT_POSTERIOR,
             variant: tuple[str, ...] = (), progress: Callable[[str], None] = print
             ) -> tuple[dict, dict[str, list[RunRecord]]]:
    """Run every design for seeds 0..n_seeds-1 and evaluate every check; returns (results, runs).
    ``posterior``: where P1's entry parameters come from (:func:`~sim.analysis.validation_checks.p1_design`);
    ``variant``: overrides applied to every design, nulls included (a robustness variant)."""
    designs = {name: with_changes(design, variant)
               for name, design in run_designs_spec(quick, p1_design(posterior)).items()}
    null_of = nulls(null_facts())
    all_designs = {**designs, **null_designs(designs, null_of)}
    started = time.time()
    progress(f"validation: {len(designs)} designs and {len(all_designs) - len(designs)} null designs x {n_seeds} "
             f"seeds on {jobs} process(es)")
    runs = run_designs(all_designs, list(range(n_seeds)), jobs)
    checks = [check.evaluate(all_designs) for make in CHECKS for check in make(runs)]
    under_null = evaluate_nulls(runs, all_designs, null_of)
    for c in checks:
        c.update(null_verdict(c, null_of[c["id"]], under_null.get(c["id"])))
    patterns = []
    for pid, meta in PATTERNS.items():
        own = [c for c in checks if c["pattern"] == pid]
        patterns.append({"id": pid, **meta, "pass": all(c["pass"] for c in own),
                         "validated": all(c["status"] == "validated" for c in own), "checks": own})
    first = runs["baseline_my"][0].summary
    p1_paths = calibration.council_paths(runs["p1_council_yrd"])
    results = {
        "quick": quick, "n_seeds": n_seeds, "variant": list(variant), "seeds": [0, n_seeds - 1], "confidence": CONFIDENCE,
        "decision_rule": "a check passes if its whole 95% interval lies inside the band; a pattern passes if all "
                         "its checks pass",
        "null_rule": "a passing check is not diagnostic if its null model passes it too (the null's whole 95% "
                     "interval inside the band); it is validated if the null does not pass and the two intervals "
                     "are disjoint, inconclusive if they overlap, unchecked if the null's statistic is undefined; "
                     "a side condition that doing nothing meets has no null",
        "all_pass": all(p["pass"] for p in patterns),
        "failed": [c["id"] for c in checks if not c["pass"]],
        "not_diagnostic": [c["id"] for c in checks if c["status"] == "not diagnostic"],
        "validated": [c["id"] for c in checks if c["status"] == "validated"],
        "calibration": {"posterior": posterior,
                        "parameters": ("each run takes the posterior draw of its seed (posterior.draw = seed)"
                                       if posterior else calibration.CALIBRATED),
                        "source": f"posterior={posterior}" if posterior else "sim.analysis.calibration.CALIBRATED",
                        "rmse": calibration.pooled_rmse(list(p1_paths)),
                        "years": list(calibration.YEARS), "data_path": calibration.data_path().tolist(),
                        "path_mean": np.nanmean(p1_paths, axis=0).tolist()},
        "designs": {k: list(v) for k, v in designs.items()},
        "patterns": patterns,
        "git_revision": first.get("git_revision"),
        "imputed": first.get("imputed"),
        "seconds": round(time.time() - started, 1),
    }
    return results, runs


def null_verdict(check: dict, null, evaluated: dict | None) -> dict:
    """The check's null model and its result, and the check's status: FAIL; not diagnostic (the
    null passes too: its whole interval inside the band); validated (the null does not pass and
    its interval is disjoint from the check's: the model clearly differs from the null);
    inconclusive (the null does not pass but the intervals overlap); unchecked (the null's
    statistic is undefined); side condition (no null: doing nothing meets it by construction)."""
    if null is None:
        return {"status": "FAIL" if not check["pass"] else "side condition", "null": None}
    low, high = evaluated["interval"]
    defined = all(v is not None and np.isfinite(v) for v in (low, high))
    apart = defined and (high < check["interval"][0] or low > check["interval"][1])
    status = ("FAIL" if not check["pass"] else "unchecked" if not defined else "not diagnostic" if evaluated["pass"]
              else "validated" if apart else "inconclusive")
    return {"status": status, "null": {
        "name": null.name, "why": null.why, "overrides": evaluated["overrides"], "value": evaluated["value"],
        "interval": evaluated["interval"], "n_seeds": evaluated["n_seeds"], "pass": evaluated["pass"]}}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim validate",
        description="Run the patterns of docs/ODD.md section 1 over many seeds and report pass or fail.")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SEEDS} seeds and {QUICK_YEARS}-year runs (P1 keeps 1992-2019): "
                             "for the test suite")
    parser.add_argument("--seeds", type=int, default=None,
                        help=f"seeds per design, 0..N-1 (default {FULL_SEEDS}; quick {QUICK_SEEDS})")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default results/validation/<timestamp>)")
    parser.add_argument("--jobs", type=int, default=-1, help="parallel processes (joblib; -1 = all cores)")
    parser.add_argument("--posterior", default=DEFAULT_POSTERIOR,
                        help="P1's entry parameters: an embedded posterior (default yrd_council), a "
                             "posterior_draws.csv of python -m sim calibrate (each run takes the draw of its seed: "
                             "a posterior predictive check), or 'none' for the grid's point estimate")
    parser.add_argument("--robustness", action="store_true",
                        help="run the validation under each learning-rule and network variant (robustness.md: "
                             f"each check's status per variant; default {ROBUST_SEEDS} seeds, exit 0 when complete)")
    parser.add_argument("--variants", default=",".join(v for v in VARIANTS if v != "defaults"),
                        help=f"with --robustness, the variants besides the defaults, comma-separated: "
                             f"{', '.join(v for v in VARIANTS if v != 'defaults')} (default all)")
    return parser


def posterior_problem(posterior: str) -> str | None:
    """Why ``--posterior`` cannot be used, or None."""
    from importlib import resources

    from sim.config.posterior import read_draws
    from sim.errors import ConfigError

    if posterior.endswith(".csv"):
        try:
            read_draws(posterior)
        except ConfigError as err:
            return str(err)
        return None
    embedded = sorted(p.name[:-5] for p in resources.files("sim.runs.configs").joinpath("posterior").iterdir()
                      if p.name.endswith(".yaml") and p.name != "csv.yaml")
    if posterior not in embedded:
        return (f"--posterior {posterior}: not an embedded posterior ({', '.join(embedded)}) nor a .csv file of draws; "
                "give one of those, or 'none' for the grid's point estimate")
    return None


def argument_problem(args, n_seeds: int, out: Path, variants: list[str]) -> str | None:
    """Why the arguments cannot run, or None."""
    unknown = [v for v in variants if v not in VARIANTS]
    posterior = None if args.posterior == "none" else args.posterior
    return (f"--seeds {n_seeds}: give at least 2 seeds (the intervals need two)" if n_seeds < 2
            else f"--jobs {args.jobs}: give a number of processes >= 1, or -1 for all cores"
            if args.jobs == 0 or args.jobs < -1
            else f"--out {out}: it is a file; give a folder" if out.exists() and not out.is_dir()
            else f"--variants: {', '.join(unknown)} is not a variant; choose among {', '.join(VARIANTS)}" if unknown
            else posterior_problem(posterior) if posterior else None)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    default_seeds = QUICK_SEEDS if args.quick else ROBUST_SEEDS if args.robustness else FULL_SEEDS
    n_seeds = args.seeds if args.seeds is not None else default_seeds
    command = " ".join(["python -m sim validate", *(sys.argv[1:] if argv is None else argv)])
    out = args.out or Path("results/robustness" if args.robustness else "results/validation") / time.strftime(
        "%Y-%m-%d_%H-%M-%S")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()] if args.robustness else []
    if problem := argument_problem(args, n_seeds, out, variants):
        print(f"error: {problem.rstrip('.')}. Nothing was run.", file=sys.stderr)
        return 2
    posterior = None if args.posterior == "none" else args.posterior
    if args.robustness:
        ensemble = robustness(validate, variants, n_seeds, args.quick, args.jobs, posterior)
        write_robustness(ensemble, out, command)
        print(f"Robust (the same status under every variant): {', '.join(ensemble['robust']) or 'none'}")
        print(f"Status changes with the variant: {', '.join(ensemble['changed']) or 'none'}")
        print(f"Results: {out.resolve()}")
        return 0
    results, runs = validate(n_seeds, quick=args.quick, jobs=args.jobs, posterior=posterior)
    results["command"] = command
    written = figures(results, runs, out, command)
    write_json(results, out / "validation.json")
    write_text(report_markdown(results, command, written, model_facts()), out / "report.md")
    for p in results["patterns"]:
        for c in p["checks"]:
            null = f"null ({c['null']['name']}) {quantity(c['null']['value'], c['unit'])}" if c["null"] else "no null"
            print(f"  {c['id']:<4} {c['status']:<14} {quantity(c['value'], c['unit']):>9} "
                  f"{check_interval(c):<24} band {c['band_text']}; {null}")
    print(f"{'All patterns pass.' if results['all_pass'] else 'Failed: ' + ', '.join(results['failed'])}")
    if results["not_diagnostic"]:
        print(f"Not diagnostic (their null models pass them too): {', '.join(results['not_diagnostic'])}")
    print(f"Results: {out.resolve()}")
    return 0 if results["all_pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
