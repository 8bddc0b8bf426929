"""Global sensitivity analysis (SALib): Morris screening and Sobol indices.

Two halves, joined by one file, ``<sweep dir>/sensitivity_design.json``:

1. **Running the design** is an ordinary sweep of ``python -m sim run``, with the Hydra sweeper
   ``hydra/sweeper=salib`` (:class:`sim.sweeps.salib.SalibSweeper`, config ``sim/configs/hydra/sweeper/salib.yaml``)::

       python -m sim run -m hydra/sweeper=salib +mechanism=[three_tier,enclave] \\
           hydra.sweeper.method=morris hydra.sweeper.samples=10 replicates=5 \\
           'hydra.sweeper.parameters={mechanism.three_tier.detection:[0.2,1.0],model.enforcement.detection:null}'

   The sweeper turns ``parameters`` (dotted key -> ``[lo, hi]``, or null for the schema's range)
   into a SALib problem, samples it (``SALib.sample.morris`` with r = ``samples`` trajectories
   of ``levels`` grid levels, or ``SALib.sample.sobol`` with N = ``samples`` base samples,
   ``second_order`` optional), writes the design, and launches one job per sample row through
   the configured launcher (basic, joblib, submitit_slurm), job number = row number, with the
   overrides ``key=value`` of the row after the command line's own overrides. Each job is a
   normal run folder (``replicates`` and ``resume`` work as in any sweep).

2. **Analysing** it never re-runs anything: ``python -m sim sensitivity SWEEP_DIR
   [--outputs a,b] [--out DIR]`` reads the design and the runs' ``summary.json`` and writes
   ``SWEEP_DIR/sensitivity/``: ``indices.csv`` and ``indices.md`` (plus ``second_order.csv``
   for Sobol with second order) and ``figures/`` (Morris: ``morris_mu_star_sigma`` and
   ``morris_ranking``; Sobol: ``sobol_indices``), PNG + PDF + JSON sidecar.

Seeds. Every row of the design runs the same model seeds ``seed, ..., seed + replicates - 1``
(common random numbers), and a row's output is the mean over its replicates. Differences
between rows are then differences of parameters, not of random streams, as far as the model's
draws stay aligned. The noise left in the seed means is reported (with ``replicates`` >= 2).
Morris: a *noise floor* per parameter, the mu* that seed noise alone would exceed with
probability 5% were the parameter without effect: each elementary effect is also computed seed
by seed, and their spread over seeds gives the noise of their mean (so a parameter whose
changes leave the model's draws aligned has a low floor, one that reshuffles them a high one). Sobol: the *noise share*, the
share of the output's variance over the design that is seed noise, from the rows x seeds
interaction (a seed's effect shared by all rows shifts every row alike and cancels).

Missing runs. A row counts only if all its replicates have a summary.json. Morris drops the
trajectories with a missing row, with a warning (at least two must remain); Sobol needs every
row and stops with an error naming the missing jobs (re-run the sweep command with
``resume=true`` to fill them in). An output that a run leaves undefined (null in its summary)
is treated like a missing row of that output only.

Ranges. An explicit ``[lo, hi]`` must lie inside the schema's allowed range. null takes the
schema's range only where that is a plausible sampling range, i.e. inside [0, 1] (shares and
probabilities); other schema ranges (e.g. [0, 100] for fines) are allowed values, not plausible
ones, and are refused with a message asking for an explicit range. Only float parameters can be
varied (integers, switches and choices cannot).

Why a Hydra sweeper: the design then runs with the same run function, folders, launchers,
``resume`` and progress log as every other sweep. The sweeper is :class:`sim.sweeps.salib.SalibSweeper`,
which Hydra finds as the plugin ``hydra_plugins.sim_sweepers.SalibSweeper``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shlex
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from sim.analysis.sensitivity_figures import figures
from sim.analysis.sensitivity_indices import RESAMPLES, analyze
from sim.analysis.sensitivity_report import markdown, short_name
from sim.analysis.stats import CONFIDENCE
from sim.analysis.sweep_folder import (add_versions, discover, job_runs, load_yaml, not_a_folder, override_values,
                                       sweep_command)
from sim.files import write_json, write_text
from sim.sweeps.salib import DEFAULT_OUTPUTS, DESIGN_FILE, DESIGN_FORMAT, METHODS, SensitivityError

log = logging.getLogger("sim.analysis.sensitivity")


# ------------------------------------------------------------------------------ collect


def read_design(sweep_dir: Path) -> dict:
    path = sweep_dir / DESIGN_FILE
    if what := not_a_folder(sweep_dir):
        raise SensitivityError(f"'{sweep_dir}' {what}. Give the folder of a sweep run with "
                               "'python -m sim run -m hydra/sweeper=salib ...'.")
    if not path.exists():
        raise SensitivityError(f"'{sweep_dir}' has no {DESIGN_FILE}: it is not a sensitivity sweep. Run one with "
                               "'python -m sim run -m hydra/sweeper=salib ...' (e.g. +experiment=sensitivity_mechanisms).")
    try:
        design = json.loads(path.read_text())
    except ValueError as err:
        raise SensitivityError(f"{path} is not valid JSON ({err}).") from None
    if design.get("format") != DESIGN_FORMAT or design.get("method") not in METHODS:
        raise SensitivityError(f"{path} is not a design file of this version (format {DESIGN_FORMAT}).")
    return design


def _float(value) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def collect(sweep_dir: Path, design: dict, outputs: Sequence[str], out_dir: Path) -> tuple[dict, dict]:
    """Per output, an array (rows, replicates) of the runs' values (NaN where missing); and notes.

    Job ``i`` is row ``i`` of the design; its overrides are checked against the row.
    """
    jobs, _, _ = discover(sweep_dir, out_dir)
    by_num = {job.num: job for job in jobs if job.num is not None and job.folder is not None}
    n, reps = design["n_jobs"], int(design.get("replicates", 1))
    names = design["problem"]["names"]
    values = {o: np.full((n, reps), np.nan) for o in outputs}
    missing, failed, summaries = [], [], 0
    seen_keys: set[str] = set()
    revisions: set[str] = set()
    versions: dict[str, list[str]] = {}
    for i, row in enumerate(design["samples"]):
        job = by_num.get(i)
        if job is None:
            missing.append(i)
            continue
        given = override_values(job.overrides)
        for name, x in zip(names, row):
            if name not in given or not math.isclose(float(given[name]), float(x), rel_tol=1e-9, abs_tol=1e-12):
                raise SensitivityError(
                    f"job {i} ({job.folder}) ran {name}={given.get(name, '(not set)')}, but row {i} of the design "
                    f"has {name}={x!r}: the folder holds runs of another design. Nothing was written.")
        if len(job.run_dirs) != reps:
            raise SensitivityError(f"job {i} has {len(job.run_dirs)} replicate(s), the design {reps}: the sweep "
                                   "was re-run with another 'replicates'. Nothing was written.")
        for s, run in enumerate(job_runs(job)):
            summary = run.summary
            if summary is None:
                (missing if run.error is None else failed).append(i)
                continue
            summaries += 1
            revisions.add(str(summary.get("git_revision")))
            add_versions(versions, summary.get("versions"))
            seen_keys.update(k for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
            for o in outputs:
                values[o][i, s] = _float(summary.get(o))
    unknown = [o for o in outputs if o not in seen_keys]
    if summaries and unknown:
        raise SensitivityError(f"output(s) {', '.join(unknown)} are not numbers in the runs' summary.json; "
                               f"choose from {', '.join(sorted(seen_keys))}.")
    if not summaries:
        raise SensitivityError(f"'{sweep_dir}' holds no complete run of the design ({len(failed)} failed, "
                               f"{len(set(missing))} missing). Nothing was written.")
    return values, {"missing_jobs": sorted(set(missing)), "failed_jobs": sorted(set(failed)),
                    "runs": summaries, "git_revisions": sorted(revisions), "versions": versions}


# ---------------------------------------------------------------------------------- main


def provenance(design: dict, context: dict) -> dict:
    """Where the indices came from: both commands, the whole design, code and package versions."""
    from importlib import metadata

    from sim.provenance import git_revision, package_versions

    try:
        salib = metadata.version("SALib")
    except metadata.PackageNotFoundError:
        salib = "not installed"
    return {
        "sweep": {"dir": context["sweep_dir"], "command": context["sweep_command"], "runs": context["runs"],
                  "missing_jobs": context["missing_jobs"], "failed_jobs": context["failed_jobs"],
                  "git_revisions": context["git_revisions"], "versions": context["versions"]},
        "analysis": {"command": context["command"], "figures": context["figures"], "notes": context["notes"],
                     "git_revision": git_revision(), "versions": {**package_versions(), "SALib": salib},
                     "confidence": CONFIDENCE, "bootstrap_resamples": RESAMPLES},
        "design": design,
    }


def run_analysis(sweep_dir: Path, out_dir: Path, outputs: Sequence[str] | None, command: str) -> dict:
    """Read the design and the runs, compute the indices and write tables and figures."""
    design = read_design(sweep_dir)
    outputs = list(outputs or design.get("outputs") or DEFAULT_OUTPUTS)
    values, found = collect(sweep_dir, design, outputs, out_dir)
    table, second, notes = analyze(design, values, seed=int(design["options"]["seed"]))
    if found["missing_jobs"] or found["failed_jobs"]:
        notes.insert(0, f"{len(found['missing_jobs'])} job(s) missing and {len(found['failed_jobs'])} failed; "
                        "re-run the sweep command with resume=true to fill them in.")
    context = {"sweep_dir": str(sweep_dir), "command": command,
               "sweep_command": sweep_command(load_yaml(sweep_dir / "multirun.yaml")), "notes": notes, **found}
    for note in notes:
        log.warning(note)
        print(f"warning: {note}", file=sys.stderr)
    reps, seed = int(design.get("replicates", 1)), int(design.get("model_seed", 0))
    sidecar = {"command": command, "sweep_command": context["sweep_command"], "method": design["method"],
               "options": design["options"], "ranges": {r["parameter"]: [r["lo"], r["hi"]] for r in design["ranges"]},
               "seeds": list(range(seed, seed + reps)), "jobs": design["n_jobs"], "runs": found["runs"],
               "design_file": str(sweep_dir / DESIGN_FILE)}
    write_text(table.to_csv(index=False), out_dir / "indices.csv")
    if not second.empty:
        write_text(second.to_csv(index=False), out_dir / "second_order.csv")
    write_text(markdown(table, design, context), out_dir / "indices.md")
    context["figures"] = figures(table, design, out_dir / "figures", sidecar)
    write_json(provenance(design, context), out_dir / "provenance.json")
    return {"table": table, "second": second, "context": context, "design": design}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m sim sensitivity", description=(
        "Morris or Sobol sensitivity indices (SALib) and their figures from a sweep run with "
        "'python -m sim run -m hydra/sweeper=salib ...' (e.g. +experiment=sensitivity_mechanisms). "
        "Reads the design and the runs' summary.json; never runs the model."))
    parser.add_argument("sweep_dir", metavar="SWEEP_DIR", type=Path,
                        help=f"folder of the sweep (holds {DESIGN_FILE})")
    parser.add_argument("--outputs", metavar="A,B,...", help="summary.json keys to analyse (default: the design's "
                        f"outputs, else {','.join(DEFAULT_OUTPUTS)})")
    parser.add_argument("--out", metavar="DIR", type=Path, help="output folder (default: SWEEP_DIR/sensitivity)")
    opts = parser.parse_args(argv)
    sweep_dir = opts.sweep_dir.resolve()
    out_dir = (opts.out or opts.sweep_dir / "sensitivity").resolve()
    outputs = [o.strip() for o in opts.outputs.split(",") if o.strip()] if opts.outputs else None
    command = shlex.join(["python", "-m", "sim", "sensitivity", *argv])
    try:
        result = run_analysis(sweep_dir, out_dir, outputs, command)
    except SensitivityError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:   # the output folder is a file, read-only, or the disk is full
        print(f"error: cannot write the analysis to {out_dir} ({err.strerror or err}: {err.filename or out_dir}). "
              "Choose another folder with --out DIR.", file=sys.stderr)
        return 2
    table, design = result["table"], result["design"]
    key = "mu_star" if design["method"] == "morris" else "ST"
    print(f"{design['method'].capitalize()} indices of {table['output'].nunique()} output(s) to "
          f"{design['problem']['num_vars']} parameter(s) from {result['context']['runs']} run(s): {out_dir}")
    for output, group in table.groupby("output", sort=False):
        ranked = ", ".join(f"{short_name(r.parameter)} {getattr(r, key):.3g}" for r in group.head(3).itertuples())
        print(f"  {output:<24} top {key}: {ranked}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
