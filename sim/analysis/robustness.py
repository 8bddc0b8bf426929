"""Robustness ensembles: ``python -m sim validate --robustness``.

A verdict that holds only under one learning rule or one network is a property of that choice, not
of the model's mechanisms. This runs the whole validation (checks and their null models, same
seeds) under each variant of :data:`VARIANTS`: the learning rule (Fermi imitation, Bush-Mosteller
reinforcement, logit choice) and the network (partners k, gravity exponent gamma, metropolitan
circles as groups), one variant at a time against the defaults, and tabulates each check's status
per variant. A check is *robust* if its status (validated, not diagnostic, FAIL, ...) is the same
under every variant.

It also ranks the institutional designs under every variant, from the same runs (Middle Yangtze,
seeds paired): each design's effect against the baseline on the outcomes of :data:`OUTCOMES`, with
its 95% interval over seeds, and the best design per outcome. A recommendation *survives* the
variants if the same design is best under every one and its effect's interval excludes 0 under
every one.

Writes ``robustness.json`` (every variant's full validation results, the effects and rankings) and
``robustness.md`` (the check x variant table and the rankings).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sim.analysis.formatting import quantity
from sim.analysis.stats import mean_interval
from sim.files import write_json, write_text

#: name -> overrides of every design; the defaults first (k = 5, gamma = 2, no circle groups, Fermi).
VARIANTS: dict[str, tuple[str, ...]] = {
    "defaults": (),
    "bush_mosteller": ("model.learning.rule=bush_mosteller",),
    "logit": ("model.learning.rule=logit",),
    "partners_3": ("model.network.partners=3",),
    "partners_8": ("model.network.partners=8",),
    "gamma_1": ("model.network.gamma=1",),
    "gamma_3": ("model.network.gamma=3",),
    "circle_groups": ("model.network.circle_groups=true",),
}
DEFAULT_SEEDS = 30
#: The validation's Middle Yangtze designs that the ranking compares (each institution as the checks run it).
DESIGNS: dict[str, str] = {"three_tier_my": "three_tier", "enclave_proportional_my": "enclave (proportional)",
                           "platform_my": "joint_investment"}
BASELINE = "baseline_my"
#: summary key -> (words, +1 if higher is better, -1 if lower is); the outcome each institution is meant to move.
OUTCOMES: dict[str, tuple[str, int]] = {
    "cooperation_index": ("cooperation index (last 5 years)", +1),
    "theil_final": ("Theil index of GDP per capita, final year", -1),
    "subsidy_per_firm_mean": ("subsidy per placed firm", -1),
    "gdp_total_final": ("regional GDP, final year", +1),
}


def robustness(validate: Callable[..., tuple[dict, dict]], names: Sequence[str], n_seeds: int, quick: bool,
               jobs: int, posterior: str | None, progress: Callable[[str], None] = print) -> dict:
    """The validation (``validate``: :func:`sim.analysis.validate.validate`, which this module's command
    runs) under the defaults and each named variant; the check x variant table."""
    names = ["defaults", *(n for n in names if n != "defaults")]
    results, effects = {}, {}
    for name in names:
        progress(f"robustness: variant {name} ({' '.join(VARIANTS[name]) or 'the defaults'})")
        results[name], runs = validate(n_seeds, quick=quick, jobs=jobs, posterior=posterior, variant=VARIANTS[name],
                                       progress=progress)
        effects[name] = design_effects(runs)
    table = {}
    for name, result in results.items():
        for check in (c for p in result["patterns"] for c in p["checks"]):
            table.setdefault(check["id"], {})[name] = {"status": check["status"], "pass": check["pass"],
                                                       "value": check["value"], "unit": check["unit"]}
    robust = [cid for cid, row in table.items() if len({v["status"] for v in row.values()}) == 1]
    return {"variants": {n: list(VARIANTS[n]) for n in names}, "n_seeds": n_seeds, "quick": quick,
            "posterior": posterior, "table": table, "robust": robust, "effects": effects,
            "ranking": ranking(effects),
            "changed": [cid for cid in table if cid not in robust], "results": results,
            "git_revision": results["defaults"]["git_revision"],
            "seconds": round(sum(r["seconds"] for r in results.values()), 1)}


def design_effects(runs: dict) -> dict[str, dict[str, dict]]:
    """Outcome -> design -> the effect against the baseline (paired by seed): mean, 95% interval, seeds."""
    base = {r.seed: r.summary for r in runs[BASELINE]}
    out = {}
    for key in OUTCOMES:
        out[key] = {}
        for design in DESIGNS:
            diffs = [r.summary[key] - base[r.seed][key] for r in runs[design]
                     if r.seed in base and r.summary.get(key) is not None and base[r.seed].get(key) is not None]
            mean, low, high, n = mean_interval(diffs)
            out[key][design] = {"effect": mean, "interval": [low, high], "n_seeds": n}
    return out


def ranking(effects: dict) -> dict[str, dict]:
    """Per outcome: the best design under each variant (the baseline counts, with effect 0), and whether
    the recommendation survives: the same best design under every variant, its interval excluding 0."""
    out = {}
    for key, (_, sign) in OUTCOMES.items():
        best = {}
        for variant, by_outcome in effects.items():
            scores = {BASELINE: 0.0, **{d: sign * e["effect"] for d, e in by_outcome[key].items()}}
            best[variant] = max(scores, key=lambda d: (scores[d], d == BASELINE))
        first = next(iter(best.values()))
        clear = all(first != BASELINE and _excludes_zero(effects[v][key][first]["interval"]) for v in effects)
        out[key] = {"best": best, "survives": len(set(best.values())) == 1 and clear}
    return out


def _excludes_zero(interval) -> bool:
    low, high = interval
    return bool(low == low and high == high and (low > 0 or high < 0))   # NaN bounds exclude nothing


def markdown(ensemble: dict, command: str) -> str:
    names = list(ensemble["variants"])
    lines = ["# Robustness of the validation to the learning rule and the network", "",
             f"- Command: `{command}`",
             f"- Seeds 0-{ensemble['n_seeds'] - 1} per design and variant; git revision {ensemble['git_revision']}; "
             f"time {ensemble['seconds']} s" + (" — **quick mode**: verdicts are not meaningful" if ensemble["quick"]
                                                 else ""),
             "- Variants (each changes every design, null models included, against the defaults): "
             + "; ".join(f"`{n}`: `{' '.join(ov) or '(defaults)'}`" for n, ov in ensemble["variants"].items()),
             f"- Robust (the same status under every variant): {', '.join(ensemble['robust']) or 'none'}",
             f"- Status changes with the variant: {', '.join(ensemble['changed']) or 'none'}", "",
             "| check | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for cid, row in ensemble["table"].items():
        cells = [f"{row[n]['status']} ({quantity(row[n]['value'], row[n]['unit'])})" if n in row else "-" for n in names]
        lines.append(f"| {cid} | " + " | ".join(cells) + " |")
    lines += ["", "Each cell: the check's status under that variant (docs/ODD.md 1.1: validated, not diagnostic, "
              "inconclusive, unchecked, side condition, FAIL) and its value. `robustness.json` holds every "
              "variant's full validation results.", "", "## Ranking the designs under each variant", "",
              "Effect of each institution against the baseline (Middle Yangtze, seeds paired), mean and 95% interval "
              "over seeds; **best** marks the best design under that variant (the baseline when no institution "
              "improves on it). A recommendation survives if the same design is best under every variant with an "
              "interval excluding 0.", ""]
    for key, (words, sign) in OUTCOMES.items():
        rank = ensemble["ranking"][key]
        survivor = next(iter(rank["best"].values()))
        lines += [f"### {words} ({'higher' if sign > 0 else 'lower'} is better): "
                  + (f"**{DESIGNS.get(survivor, survivor)} survives**" if rank["survives"] else "no design survives"), "",
                  "| design | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for design, label in DESIGNS.items():
            cells = []
            for n in names:
                e = ensemble["effects"][n][key][design]
                low, high = e["interval"]
                cells.append(f"{e['effect']:+.3g} [{low:+.3g}, {high:+.3g}]" + (" **best**" if rank["best"][n] == design
                                                                                else ""))
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def write(ensemble: dict, out: Path, command: str) -> None:
    write_text(markdown(ensemble, command), out / "robustness.md")
    write_json({**ensemble, "command": command}, out / "robustness.json")   # last: marks a complete ensemble
