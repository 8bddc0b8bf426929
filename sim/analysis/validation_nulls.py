"""Null models of the validation: for each check, a model that should not produce its pattern.

A null is some of the check's run designs with overrides that remove the cause the pattern
claims (docs/ODD.md 1.1). :mod:`sim.analysis.validate` runs them beside the checks and gives
each check a status from the two results.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.analysis.validation_checks import CHECKS
from sim.config.schema import DOMAINS


@dataclass(frozen=True)
class Null:
    """A model that should not produce a check's pattern: some of the check's designs with overrides
    that remove the cause the pattern claims. A check that its null also passes is not diagnostic:
    the model would pass it without the mechanism the pattern is about (docs/ODD.md 1.1)."""

    name: str
    why: str
    changes: dict[str, tuple[str, ...]]   # design -> overrides that replace or add keys of that design


def _key(override: str) -> str:
    return override.lstrip("+~").split("=", 1)[0]


def with_changes(design: tuple[str, ...], changes: tuple[str, ...]) -> tuple[str, ...]:
    """``design`` with every key that ``changes`` sets dropped, then ``changes`` appended; a key
    the design adds with '+' (not in the schema's defaults) keeps its '+', as Hydra needs."""
    replaced = {_key(c) for c in changes}
    added = {_key(o) for o in design if o.startswith("+")}
    return (tuple(o for o in design if _key(o) not in replaced)
            + tuple(("+" if _key(c) in added else "") + c.lstrip("+") for c in changes))


def nulls(facts: dict) -> dict[str, Null | None]:
    """The null model of every check, by check id; None for a side condition ("without losing
    firms"), which doing nothing meets by construction. ``facts``: the defaults some nulls
    restore (:func:`null_facts`)."""
    no_plans = Null("no plans", "no attention pulses (no plan years), so nothing makes entry come in steps "
                    "after the Delta's plans", {"p1_council_yrd": ("model.attention.plan_years=[]",)})
    blind = Null("blind entry", "entry ignores the income, gravity-linkage and contiguity rules (the "
                 "gain-over-dues condition and the plan-driven entry hazard remain)", {"p1_council_yrd": (
                     "mechanism.three_tier.income_threshold=0", "mechanism.three_tier.linkage_threshold=0",
                     "mechanism.three_tier.contiguity=false")})
    no_pulse = Null("no plan", "no attention pulse (no plan year), so nothing makes cooperation peak after 2015",
                    {"baseline_my": ("model.attention.plan_years=[]",)})
    silent_forums = Null("silent forums", "the council forms, monitors, fines and co-funds, but its forums neither "
                         "raise attention nor sign projects: what keeps cooperation near its peak, if anything, is "
                         "enforcement", {"three_tier_my": ("mechanism.three_tier.attention_boost=0",
                                                           "mechanism.three_tier.forum_projects=false")})
    same_domains = Null("identical domains", "all five domains take infrastructure's parameters (synergy, cost, "
                        "kept share, rivalry, threshold, lag, grant, negotiation), so nothing sets 'three more' "
                        "apart from 'three less'", {"baseline_my": facts["identical_domains"]})
    exogenous = Null("exogenous growth", "payoffs do not feed growth (phi = 0): GDP per head grows at the uniform "
                     "base rate and output with each city's population trend, whatever the cities do",
                     {d: ("model.growth.payoff_elasticity=0",) for d in ("baseline_my", "baseline_yrd")})
    enclave_inert = Null("enclaves inert", "no park can form (maximum distance 0): only the council acts",
                         {"council_enclave_my": ("mechanism.enclave.max_distance_km=0",)})
    frozen = Null("frozen offers", "no learning and no best-response adjustment: each city keeps its initial "
                  "subsidy draw, independent of its similarity to its partners",
                  {"baseline_my": ("model.learning.revision_rate=0", "model.firms.adjustment=0")})
    platform_inert = Null("platform inert", "the platform has no members, so it does nothing",
                          {"platform_my": ("mechanism.joint_investment.membership=list",
                                           "mechanism.joint_investment.members=[]")})
    forced_outbids = Null("detection kept", "outbid propensity forced to 0.9 as in the check, but detection at its "
                          f"default ({facts['platform_detection']}): if the cut unravels anyway, the forced "
                          "propensity, not rare detection, unravels it",
                          {"platform_undetected_my": (
                              f"mechanism.joint_investment.detection={facts['platform_detection']}",)})
    no_circles = Null("circles play no role", "circles are not cooperation groups (circle_groups=false, the "
                      "default): whatever favours same-circle pairs comes from distance and size alone",
                      {d: ("model.network.circle_groups=false",) for d in ("baseline_my", "baseline_yrd")})
    no_exit = Null("no exit", "hosts never renege (renege rate 0) and a side whose realised gain stays below its "
                   "disagreement value never leaves (patience 100 years, longer than any run), so a violated "
                   "participation constraint cannot end a park",
                   {d: ("mechanism.enclave.renege_rate=0", "mechanism.enclave.patience=100")
                    for d in ("enclave_proportional_my", "enclave_in_situ_my")})
    return {"P1a": no_plans, "P1b": blind, "P1c": blind, "P1d": no_plans, "P2a": no_pulse, "P2b": no_pulse, "P2c": silent_forums,
            "P3a": same_domains, "P3b": same_domains, "P4a": exogenous, "P4b": exogenous, "P4c": exogenous,
            "P4d": exogenous, "P4e": enclave_inert, "P5a": frozen, "P5b": platform_inert, "P5c": None,
            "P5d": forced_outbids, "P8a": no_circles, "P8b": no_circles, "P9a": no_exit, "P9b": no_exit}


def null_facts() -> dict:
    """The default values the nulls restore, composed as ``python -m sim run`` would."""
    from sim.config.loading import load_config

    cfg = load_config(["+mechanism=joint_investment"])
    infra = cfg.model.domains.infrastructure
    return {"platform_detection": float(cfg.mechanism.joint_investment.detection),
            "identical_domains": tuple(f"model.domains.{d}.{k}={infra[k]}" for d in DOMAINS[1:] for k in infra)}


def null_designs(designs: dict[str, tuple[str, ...]], null_of: dict[str, Null]) -> dict[str, tuple[str, ...]]:
    """Every null's changed designs, named '<design> | <null>'."""
    return {f"{d} | {null.name}": with_changes(designs[d], changes)
            for null in _distinct(null_of) for d, changes in null.changes.items()}


def _distinct(null_of: dict[str, Null | None]) -> list[Null]:
    return list({n.name: n for n in null_of.values() if n is not None}.values())


def evaluate_nulls(runs: dict, designs: dict[str, tuple[str, ...]], null_of: dict[str, Null]) -> dict[str, dict]:
    """Each check evaluated under its null: the check's statistic on the null's runs, by check id."""
    out = {}
    for null in _distinct(null_of):
        swapped = {**runs, **{d: runs[f"{d} | {null.name}"] for d in null.changes}}
        view = {**designs, **{d: designs[f"{d} | {null.name}"] for d in null.changes}}
        for make in CHECKS:
            for check in make(swapped):
                if null_of.get(check.id) is null:
                    out[check.id] = check.evaluate(view)
    return out
