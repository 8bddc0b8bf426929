"""Report of a sweep: ``python -m sim report SWEEP_DIR [--baseline LABEL] [--out DIR]``.

Reads the run folders a ``python -m sim run -m ...`` sweep wrote (it never runs the model)
and writes ``SWEEP_DIR/report/`` (or ``--out``):

- ``runs.parquet``: one row per complete run (replicate): ``job``, ``run_dir`` (relative to
  SWEEP_DIR), ``design``, ``seed`` (from summary.json), the job's overrides as string columns
  (``+mechanism=[a,b]`` gives ``mechanism`` = ``"a+b"``; the ``seed`` override is the ``seed``
  column), and every scalar of summary.json (``mechanisms`` joined by ``+``, ``"none"`` if
  empty; a summary key already taken by an override column is stored as ``summary_<key>``).
- ``comparison.csv`` / ``comparison.md``: per design and key metric, n, mean, sd and a 95%
  t-interval over seeds, and the difference from the baseline design with a 95% t-interval
  of the differences paired by seed (on the seeds present in both).
- ``figures/``: ``cooperation_trajectories``, ``effects_forest`` (only with a baseline) and
  ``inequality_output`` as PNG + PDF + JSON sidecar.
- ``provenance.json``: the sweep command and overrides, git revisions, package versions and
  config hashes found in the summaries, the report's own versions, and the failed runs (their
  error's last line) and missing runs (the sweep expanded by Hydra's own BasicSweeper).

Design labels. Overrides of ``seed``, ``replicates``, ``resume``, ``hydra.*`` and ``output.*``
(which do not change the simulated model) never name a design, nor do overrides with the same
value in every job of the sweep (they are listed as common settings), except a mechanism. The
label joins the remaining ``key=value`` pairs with ``", "`` in command-line order, leaving out
``mechanism=none``; a job left with nothing is ``"baseline"``. E.g. ``+mechanism=none,three_tier
years=6`` gives the designs ``baseline`` and ``mechanism=three_tier``.

Baseline. ``--baseline LABEL`` if given; else the one design whose runs all have no mechanism
(summary ``mechanisms == []``) if exactly one design has none; else no differences are reported.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import pandas as pd

from sim.analysis.formatting import interval, num
from sim.analysis.report_figures import UnreadableTable, figures, trajectory_bands
from sim.analysis.stats import CONFIDENCE, interval_columns
from sim.analysis.sweep_folder import (Job, add_versions, discover, get, job_runs, not_a_folder, override_values,
                                       sweep_command)
from sim.files import write_json, write_parquet, write_text

#: key metrics of the model itself: name and unit as in summary.json
MODEL_METRICS: dict[str, tuple[str, str]] = {
    "cooperation_index": ("Cooperation index", "0-1"),
    "gdp_total_final": ("GDP, final year", "100 million yuan"),
    "theil_final": ("Theil index, final year", "unitless"),
    "subsidy_per_firm_mean": ("Subsidy per firm", "100 million yuan"),
    "core_periphery_ratio_final": ("Core/periphery GDP per capita", "ratio"),
    "firms_lost_share": ("Mobile firms lost", "share"),
    "agreements_per_project": ("Agreements per project", "count"),
}
NOT_DESIGN_KEYS = ("seed", "replicates", "resume")
NOT_DESIGN_PREFIXES = ("hydra.", "output.")


def key_metrics() -> dict[str, tuple[str, str]]:
    """The metrics the report compares, name -> (label, unit): the model's own, then those the
    registered mechanisms ask for (:func:`sim.mechanisms.registry.report_metrics`)."""
    from sim.mechanisms.registry import report_metrics

    return {**MODEL_METRICS, **report_metrics()}


class ReportError(Exception):
    """A mistake of the user (wrong folder, unknown baseline): one paragraph, exit code 2."""


# ---------------------------------------------------------------------------------- table


def design_labels(jobs: list[Job]) -> tuple[list[str], dict[str, str]]:
    """A label per job (see the module docstring for the rule) and the common settings."""
    values = [override_values(job.overrides) for job in jobs]
    keys = list(dict.fromkeys(k for v in values for k in v
                              if k not in NOT_DESIGN_KEYS and not k.startswith(NOT_DESIGN_PREFIXES)))
    varying = {k for k in keys if len({v.get(k) for v in values}) > 1}
    common = {k: values[0][k] for k in keys if k not in varying}
    labels = []
    for v in values:
        parts = [f"{k}={v[k]}" for k in keys if k in v and (k in varying or k == "mechanism")
                 and not (k == "mechanism" and v[k] == "none")]
        labels.append(", ".join(parts) or "baseline")
    return labels, common


def table(jobs: list[Job], labels: list[str], sweep_dir: Path) -> tuple[pd.DataFrame, list, list, list]:
    """runs.parquet's rows (complete runs); each run's config hash, git revision and versions;
    and the failed and missing runs."""
    rows, records, failed, missing = [], [], [], []
    for job, label in zip(jobs, labels):
        base = {"job": job.num, "design": label, "overrides": job.overrides}
        if job.folder is None:
            missing.append({**base, "run_dir": None, "seeds": job.seeds, "reason": "job folder missing"})
            continue
        columns = {k: v for k, v in override_values(job.overrides).items() if k != "seed"}
        for run in job_runs(job):
            rel = run.folder.relative_to(sweep_dir).as_posix()
            summary = run.summary
            if summary is None:
                if run.error is None:
                    missing.append({**base, "run_dir": rel, "reason": "no summary.json nor error.txt "
                                    "(not run, interrupted or deleted)"})
                else:
                    failed.append({**base, "run_dir": rel, "error": run.error, **(
                        {"error_file": run.error_file.relative_to(sweep_dir).as_posix()} if run.error_file else {})})
                continue
            row = {"job": job.num, "run_dir": rel, "design": label, "seed": summary.get("seed"), **columns}
            for key, value in summary.items():
                if key == "mechanisms":
                    value = "+".join(value) or "none"
                if key != "seed" and (value is None or isinstance(value, (bool, int, float, str))):
                    row[f"summary_{key}" if key in columns or key in ("job", "run_dir", "design") else key] = value
            rows.append(row)
            records.append({k: summary.get(k) for k in ("config_hash", "git_revision", "versions")})
    runs = pd.DataFrame(rows)
    if not runs.empty:
        runs["job"] = runs["job"].astype("Int64")
    return runs, records, failed, missing


# -------------------------------------------------------------------------------- compare


def find_baseline(runs: pd.DataFrame, requested: str | None) -> tuple[str | None, str]:
    """The baseline design and a sentence saying how it was chosen."""
    designs = list(dict.fromkeys(runs["design"]))
    if requested is not None:
        if requested not in designs:
            raise ReportError(f"--baseline '{requested}' is not a design of this sweep. The designs are: "
                              + "; ".join(f"'{d}'" for d in designs) + ".")
        return requested, f"Baseline: '{requested}' (given with --baseline)."
    mechanisms = runs["mechanisms"] if "mechanisms" in runs else pd.Series("unknown", index=runs.index)
    plain = [d for d in designs if (mechanisms[runs["design"] == d] == "none").all()]
    if len(plain) == 1:
        return plain[0], f"Baseline: '{plain[0]}', the only design without a mechanism."
    why = "no design is without mechanisms" if not plain else \
        f"{len(plain)} designs are without mechanisms ({'; '.join(plain)})"
    return None, (f"No baseline: {why}, so no differences are reported; "
                  "choose one with --baseline LABEL.")


def metrics_present(runs: pd.DataFrame) -> list[str]:
    """The key metrics that some run has a number for: the model's own first, then the
    mechanisms' in the order the runs report them (the order the sweep selected them in)."""
    known = key_metrics()
    ordered = [*MODEL_METRICS, *(c for c in runs.columns if c in known and c not in MODEL_METRICS)]
    return [m for m in ordered if m in runs and pd.to_numeric(runs[m], errors="coerce").notna().any()]


def compare(runs: pd.DataFrame, baseline: str | None) -> pd.DataFrame:
    """Per design (baseline first) and metric: n, mean, sd, 95% interval over runs; and the
    difference from the baseline paired by seed (several runs of a seed in a design are averaged)."""
    base = runs[runs["design"] == baseline]
    out = []
    for design in dict.fromkeys([baseline] * (baseline is not None) + list(runs["design"])):
        group = runs[runs["design"] == design]
        for metric in metrics_present(runs):
            row = {"design": design, "metric": metric, **interval_columns(group[metric]), "baseline": baseline}
            if baseline is not None and design != baseline:
                per_seed = [pd.to_numeric(g[metric], errors="coerce").groupby(g["seed"]).mean()
                            for g in (group, base)]
                diff = (per_seed[0] - per_seed[1]).dropna()   # seeds present (and defined) in both
                d = interval_columns(diff)
                row.update({"n_pairs": d["n"], "diff_mean": d["mean"], "diff_sd": d["sd"],
                            "diff_ci_low": d["ci_low"], "diff_ci_high": d["ci_high"]})
            if row["n"]:   # a mechanism's metric exists only in designs with that mechanism
                out.append(row)
    columns = ["design", "metric", "n", "mean", "sd", "ci_low", "ci_high", "baseline",
               "n_pairs", "diff_mean", "diff_sd", "diff_ci_low", "diff_ci_high"]
    frame = pd.DataFrame(out).reindex(columns=columns)
    frame["n_pairs"] = frame["n_pairs"].astype("Int64")
    return frame


def comparison_markdown(comparison: pd.DataFrame, context: dict) -> str:
    lines = [f"# Sweep report: {context['sweep_dir']}", "",
             f"- Sweep: `{context['sweep_command'] or 'unknown (no multirun.yaml)'}`",
             f"- Report: `{context['command']}`",
             f"- Runs: {context['n_runs']} complete in {comparison['design'].nunique()} design(s); "
             f"{context['n_failed']} failed; {context['n_missing']} missing (listed below and in provenance.json).",
             f"- {context['baseline_note']}",
             "- Designs are named by the overrides that vary between jobs (not seed, replicates, resume, "
             "hydra.*, output.*); `baseline` has none of them and no mechanism.",
             "- Common settings: " + (", ".join(f"`{k}={v}`" for k, v in context["common"].items()) or "none"),
             f"- Means over seeds with {CONFIDENCE:.0%} t-intervals; differences are design minus baseline, "
             "paired by seed over the seeds both have (pairs = n).", ""]
    metrics = key_metrics()
    for metric, group in comparison.groupby("metric", sort=False):
        name, unit = metrics[metric]
        lines += [f"## {name} (`{metric}`, {unit})", "",
                  "| design | n | mean | 95% CI | sd | difference | 95% CI | pairs |",
                  "|---|---:|---:|---|---:|---:|---|---:|"]
        for r in group.itertuples():
            pairs = "" if pd.isna(r.n_pairs) else str(r.n_pairs)
            lines.append(f"| {r.design} | {r.n} | {num(r.mean)} | {interval(r.ci_low, r.ci_high)} | "
                         f"{num(r.sd)} | {num(r.diff_mean)} | {interval(r.diff_ci_low, r.diff_ci_high)} | {pairs} |")
        lines.append("")
    for title, entries, key in (("Failed runs", context["failed"], "error"),
                                ("Missing runs", context["missing"], "reason")):
        if entries:
            lines += [f"## {title}", ""]
            lines += [f"- job {e['job']} ({e['design']}), `{e['run_dir'] or 'job folder'}`: {e[key]}" for e in entries]
            lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- provenance


def provenance(runs: pd.DataFrame, records: list[dict], sweep: dict | None, expected, jobs: list[Job],
               context: dict) -> dict:
    from sim.provenance import git_revision, package_versions

    versions: dict[str, list[str]] = {}
    for record in records:
        add_versions(versions, record.get("versions"))
    return {
        "sweep": {
            "dir": str(context["sweep_dir"]),
            "command": context["sweep_command"],
            "task_overrides": get(sweep, "hydra.overrides.task"),
            "hydra_overrides": get(sweep, "hydra.overrides.hydra"),
            "sweeper": get(sweep, "hydra.sweeper"),
            "launcher": get(sweep, "hydra.launcher"),
            "expected_jobs": None if expected is None else len(expected),
            "job_folders_found": sum(job.folder is not None for job in jobs),
        },
        "report": {"command": context["command"], "baseline": context["baseline"],
                   "baseline_note": context["baseline_note"], "common_settings": context["common"],
                   "figures": context["figures"], "git_revision": git_revision(),
                   "versions": package_versions()},
        "git_revisions": sorted({str(r.get("git_revision")) for r in records}),
        "versions": versions,
        "runs": [{"run_dir": run.run_dir, "job": None if pd.isna(run.job) else int(run.job),
                  "design": run.design, "seed": int(run.seed), "config_hash": rec.get("config_hash")}
                 for run, rec in zip(runs[["run_dir", "job", "design", "seed"]].itertuples(), records)],
        "failed": context["failed"],
        "missing": context["missing"],
    }


# ----------------------------------------------------------------------------------- main


def build(sweep_dir: Path, out_dir: Path, baseline: str | None, command: str) -> dict:
    """Everything the report writes, computed before anything is written."""
    if what := not_a_folder(sweep_dir):
        raise ReportError(f"'{sweep_dir}' {what}. Give the folder of a sweep made with "
                          "'python -m sim run -m ...' (the one holding multirun.yaml and a folder per job).")
    jobs, sweep, expected = discover(sweep_dir, out_dir)
    if not any(job.folder is not None for job in jobs):
        raise ReportError(f"'{sweep_dir}' holds no run folders (folders with .hydra/overrides.yaml, as "
                          "written by 'python -m sim run -m ...'). Check the path; nothing was written.")
    labels, common = design_labels(jobs)
    runs, records, failed, missing = table(jobs, labels, sweep_dir)
    if runs.empty:
        first = failed[0]["error"] if failed else "none has a summary.json"
        raise ReportError(f"'{sweep_dir}' has job folders but no complete run ({len(failed)} failed, "
                          f"{len(missing)} missing; first error: {first}). Nothing was written.")
    try:
        bands = trajectory_bands(runs, sweep_dir)
    except UnreadableTable as err:
        raise ReportError(f"{err}. That run's summary.json says it is complete, but its table is damaged. "
                          "Delete that run's folder and re-run the sweep command with resume=true (it re-runs "
                          "only what is missing), then report again. Nothing was written.") from None
    chosen, note = find_baseline(runs, baseline)
    comparison = compare(runs, chosen)
    context = {"sweep_dir": str(sweep_dir), "sweep_command": sweep_command(sweep), "command": command,
               "baseline": chosen, "baseline_note": note, "common": common, "failed": failed,
               "missing": missing, "n_runs": len(runs), "n_failed": len(failed), "n_missing": len(missing)}
    return {"runs": runs, "records": records, "comparison": comparison, "context": context, "sweep": sweep,
            "expected": expected, "jobs": jobs, "bands": bands}


def write_report(built: dict, sweep_dir: Path, out_dir: Path) -> None:
    runs, comparison, context = built["runs"], built["comparison"], built["context"]
    seeds = {d: sorted(int(s) for s in g["seed"]) for d, g in runs.groupby("design", sort=False)}
    sidecar = {"command": context["command"], "sweep_command": context["sweep_command"], "seeds": seeds}
    context["figures"] = figures(built["bands"], comparison, context["baseline"], out_dir / "figures", sidecar,
                                 key_metrics())
    write_parquet(runs, out_dir / "runs.parquet")
    write_text(comparison.to_csv(index=False), out_dir / "comparison.csv")
    write_text(comparison_markdown(comparison, context), out_dir / "comparison.md")
    write_json(provenance(runs, built["records"], built["sweep"], built["expected"], built["jobs"], context),
               out_dir / "provenance.json")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m sim report", description=(
        "Tables, effects against a baseline (paired by seed), figures and provenance of a sweep "
        "folder written by 'python -m sim run -m ...'. Reads run folders only; never runs the model. "
        "Failed and missing runs are listed in the report; the command still exits 0 unless --strict. "
        "Exit codes: 0 written, 1 --strict and runs failed or missing, 2 a mistake (nothing written)."))
    parser.add_argument("sweep_dir", metavar="SWEEP_DIR", type=Path, help="folder of the sweep (holds multirun.yaml)")
    parser.add_argument("--baseline", metavar="LABEL", help="design to compare against (default: the one "
                        "design without mechanisms)")
    parser.add_argument("--out", metavar="DIR", type=Path, help="output folder (default: SWEEP_DIR/report)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any run failed or is missing (by "
                        "default the report is written and the command exits 0, listing them)")
    opts = parser.parse_args(argv)
    sweep_dir = opts.sweep_dir
    out_dir = opts.out or sweep_dir / "report"
    command = shlex.join(["python", "-m", "sim", "report", *argv])
    try:
        built = build(sweep_dir.resolve(), out_dir.resolve(), opts.baseline, command)
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        write_report(built, sweep_dir.resolve(), out_dir.resolve())
    except OSError as err:   # the output folder is a file, read-only, or the disk is full
        print(f"error: cannot write the report to {out_dir} ({err.strerror or err}: {err.filename or out_dir}). "
              "Choose another folder with --out DIR.", file=sys.stderr)
        return 2
    ctx = built["context"]
    print(f"Report of {ctx['n_runs']} run(s) in {built['comparison']['design'].nunique()} design(s) "
          f"({ctx['n_failed']} failed, {ctx['n_missing']} missing): {out_dir.resolve()}")
    print(ctx["baseline_note"])
    if opts.strict and (ctx["n_failed"] or ctx["n_missing"]):
        print(f"error: --strict: {ctx['n_failed']} run(s) failed and {ctx['n_missing']} are missing (listed in "
              f"{out_dir / 'comparison.md'}); re-run the sweep command with resume=true to complete it.",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
