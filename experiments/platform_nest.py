"""Where the joint investment platform's saving vanishes: paired differences per nest lambda.

    python -m sim run +experiment=platform_nest
    python -m sim report results/sweeps/platform_nest --out results/reference/platform_nest
    python experiments/platform_nest.py results/reference/platform_nest

For each lambda of the firms' nested logit (docs/ODD.md 7.6), the platform (joint_investment)
minus the baseline, paired by seed: subsidy per placed firm and share of arriving firms lost, with
95% t-intervals. Writes ``lambda.csv`` and ``lambda.md`` next to the report's ``runs.parquet``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.analysis.stats import t_interval
from sim.files import write_text

METRICS = {"subsidy_per_firm_mean": "subsidy per firm (100 million yuan)", "firms_lost_share": "share of firms lost"}


def paired_by_lambda(runs: pd.DataFrame) -> pd.DataFrame:
    platform = runs["mechanism"].astype(str).str.contains("joint_investment")
    rows = []
    for nest, group in runs.groupby("model.firms.nest"):
        base = group[~platform[group.index]].set_index("seed")
        with_platform = group[platform[group.index]].set_index("seed")
        row = {"lambda": float(nest), "pairs": len(base.index.intersection(with_platform.index))}
        for metric in METRICS:
            diff = (with_platform[metric] - base[metric]).dropna().to_numpy(float)
            interval = t_interval(diff)
            row.update({f"{metric}_baseline": base[metric].mean(), f"{metric}_difference": interval.mean,
                        f"{metric}_low": interval.low, f"{metric}_high": interval.high})
        rows.append(row)
    return pd.DataFrame(rows)


def main(folder: str) -> None:
    out = Path(folder)
    table = paired_by_lambda(pd.read_parquet(out / "runs.parquet"))
    table.to_csv(out / "lambda.csv", index=False)
    lines = ["# Platform minus baseline by nest lambda (paired by seed, 95% t-intervals)", "",
             f"Command: `python experiments/platform_nest.py {folder}`", "",
             "| lambda | pairs | " + " | ".join(f"{label}: baseline | difference [95% CI]" for label in METRICS.values())
             + " |", "|---:|---:|" + "---:|---|" * len(METRICS)]
    for _, r in table.iterrows():
        cells = [f"{r[f'{m}_baseline']:.4g} | {r[f'{m}_difference']:+.3g} [{r[f'{m}_low']:+.3g}, {r[f'{m}_high']:+.3g}]"
                 for m in METRICS]
        lines.append(f"| {r['lambda']:g} | {int(r['pairs'])} | " + " | ".join(cells) + " |")
    write_text("\n".join(lines) + "\n", out / "lambda.md")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/reference/platform_nest")
