"""Robustness ensembles: ``python -m sim validate --robustness``.

A verdict that holds only under one learning rule or one network is a property of that choice, not
of the model's mechanisms. This runs the whole validation (checks and their null models, same
seeds) under each variant of :data:`VARIANTS`: the learning rule (Fermi imitation, Bush-Mosteller
reinforcement, logit choice) and the network (partners k, gravity exponent gamma, metropolitan
circles as groups), one variant at a time against the defaults, and tabulates each check's status
per variant. A check is *robust* if its status (validated, not diagnostic, FAIL, ...) is the same
under every variant.

Writes ``robustness.json`` (every variant's full validation results) and ``robustness.md`` (the
check x variant table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sim.analysis.formatting import quantity
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


def robustness(validate: Callable[..., tuple[dict, dict]], names: Sequence[str], n_seeds: int, quick: bool,
               jobs: int, posterior: str | None, progress: Callable[[str], None] = print) -> dict:
    """The validation (``validate``: :func:`sim.analysis.validate.validate`, which this module's command
    runs) under the defaults and each named variant; the check x variant table."""
    names = ["defaults", *(n for n in names if n != "defaults")]
    results = {}
    for name in names:
        progress(f"robustness: variant {name} ({' '.join(VARIANTS[name]) or 'the defaults'})")
        results[name], _ = validate(n_seeds, quick=quick, jobs=jobs, posterior=posterior, variant=VARIANTS[name],
                                    progress=progress)
    table = {}
    for name, result in results.items():
        for check in (c for p in result["patterns"] for c in p["checks"]):
            table.setdefault(check["id"], {})[name] = {"status": check["status"], "pass": check["pass"],
                                                       "value": check["value"], "unit": check["unit"]}
    robust = [cid for cid, row in table.items() if len({v["status"] for v in row.values()}) == 1]
    return {"variants": {n: list(VARIANTS[n]) for n in names}, "n_seeds": n_seeds, "quick": quick,
            "posterior": posterior, "table": table, "robust": robust,
            "changed": [cid for cid in table if cid not in robust], "results": results,
            "git_revision": results["defaults"]["git_revision"],
            "seconds": round(sum(r["seconds"] for r in results.values()), 1)}


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
              "variant's full validation results.", ""]
    return "\n".join(lines)


def write(ensemble: dict, out: Path, command: str) -> None:
    write_text(markdown(ensemble, command), out / "robustness.md")
    write_json({**ensemble, "command": command}, out / "robustness.json")   # last: marks a complete ensemble
