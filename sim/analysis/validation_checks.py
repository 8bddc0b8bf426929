"""The patterns and their checks: what each pattern claims, the run designs it needs, and the
measurable statements (checks) with their bands, evaluated over seeds.

Patterns are those of docs/ODD.md section 1 (P1-P5, P8, P9); section 1.1 lists the checks. A check
passes if the whole 95% interval of its statistic lies inside its band (:meth:`Check.evaluate`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.analysis import calibration
from sim.analysis.design_runs import RunRecord
from sim.analysis.stats import (CONFIDENCE, bootstrap_rows, bootstrap_trajectories, mean_interval,
                                predictive_p_value, rank_correlation)
from sim.analysis.validation_measures import (circle_link_ratio, distance_to, domain_ratio,
                                              entry_correlation, gdp_per_capita, hazard, peak_and_decline,
                                              pooled_hazard, trajectories)
from sim.config.schema import DOMAINS
from sim.data.targets import targets

PLAN_YEAR = 2015           # model.attention.plan_years default: the Middle Yangtze plan (March 2015)
QUICK_YEARS = 10


@dataclass(frozen=True)
class Band:
    """Accepted range of a statistic; ``text`` says it in words."""

    low: float = -math.inf
    high: float = math.inf
    text: str = ""
    strict: bool = False   # "> 0", "< 0": the interval may not touch the bound (a null's exact 0 is no effect)

    def holds(self, low: float, high: float) -> bool:
        inside = (low > self.low and high < self.high) if self.strict else (low >= self.low and high <= self.high)
        return bool(np.isfinite(low) and np.isfinite(high) and inside)

    def as_list(self) -> list:
        return [None if math.isinf(self.low) else self.low, None if math.isinf(self.high) else self.high]


@dataclass
class Check:
    """One measurable statement of a pattern, evaluated over seeds."""

    id: str
    pattern: str
    statistic: str
    band: Band
    band_source: str
    designs: tuple[str, ...]
    values: np.ndarray
    unit: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict)
    method: str = "t"
    estimate: tuple | None = None    # (value, low, high, n) computed otherwise (e.g. bootstrap of trajectories)
    how: str = ("percentile bootstrap over seeds (resampled jointly across designs) of the statistic of the "
                "seed-mean trajectory; per_seed holds the statistic of each seed's own trajectory, for information")

    def evaluate(self, designs: dict[str, tuple]) -> dict:
        if self.estimate is not None:
            mean, low, high, n = self.estimate
            how = f"{int(CONFIDENCE * 100)}% {self.how}"
        else:
            mean, low, high, n = mean_interval(self.values, method=self.method)
            how = (f"{int(CONFIDENCE * 100)}% {'Student-t' if self.method == 't' else 'percentile bootstrap'} "
                   "interval of the mean over seeds")
        return {
            "id": self.id, "pattern": self.pattern, "claim": PATTERNS[self.pattern]["claim"],
            "statistic": self.statistic, "unit": self.unit, "value": mean, "interval": [low, high],
            "interval_method": how,
            "band": self.band.as_list(), "band_text": self.band.text, "band_source": self.band_source,
            "pass": self.band.holds(low, high), "n_seeds": n,
            "overrides": {d: list(designs[d]) for d in self.designs},
            "per_seed": [None if not np.isfinite(v) else float(v) for v in np.asarray(self.values, float)],
            "note": self.note, **({"extra": self.extra} if self.extra else {}),
        }


PATTERNS: dict[str, dict[str, str]] = {
    "P1": {"name": "council growth",
           "claim": "Under three-tier operation on the Yangtze River Delta, the council grows from 14 members "
                    "(1992) to 41 (2019) in steps, poorer and more distant cities joining later; fitted to "
                    "1992-2010, the model forecasts the later growth better than persistence.",
           "source": "Liu & Chen 2021 (seed document 001); council sizes in sim/data/targets.csv; docs/ODD.md section 1"},
    "P2": {"name": "high start, low walk",
           "claim": "After the attention pulse, baseline cooperation peaks within a few years and falls clearly "
                    "below the peak; with three-tier operation it stays near the peak.",
           "source": "Liu & Chen 2021 (peak 2015-2017, thinning after 2018 in the Middle Yangtze); "
                     "docs/ODD.md section 1"},
    "P3": {"name": "three more, three less",
           "claim": "Baseline implemented cooperation in infrastructure, ecology and public services exceeds "
                    "industry and innovation severalfold, and agreements exceed delivered projects.",
           "source": "Liu & Chen 2021 (三多三少); docs/ODD.md section 1"},
    "P4": {"name": "core/periphery gap and enclaves",
           "claim": "The baseline keeps a persistent core/periphery gap in GDP per capita at the level of the "
                    "region's data; enclaves with an enforced sharing rule reduce inequality.",
           "source": "docs/ODD.md section 1; sim/data/targets.csv (the regions' ratios from the shipped tables)"},
    "P5": {"name": "subsidy race and the platform",
           "claim": "Subsidies rise with industrial similarity in the baseline; joint investment cuts the subsidy "
                    "per firm without losing firms, and unravels when deviation is rarely detected.",
           "source": "Liu & Chen 2021 (不良竞争 in 招商引资); seed 003 (统一的招商平台); "
                     "docs/ODD.md section 1"},
    "P8": {"name": "circles within circles",
           "claim": "Cooperation is higher inside metropolitan circles than across the agglomeration.",
           "source": "seed documents 003 and 004 (nested circles); docs/ODD.md section 1"},
    "P9": {"name": "sharing rules and enclave durability",
           "claim": "Enclave parks whose sharing rule violates one side's participation constraint dissolve "
                    "more often.",
           "source": "docs/ODD.md section 1; Liu & Chen 2021 (benefit sharing is the key to enclaves)"},
}


def p1_design(posterior: str | None) -> tuple[str, ...]:
    """P1's design with the entry parameters of a posterior (an embedded one's name or a draws file:
    each run takes the draw of its seed) or, with None, the grid's point estimate."""
    if posterior is None:
        return calibration.p1_overrides(calibration.CALIBRATED)
    chosen = (("posterior=csv", f"posterior.path={Path(posterior).resolve()}") if posterior.endswith(".csv")
              else (f"posterior={posterior}",))   # absolute: the runs compose their configs in worker processes
    return calibration.p1_overrides() + chosen


def run_designs_spec(quick: bool, p1: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Every run design of the validation, by name (``p1``: :func:`p1_design`)."""
    h = (f"years={QUICK_YEARS}",) if quick else ()
    return {
        "p1_council_yrd": p1,
        "baseline_my": h,
        "three_tier_my": ("+mechanism=three_tier", *h),
        "baseline_yrd": ("region=yangtze_delta", *h),
        "council_enclave_my": ("+mechanism=[three_tier,enclave]", "mechanism.three_tier.enclave_rule=proportional",
                               "mechanism.enclave.rule=proportional", *h),
        "platform_my": ("+mechanism=joint_investment", *h),
        "platform_undetected_my": ("+mechanism=joint_investment", "mechanism.joint_investment.detection=0",
                                   "model.traits.outbid=0.9", *h),
        "enclave_proportional_my": ("+mechanism=enclave", "mechanism.enclave.rule=proportional", *h),
        "enclave_in_situ_my": ("+mechanism=enclave", "mechanism.enclave.rule=in_situ", *h),
    }


def _paired(a: list[RunRecord], b: list[RunRecord], f: Callable[[RunRecord], float]) -> np.ndarray:
    """f(a) - f(b) for the seeds both designs have."""
    fb = {r.seed: f(r) for r in b}
    return np.array([f(r) - fb[r.seed] for r in a if r.seed in fb], dtype=float)


def _summary(key: str) -> Callable[[RunRecord], float]:
    def get(r: RunRecord) -> float:
        v = r.summary.get(key)
        return math.nan if v is None else float(v)
    return get


def checks_p1(runs) -> list[Check]:
    recs = runs["p1_council_yrd"]
    founders = np.isin(recs[0].cities["name"], calibration.FOUNDERS_1992)
    c = recs[0].cities
    per_capita = gdp_per_capita(c)
    km = distance_to(c, "Shanghai")
    end = calibration.END_YEAR
    paths = calibration.council_paths(recs)
    forecast = np.array([calibration.forecast_rmse(p) for p in paths])
    naive = calibration.persistence_rmse()
    by_year = {str(y): list(mean_interval(paths[:, calibration.YEARS.index(y)])[:3]) for y in calibration.COUNCIL_DATA}
    predictive = {str(y): {"data": v, "interval_95": np.nanpercentile(paths[:, calibration.YEARS.index(y)],
                                                                      [2.5, 97.5]).tolist()}
                  for y, v in calibration.HELD_OUT.items()}
    for entry in predictive.values():
        entry["data_inside"] = bool(entry["interval_95"][0] <= entry["data"] <= entry["interval_95"][1])
    held = ", ".join(map(str, calibration.HELD_OUT))
    design = ("p1_council_yrd",)
    held_sizes = paths[:, [calibration.YEARS.index(y) for y in calibration.HELD_OUT]]
    held_data = list(calibration.HELD_OUT.values())

    def smallest_p(rows: np.ndarray) -> float:
        return min(predictive_p_value(rows[:, j], value) for j, value in enumerate(held_data))

    alpha = 0.05 / len(held_data)
    for j, entry in enumerate(predictive.values()):
        entry["p_value"] = predictive_p_value(held_sizes[:, j], entry["data"])
    return [
        Check("P1a", "P1", f"forecast RMSE of the council size in the held-out years {held} (entry parameters "
              f"fitted to {calibration.START_YEAR}-{max(calibration.FIT_DATA)} only)",
              Band(-math.inf, naive, f"< {naive:.2f} cities, the error of the persistence forecast "
                   f"({calibration.FIT_DATA[max(calibration.FIT_DATA)]:.0f} members kept)", strict=True),
              "derived: targets.csv's held-out counts against the naive persistence forecast, the benchmark a "
              "forecast with skill must beat (Hyndman & Athanasopoulos 2021, section 5.2)",
              design, forecast, "cities",
              extra={"council_size_by_data_year": by_year, "data": calibration.COUNCIL_DATA,
                     "fit_rmse_calibration_years": calibration.pooled_rmse(list(paths))}),
        Check("P1b", "P1", "Spearman correlation, across non-founders, of entry year with GDP per capita (2015)",
              Band(-math.inf, 0, "< 0 (poorer join later)", strict=True), "docs/ODD.md section 1", design,
              np.array([entry_correlation(r.cities["joined"], per_capita, founders, end) for r in recs]), "rho"),
        Check("P1c", "P1", "Spearman correlation, across non-founders, of entry year with distance to Shanghai",
              Band(0, math.inf, "> 0 (more distant join later)", strict=True), "docs/ODD.md section 1", design,
              np.array([entry_correlation(r.cities["joined"], km, founders, end) for r in recs]), "rho"),
        Check("P1d", "P1", f"smallest two-sided posterior predictive p-value of the held-out council sizes ({held}) "
              "among the runs of the P1 design (posterior draws x seeds with a posterior; seeds at the point "
              "estimate without)",
              Band(alpha, 1.0, f">= {alpha:.4f}: 0.05, Bonferroni-corrected for the {len(held_data)} held-out years "
                   "(every count inside its predictive distribution)"),
              "derived: a posterior predictive check of the held-out targets (Gelman et al. 2013, ch. 6; Meng 1994)",
              design, np.array([]), "p", estimate=bootstrap_rows([held_sizes], smallest_p),
              how="percentile bootstrap over runs of the smallest p-value; extra.predictive_intervals_held_out "
                  "gives each year's p-value",
              extra={"predictive_intervals_held_out": predictive}),
    ]


def checks_p2(runs) -> list[Check]:
    """On the seed-mean trajectory: a single run's index is noisy, and the peak of a flat noisy series
    falls anywhere and lies above its tail by chance; the mean trajectory is the pattern's 'cooperation'."""
    base, tt = runs["baseline_my"], runs["three_tier_my"]
    years = base[0].timeseries["year"].to_numpy()
    matrix = trajectories

    def peak_year(mean):
        return peak_and_decline(years, mean)[0]

    def decline(mean):
        return peak_and_decline(years, mean)[1]

    own = [peak_and_decline(years, row) for row in matrix(base)]
    own_tt = [peak_and_decline(years, row) for row in matrix(tt)]
    return [
        Check("P2a", "P2", "year of the peak of the seed-mean cooperation index (3-year running mean), baseline",
              Band(PLAN_YEAR, PLAN_YEAR + 4, f"{PLAN_YEAR}-{PLAN_YEAR + 4} (within 4 years of the plan)"),
              "Liu & Chen 2021: peak 2015-2017 after the March 2015 plan; 'within a few years'",
              ("baseline_my",), np.array([o[0] for o in own], float), "year",
              estimate=bootstrap_trajectories([matrix(base)], peak_year)),
        Check("P2b", "P2", "relative decline (peak - mean of last 5 years) / peak of the seed-mean cooperation "
              "index (3-year running mean), baseline",
              Band(0.2, math.inf, ">= 0.2"), "our reading of 'falls clearly below the peak' (a fifth below it)",
              ("baseline_my",), np.array([o[1] for o in own]), "share",
              estimate=bootstrap_trajectories([matrix(base)], decline)),
        Check("P2c", "P2", "relative decline of the seed-mean index, three_tier minus baseline (seeds paired)",
              Band(-math.inf, 0, "< 0 (three-tier stays nearer the peak)", strict=True), "docs/ODD.md section 1",
              ("three_tier_my", "baseline_my"), np.array([a[1] - b[1] for a, b in zip(own_tt, own)]), "share",
              estimate=bootstrap_trajectories([matrix(tt), matrix(base)], lambda a, b: decline(a) - decline(b)),
              extra={"peak_year_three_tier": bootstrap_trajectories([matrix(tt)], peak_year)[:3]}),
    ]


def checks_p3(runs) -> list[Check]:
    base = runs["baseline_my"]
    return [
        Check("P3a", "P3", "implementing share per domain, summed over years: mean of infrastructure, ecology and "
              "public services over mean of industry and innovation, baseline", Band(2.0, math.inf, ">= 2"),
              "'severalfold' (Liu & Chen 2021) read as at least twofold", ("baseline_my",),
              np.array([domain_ratio(r.timeseries) for r in base]), "ratio",
              extra={"delivered_projects_ratio": mean_interval(
                  [domain_ratio(r.timeseries, prefix="projects_") for r in base])[:3],
                  "implementing_share_by_domain": {d: float(np.mean([r.timeseries[f"implemented_{d}"].mean()
                                                                     for r in base])) for d in DOMAINS},
                  "mean_similarity": float(np.mean([r.cities["similarity"].mean() for r in base]))}),
        Check("P3b", "P3", "agreements per delivered project (all domains, all years), baseline",
              Band(1.0, math.inf, "> 1", strict=True), "Liu & Chen 2021: more agreements signed than projects delivered",
              ("baseline_my",), np.array([_summary("agreements_per_project")(r) for r in base]), "ratio"),
    ]


def data_ratio_band(region: str) -> Band:
    """The band of a region's core/periphery ratio, derived from targets.csv: the range of its data
    years (same-year GDP and population), widened on each side by the largest change between two of
    them. The data's own movement over five years is what "persistent, about this level" allows."""
    values = [t.value for t in targets("core_periphery_ratio", region, "validation")]
    low, high = min(values), max(values)
    step = high - low
    return Band(low - step, high + step, f"{low - step:.2f}-{high + step:.2f} (data {low:.2f}-{high:.2f} "
                                         f"+/- their change {step:.2f})")


def checks_p4(runs) -> list[Check]:
    src = ("derived from targets.csv (the shipped tables' same-year ratios, 2015 and 2020) by the rule of "
           "data_ratio_band (docs/ODD.md 1.1)")
    out = []
    for cid, design, region, label in (("P4a", "baseline_my", "middle_yangtze", "Middle Yangtze"),
                                       ("P4b", "baseline_yrd", "yangtze_delta", "YRD (41 cities)")):
        recs = runs[design]
        band = data_ratio_band(region)
        data = float(recs[0].timeseries["core_periphery_ratio"].iloc[0])
        inside = band.low <= data <= band.high
        out.append(Check(cid, "P4", f"core/periphery GDP per capita ratio, final year, baseline, {label}", band, src,
                         (design,), np.array([_summary("core_periphery_ratio_final")(r) for r in recs]), "ratio",
                         note=f"the model's first year (2015 GDP, 2020 population) gives {data:.2f}: "
                              f"{'inside' if inside else 'outside'} the band",
                         extra={"data_value": data, "data_inside_band": inside}))
    for cid, design, label in (("P4c", "baseline_my", "Middle Yangtze"), ("P4d", "baseline_yrd", "YRD (41 cities)")):
        recs = runs[design]
        out.append(Check(cid, "P4", f"persistence: final / initial core/periphery ratio, baseline, {label}",
                         Band(0.9, 1.1, "0.9-1.1"), "our reading of 'persistent' (within 10% of its start)",
                         (design,), np.array([r.timeseries["core_periphery_ratio"].iloc[-1]
                                              / r.timeseries["core_periphery_ratio"].iloc[0] for r in recs]), "ratio"))
    theil = _summary("theil_final")
    out.append(Check("P4e", "P4", "Theil index, final year: three_tier+enclave (proportional rule fixed by the "
                     "council) minus three_tier alone (paired): the enclaves' own effect", Band(-math.inf, 0, "< 0",
                                                                                            strict=True),
                     "docs/ODD.md section 1", ("council_enclave_my", "three_tier_my"),
                     _paired(runs["council_enclave_my"], runs["three_tier_my"], theil), "Theil T",
                     extra={"council_enclave_minus_baseline": mean_interval(
                         _paired(runs["council_enclave_my"], runs["baseline_my"], theil))[:3],
                            "council_only_minus_baseline": mean_interval(
                         _paired(runs["three_tier_my"], runs["baseline_my"], theil))[:3]}))
    return out


def checks_p5(runs) -> list[Check]:
    base, ji, undetected = runs["baseline_my"], runs["platform_my"], runs["platform_undetected_my"]
    spf = _summary("subsidy_per_firm_mean")
    cut = _paired(ji, base, spf)
    back = _paired(undetected, ji, spf)
    recovered = (float(np.nanmean(back)) / -float(np.nanmean(cut))) if np.nanmean(cut) < 0 else math.nan
    return [
        Check("P5a", "P5", "Spearman correlation across cities of industrial similarity (to gravity partners) with "
              "the city's subsidy offer (mean over the run), baseline", Band(0, math.inf, "> 0", strict=True),
              "docs/ODD.md section 1; Liu & Chen 2021", ("baseline_my",),
              np.array([rank_correlation(r.cities["similarity"], r.cities["subsidy_mean"]) for r in base]), "rho"),
        Check("P5b", "P5", "subsidy per placed firm, joint_investment minus baseline (paired)",
              Band(-math.inf, 0, "< 0", strict=True), "docs/ODD.md section 1", ("platform_my", "baseline_my"), cut,
              "100 million yuan"),
        Check("P5c", "P5", "share of arriving firms lost to the outside, joint_investment minus baseline (paired)",
              Band(-math.inf, 0.01, "<= +0.01 (at most one percentage point more)"),
              "'without losing firms' (docs/ODD.md section 1), with a tolerance of 1 pp of arriving firms",
              ("platform_my", "baseline_my"), _paired(ji, base, _summary("firms_lost_share")), "share"),
        Check("P5d", "P5", "subsidy per placed firm, platform with detection 0 and outbid propensity 0.9 minus the "
              "default platform (paired)", Band(0, math.inf, "> 0 (the cut unravels)", strict=True), "docs/ODD.md section 1",
              ("platform_undetected_my", "platform_my"), back, "100 million yuan",
              extra={"share_of_cut_recovered": recovered}),
    ]


def checks_p8(runs) -> list[Check]:
    out = []
    for cid, design, label in (("P8a", "baseline_my", "Middle Yangtze"), ("P8b", "baseline_yrd", "YRD (41 cities)")):
        recs = runs[design]
        out.append(Check(cid, "P8", f"joint-project strength per linked pair, same circle over other pairs, "
                         f"baseline, {label}", Band(1.0, math.inf, "> 1", strict=True), "docs/ODD.md section 1", (design,),
                         np.array([circle_link_ratio(r.links, r.cities["circle"]) for r in recs]), "ratio"))
    return out


def checks_p9(runs) -> list[Check]:
    prop, situ = runs["enclave_proportional_my"], runs["enclave_in_situ_my"]
    return [
        Check("P9a", "P9", "dissolutions per park-year, parks violating a money participation constraint at "
              "formation minus compliant parks (proportional rule)", Band(0, math.inf, "> 0", strict=True),
              "docs/ODD.md section 1", ("enclave_proportional_my",),
              np.array([hazard(r.summary, "enclave_dissolved_violating")
                        - hazard(r.summary, "enclave_dissolved_compliant") for r in prop]), "per park-year"),
        Check("P9b", "P9", "dissolutions per park-year, in-situ rule minus proportional rule (paired)",
              Band(0, math.inf, "> 0", strict=True), "docs/ODD.md sections 1 and 7.11.2 (in situ never meets the sender's constraint)",
              ("enclave_in_situ_my", "enclave_proportional_my"),
              _paired(situ, prop, lambda r: pooled_hazard(r.summary)),
              "per park-year"),
    ]


CHECKS = (checks_p1, checks_p2, checks_p3, checks_p4, checks_p5, checks_p8, checks_p9)
