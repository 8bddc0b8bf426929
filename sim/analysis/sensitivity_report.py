"""The tables of a sensitivity analysis (:mod:`sim.analysis.sensitivity`) as markdown, and the
labels of parameters and outputs that the tables and figures share."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.formatting import bracket, num
from sim.analysis.report import key_metrics
from sim.analysis.sensitivity_indices import morris_delta


def _num(value) -> str:
    """Three significant digits, empty if missing: the precision of the index tables."""
    return num(value, 3)


def output_label(output: str) -> tuple[str, str]:
    """Name and unit of an output: the report's for its key metrics, else made from the key."""
    return key_metrics().get(output, (output.replace("_", " ").capitalize(), ""))


def short_name(parameter: str) -> str:
    """``mechanism.three_tier.detection`` -> ``three_tier.detection``; ``model.x.y`` -> ``x.y``."""
    for prefix in ("mechanism.", "model."):
        if parameter.startswith(prefix):
            return parameter[len(prefix):]
    return parameter


def markdown(table: pd.DataFrame, design: dict, context: dict) -> str:
    method, opts = design["method"], design["options"]
    k = design["problem"]["num_vars"]
    if method == "morris":
        what = (f"Morris elementary effects: r = {opts['samples']} trajectories, {opts['levels']} levels, "
                f"{design['n_jobs']} jobs = r(k+1) with k = {k}")
    else:
        what = (f"Sobol indices (Saltelli sampling): N = {opts['samples']} base samples, "
                f"{'with' if opts['second_order'] else 'without'} second order, {design['n_jobs']} jobs")
    reps, seed = int(design.get("replicates", 1)), int(design.get("model_seed", 0))
    lines = [f"# Sensitivity analysis: {context['sweep_dir']}", "",
             f"- Sweep: `{context['sweep_command'] or 'unknown (no multirun.yaml)'}`",
             f"- Analysis: `{context['command']}`",
             f"- Design: {what}; sampler seed {opts['seed']}.",
             f"- Seeds: every job runs model seeds {seed}..{seed + reps - 1} ({reps} replicate(s), common random "
             "numbers); a job's output is the mean over its replicates.",
             f"- Runs: {context['runs']} complete; missing jobs: {context['missing_jobs'] or 'none'}; "
             f"failed jobs: {context['failed_jobs'] or 'none'}.", ""]
    lines += ["## Parameters", "", "| parameter | range | source | base value | meaning |", "|---|---|---|---:|---|"]
    for r in design["ranges"]:
        lines.append(f"| `{r['parameter']}` | [{r['lo']:g}, {r['hi']:g}] | {r['source']} | "
                     f"{'' if r['value'] is None else r['value']} | {r['doc']} |")
    lines.append("")
    if method == "morris":
        lines += ["mu*: mean absolute elementary effect, in output units per full range of the parameter "
                  f"(steps of {morris_delta(int(opts['levels'])):.3g} of the range); 95% bootstrap interval "
                  "over trajectories; sigma/mu* > 1 suggests non-linearity or interactions. The noise floor is "
                  "the mu* that seed noise alone exceeds with probability 5% were the parameter without effect "
                  "(from the spread of its elementary effects over seeds); a parameter marked 'within noise' "
                  "(mu* at most its floor) cannot be told from no effect with these seeds.", ""]
    else:
        lines += ["S1: first-order (main effect) index, ST: total-order index (with interactions), each with its "
                  "95% bootstrap interval. The noise share is the share of the output's variance over the design "
                  "that is seed noise in the replicate means.", ""]
    for output, group in table.groupby("output", sort=False):
        name, unit = output_label(output)
        lines += [f"## {name} (`{output}`{', ' + unit if unit else ''})", ""]
        if method == "morris":
            lines += [f"Trajectories used: {group['trajectories'].iloc[0]}.", "",
                      "| rank | parameter | mu* | 95% CI | noise floor | mu | sigma | sigma/mu* | mu*/max |",
                      "|---:|---|---:|---|---:|---:|---:|---:|---:|"]
            for r in group.itertuples():
                ratio = r.sigma / r.mu_star if r.mu_star > 0 else math.nan
                flag = " (within noise)" if np.isfinite(r.noise_floor) and r.mu_star <= r.noise_floor else ""
                ci = bracket(_num(max(r.mu_star - r.mu_star_conf, 0.0)), _num(r.mu_star + r.mu_star_conf))
                lines.append(f"| {r.rank} | `{short_name(r.parameter)}`{flag} | {_num(r.mu_star)} | {ci} | "
                             f"{_num(r.noise_floor) or 'n/a'} | {_num(r.mu)} | {_num(r.sigma)} | {_num(ratio)} | "
                             f"{_num(r.mu_star_norm)} |")
        else:
            lines += [f"Noise share: {_num(group['noise_share'].iloc[0]) or 'n/a (1 replicate)'}; "
                      f"sum of S1: {_num(group['S1'].sum())}.", "",
                      "| rank | parameter | S1 | 95% CI | ST | 95% CI |", "|---:|---|---:|---|---:|---|"]
            for r in group.itertuples():
                lines.append(f"| {r.rank} | `{short_name(r.parameter)}` | {_num(r.S1)} | "
                             f"{bracket(_num(r.S1 - r.S1_conf), _num(r.S1 + r.S1_conf))} | {_num(r.ST)} | "
                             f"{bracket(_num(r.ST - r.ST_conf), _num(r.ST + r.ST_conf))} |")
        lines.append("")
    if context["notes"]:
        lines += ["## Notes", ""] + [f"- {n}" for n in context["notes"]] + [""]
    return "\n".join(lines)
