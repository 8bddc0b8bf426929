"""Structured schema of every parameter: type, allowed range and meaning.

Values live in the YAML files under ``sim/configs/``; this module says what a value may be.
Hydra rejects unknown keys and wrong types against these dataclasses while composing;
:func:`sim.config.loading.validate` then checks the ranges recorded here, and the ODD's
parameter tables are checked against the same metadata.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Optional

from omegaconf import II, MISSING, DictConfig, OmegaConf

INF = float("inf")


def param(lo: float = -INF, hi: float = INF, doc: str = "", choices: tuple = (), default: Any = MISSING) -> Any:
    """A schema field and its allowed range; no default unless given (the YAML gives it)."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "doc": doc, "choices": choices})


def optional(lo: float = -INF, hi: float = INF, doc: str = "") -> Any:
    """A schema field that only some config options set; null elsewhere."""
    return field(default=None, metadata={"lo": lo, "hi": hi, "doc": doc, "choices": ()})


DOMAINS = ("infrastructure", "ecology", "public_services", "industry", "innovation")
SECTORS_DOC = "number of industrial sectors in a city's industry profile"


@dataclass
class DomainConfig:
    synergy: float = param(0, 20, "r_d: benefit created per unit of implementation cost")
    cost: float = param(1e-6, 0.2, "c_d: yearly implementation cost as a share of the implementer's GDP "
                                   "(the unit of the decision incentives, so above 0)")
    kept_share: float = param(0, 1, "theta_d: share of the benefit kept by the implementer")
    rivalry: float = param(0, 20, "rho_d: cost mark-up per unit of mean industrial similarity")
    threshold: float = param(0, 1, "phi_d: share of group members that must implement for any benefit")
    lag: int = param(0, 10, "L_d: years between implementation and benefit")
    grant: float = param(0, 1, "mu_d: upper-government matching grant, share of an implementer's cost")
    negotiation: float = param(0, 10, "nu_d: cost of negotiating and signing a year's agreements, multiple of "
                                      "the base implementation cost c_d Y_i [our assumption]")


@dataclass
class DomainsConfig:
    infrastructure: DomainConfig = field(default_factory=DomainConfig)
    ecology: DomainConfig = field(default_factory=DomainConfig)
    public_services: DomainConfig = field(default_factory=DomainConfig)
    industry: DomainConfig = field(default_factory=DomainConfig)
    innovation: DomainConfig = field(default_factory=DomainConfig)


@dataclass
class NetworkConfig:
    gamma: float = param(0, 5, "distance-decay exponent of gravity R_ij = Y_i Y_j / d_ij^gamma")
    partners: int = param(1, 1000, "k: gravity partners per city (size of a city's own group minus one)")
    min_distance_km: float = param(0.1, 1000, "floor on d_ij so that neighbouring seats do not dominate")
    circle_groups: bool = param(doc="add one group per metropolitan circle (institutionalised circles)")


@dataclass
class AttentionConfig:
    plan_years: list[int] = field(default_factory=list, metadata={
        "lo": 1900, "hi": 2200, "choices": (),
        "doc": "years of the upper-government plans, each starting an attention pulse"})
    base: float = param(0, 10, "A_0: attention before and long after the plan")
    pulse: float = param(0, 10, "A_1: extra attention in the plan year")
    decay_years: float = param(0.01, 100, "tau_A: e-folding time of the pulse (years)")
    credit: float = param(0, 1, "kappa: political credit per domain in which a city implements, share of GDP per unit attention")


@dataclass
class UpperConfig:
    assessment: str = param(doc="officials' political credit for implementing: relative to their provincial "
                                "peers (promotion tournament) or absolute", choices=("relative", "absolute"))
    river_pacts: bool = param(doc="upstream-downstream ecological compensation pacts of the region's cities "
                                  "(sim/data/river_pacts.csv: the Xin'an River model)")


@dataclass
class DecisionsConfig:
    intensity: float = param(0, 100, "beta_D: log-odds of signing and implementing per unit of this year's change "
                                     "in net incentive (units of the base implementation cost); 0: traits only")


@dataclass
class EnforcementConfig:
    detection: float = param(0, 1, "q_0: probability that a party to an agreement that did not implement is detected")
    sanction: float = param(0, 100, "eta: sanction on a detected defector, multiple of the cost it saved")


@dataclass
class TrustConfig:
    rate: float = param(0, 1, "lambda_T: weight of this year's evidence in the reputation update")


@dataclass
class FirmsConfig:
    per_city: float = param(0, 100, "expected mobile firms arriving per city per year (Poisson)")
    sectors: int = param(1, 50, SECTORS_DOC)
    value_share: float = param(0, 1, "mean firm value as a share of the mean city GDP")
    value_sigma: float = param(0, 5, "log-normal dispersion of firm value")
    benefit_rate: float = param(0, 10, "b: tax and job value to the host per unit of firm value")
    beta_market: float = param(0, 100, "logit weight of log market access")
    beta_cluster: float = param(0, 100, "logit weight of the host's share in the firm's sector")
    beta_subsidy: float = param(0, 1000, "logit weight of the subsidy offered (per unit of firm value)")
    outside_utility: float = param(-100, 100, "deterministic utility of leaving the region")
    nest: float = param(0.01, 1, "lambda: dissimilarity of the region's nest in the firms' nested logit "
                                 "(1: plain logit; smaller: the region's cities are closer substitutes)")
    subsidy_max: float = param(0, 1, "largest subsidy a city may offer, share of firm value")
    adjustment: float = param(0, 1, "alpha: yearly partial adjustment of a city's subsidy towards its best "
                                    "response to rivals' offers (0: the subsidy is imitated like other traits)")
    profile_concentration: float = param(0.01, 1e4, "Dirichlet concentration of city profiles around their province's")


@dataclass
class GrowthConfig:
    base_rate: float = param(-0.5, 0.5, "g_0: exogenous yearly growth rate")
    payoff_elasticity: float = param(0, 100, "phi: growth per unit of normalised payoff pi_i")
    noise: float = param(0, 1, "sd of the yearly growth shock epsilon_i")


@dataclass
class TraitsConfig:
    sign: float = param(0, 1, "initial mean propensity to sign, every domain")
    implement: float = param(0, 1, "initial mean propensity to implement, every domain")
    subsidy: float = param(0, 1, "initial mean subsidy offer, share of firm value")
    enclave: float = param(0, 1, "initial mean willingness to enter enclave deals")
    platform: float = param(0, 1, "initial mean propensity to join an opt-in investment platform")
    outbid: float = param(0, 1, "initial mean propensity of a platform member to outbid secretly")
    spread: float = param(0, 1, "sd of the initial traits around their means")


@dataclass
class LearningConfig:
    rule: str = param(doc="learning rule", choices=("fermi", "bush_mosteller", "logit"))
    revision_rate: float = param(0, 1, "probability that a city revises its traits in a year")
    noise: float = param(1e-9, 100, "K: noise of the Fermi and logit rules on payoffs (normalised payoff units)")
    mutation_rate: float = param(0, 1, "probability that a trait mutates after a revision")
    mutation_sd: float = param(0, 1, "sd of a mutation")
    aspiration: float = param(-10, 10, "Bush-Mosteller aspiration level (normalised payoff)")
    sensitivity: float = param(0, 1e6, "Bush-Mosteller stimulus sensitivity to payoff minus aspiration")
    step: float = param(0, 1, "Bush-Mosteller learning step")


@dataclass
class ModelConfig:
    network: NetworkConfig = field(default_factory=NetworkConfig)
    attention: AttentionConfig = field(default_factory=AttentionConfig)
    upper: UpperConfig = field(default_factory=UpperConfig)
    decisions: DecisionsConfig = field(default_factory=DecisionsConfig)
    domains: DomainsConfig = field(default_factory=DomainsConfig)
    enforcement: EnforcementConfig = field(default_factory=EnforcementConfig)
    trust: TrustConfig = field(default_factory=TrustConfig)
    firms: FirmsConfig = field(default_factory=FirmsConfig)
    growth: GrowthConfig = field(default_factory=GrowthConfig)
    traits: TraitsConfig = field(default_factory=TraitsConfig)
    learning: LearningConfig = field(default_factory=LearningConfig)


REGION_NAMES = ("middle_yangtze", "yangtze_delta", "yangtze_delta_26", "synthetic", "csv")


@dataclass
class RegionConfig:
    name: str = param(doc="embedded region, 'synthetic' or 'csv'", choices=REGION_NAMES)
    path: Optional[str] = optional(doc="csv: path of the city table")
    # Synthetic-only settings: null for the other regions, set in sim/runs/configs/region/synthetic.yaml.
    # Time grows about linearly: 16,000 cities, all mechanisms: set-up 1.6 s, 20 years 7.5 s (2 cores).
    n_cities: Optional[int] = optional(2, 50_000, "synthetic: number of cities")
    n_provinces: Optional[int] = optional(1, 1000, "synthetic: number of provinces")
    circles_per_province: Optional[int] = optional(1, 100, "synthetic: metropolitan circles per province")
    zipf_exponent: Optional[float] = optional(0, 5, "synthetic: exponent of the rank-size rule for GDP")
    extent_km: Optional[float] = optional(1, 5000, "synthetic: side of the square the cities are placed in")
    seed: Optional[int] = optional(0, 2**32 - 1, "synthetic: layout seed (an input, fixed across model seeds)")


# The settings only region=synthetic uses, in RegionConfig's order.
SYNTHETIC_KEYS = ("n_cities", "n_provinces", "circles_per_province", "zipf_exponent", "extent_km", "seed")


@dataclass
class OutputConfig:
    figures: bool = param(doc="write figures (PNG and PDF)")
    events: bool = param(doc="write events.parquet")
    layout: str = param(doc="'folders': a folder per run (figures included); 'table': one table per kind for all of "
                            "a job's replicates, with seed and swept-value columns, and summaries.json (no figures)",
                        choices=("folders", "table"))


@dataclass
class PosteriorConfig:
    """Parameter sets drawn from a calibration's posterior (``posterior=<name>``; sim/config/posterior.py)."""

    name: str = param(doc="'none', or the posterior whose draws set parameters: an embedded one "
                          "(sim/runs/configs/posterior/) or 'csv' with posterior.path", default="none")
    path: str = param(doc="CSV of equally weighted draws, one column per dotted config key "
                          "(pkg://... for a packaged file; a relative path is taken from the working folder)",
                      default="")
    draw: int = param(0, 2**32 - 1, "which draw sets the parameters, taken modulo the number of draws; by "
                                    "default the seed, so that a sweep over seeds samples the posterior",
                      default=II("seed"))


@dataclass
class Config:
    seed: int = param(0, 2**32 - 1, "seed of the model's random generator")
    start_year: int = param(1900, 2200, "first simulated year")
    years: int = param(1, 1000, "number of simulated years")
    replicates: int = param(1, 100_000, "runs per job, with seeds seed, seed+1, ... (one folder each)")
    resume: bool = param(doc="skip replicates whose folder already holds a complete run of this config")
    region: RegionConfig = field(default_factory=RegionConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    mechanism: dict[str, Any] = field(default_factory=dict)
    output: OutputConfig = field(default_factory=OutputConfig)
    posterior: PosteriorConfig = field(default_factory=PosteriorConfig)


def leaf_fields(schema: type, prefix: str = ""):
    """Yield (dotted key, dataclass field) for every leaf parameter of a schema."""
    for f in fields(schema):
        key = f"{prefix}{f.name}"
        default = f.default_factory() if callable(f.default_factory) else None  # type: ignore[misc]
        if is_dataclass(default):
            yield from leaf_fields(type(default), key + ".")
        elif f.name != "mechanism":
            yield key, f


# The last conversion per schema, keyed by content: (resolved JSON text, dataclass instance).
_converted: dict[type, tuple[str, Any]] = {}


def as_dataclass(node: Any, schema: type) -> Any:
    """A config node as an instance of its schema dataclass, shared by equal nodes in turn.

    Converting through OmegaConf costs milliseconds per node and a run converts several;
    replicates of a sweep (and batch runs of one design) convert equal nodes one after another,
    so the last conversion per schema is reused while the content is unchanged. The instance
    is shared between models: treat it as read-only.
    """
    if not isinstance(node, DictConfig):
        return node
    data = OmegaConf.to_container(node, resolve=True)   # interpolations (e.g. a posterior draw) need the root
    content = json.dumps(data, sort_keys=True, default=str)
    cached = _converted.get(schema)
    if cached is None or cached[0] != content:
        cached = (content, OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), data)))
        _converted[schema] = cached
    return cached[1]
