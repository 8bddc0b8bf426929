"""Three-tier operation (三级运作) of the Yangtze River Delta: decision, coordination, execution.

A council is a costly pool institution (Sigmund et al. 2010): members pay yearly dues into a
pool that pays the meeting and office costs. The decision layer (a leaders' forum every
tau_D years) sets the agenda and raises members' attention; the coordination layer lowers
members' negotiation cost in agenda domains and fixes the enclave sharing rule; the execution
layer forms topic groups of capped size in each agenda domain (the members most engaged in
that domain first), monitors members (detection q_E) and collects their sanctions into the
pool. Membership starts from a
core and grows at forum years by application and entry thresholds, as the YRD city economic
coordination council grew from 14 (1992) to 41 (2019) members (seed documents 000, 001).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.config.schema import DOMAINS, param

if TYPE_CHECKING:   # tables are built after the run; a bad command line fails before pandas loads
    import pandas as pd

RULES = ("keep", "proportional", "shapley", "nash", "fixed", "in_situ")


@dataclass
class ThreeTierConfig:
    founders: str = param(doc="founding members: provincial capitals, a list of names, or none",
                          choices=("capitals", "list", "none"))
    founder_names: list[str] = field(default_factory=list, metadata={"doc": "founders when founders=list"})
    forum_interval: int = param(1, 50, "tau_D: years between leaders' forums (first forum in the first year)")
    agenda_size: int = param(0, len(DOMAINS), "domains put on the agenda at each forum")
    attention_boost: float = param(0, 10, "extra attention of members in a forum year, decaying with tau_A")
    dues: float = param(0, 0.1, "yearly dues, share of a member's GDP")
    meeting_cost: float = param(0, 0.1, "cost of a forum, share of members' total GDP")
    office_cost: float = param(0, 0.1, "yearly cost of the joint office, share of members' total GDP")
    cost_cut: float = param(0, 1, "coordination layer: cut in members' negotiation (signing) cost in agenda domains")
    detection: float = param(0, 1, "q_E: execution-layer detection of members' signing without implementing")
    fine: float = param(0, 100, "fine on a caught member, multiple of the implementation cost it saved")
    topic_group_size: int = param(2, 1000, "largest topic group of the execution layer")
    second_order: bool = param(doc="sanction members who shirk dues (second-order sanction)")
    shirk_rate: float = param(0, 1, "chance that a member shirks its dues in a year [our assumption]")
    second_order_fine: float = param(0, 100, "fine on a detected shirker, multiple of its dues")
    income_threshold: float = param(0, 10, "entry: applicant GDP per capita / members' mean GDP per capita")
    linkage_threshold: float = param(0, 1, "entry: share of the applicant's gravity partners that are members")
    contiguity: bool = param(doc="entry: require a member within contiguity_km")
    contiguity_km: float = param(0, 5000, "entry: distance to the nearest member for contiguity")
    max_admissions: int = param(0, 100000, "most cities admitted at one forum (0: no limit)")
    entry_rate: float = param(0, 1000, "epsilon: an applicant that passes the entry rules joins at a forum with "
                                       "probability 1 - exp(-epsilon A_i(t)): plans drive entry")
    forum_projects: bool = param(doc="at a forum, members sign agreements in the agenda domains "
                                     "(concrete projects signed at each meeting)")
    cofund: float = param(0, 1, "share of members' implementation cost in agenda domains that the pool refunds")
    enclave_rule: str = param(doc="sharing rule the coordination layer fixes for members' parks", choices=RULES)


class ThreeTier(Mechanism):
    """A council with a decision, a coordination and an execution layer."""

    name = "three_tier"
    schema = ThreeTierConfig
    figure_panels = (("council_size", "Council members"), ("council_pool", "Pool (100 million yuan)"))
    inert = ("mechanism.three_tier.founders=none",)
    report_metrics = {"council_size_final": ("Council members, final year", "cities")}

    def __init__(self, model, params: Any) -> None:
        super().__init__(model, params)
        self.member = self._founders(model, params)
        self.joined = np.where(self.member, model.year, -1)
        self.agenda: list[int] = []
        self.last_forum: int | None = None
        self.year_flows: dict[str, float] = {}
        self.dues_paid = np.zeros(model.n)

    @staticmethod
    def _founders(model, p) -> np.ndarray:
        if p.founders == "capitals":
            return model.core.copy()
        if p.founders == "none":
            return np.zeros(model.n, dtype=bool)
        return model.city_mask(p.founder_names, "mechanism.three_tier.founder_names", "founders=capitals")

    # ------------------------------------------------------------------ schedule
    def before_round(self, model) -> None:
        p = self.params
        self.year_flows = {"forum": 0.0, "admitted": 0.0, "shirkers": 0.0, "shirkers_fined": 0.0}
        forum = (model.year - model.start_year) % p.forum_interval == 0
        if forum and self.member.any():
            self._hold_forum(model)
        if not self.member.any():
            return
        model.council = self.member.copy()
        model.council_sharing_rule = None if p.enclave_rule == "keep" else p.enclave_rule
        since = model.year - self.last_forum
        boost = p.attention_boost * np.exp(-since / model.params.attention.decay_years)
        model.attention_city = model.attention_city + boost * self.member
        model.detection = np.where(self.member, np.maximum(model.detection, p.detection), model.detection)
        for d in self.agenda:
            model.negotiation_factor[self.member, d] *= 1.0 - p.cost_cut
            model.cofunding[self.member, d] = p.cofund
            model.committed[self.member, d] |= forum and p.forum_projects
        self._collect_dues(model)

    def _hold_forum(self, model) -> None:
        """Decision layer: admit applicants, set the agenda, form topic groups; pay the meeting."""
        p = self.params
        self.last_forum = model.year
        self.year_flows["forum"] = 1.0
        self._admit(model)
        self.agenda = self._set_agenda(model)
        model.set_domain_groups(range(len(DOMAINS)), [])
        for d in self.agenda:
            model.set_domain_groups([d], self.topic_groups(model, d))
        self._spend("meeting", p.meeting_cost * model.gdp[self.member].sum())

    def topic_groups(self, model, d: int) -> list[np.ndarray]:
        """One domain's topic groups (专题组: set up by field in the departments concerned, seed
        001): members ordered by what the council can see of their engagement in the domain,
        last year's implementation there first, then reputation, in groups of at most the cap
        (our assumption: cities with a record in a field lead its groups and join them first)."""
        members = np.flatnonzero(self.member)
        outcomes = getattr(model, "outcomes", None)
        did = outcomes[DOMAINS[d]].implemented[members] if outcomes else np.zeros(len(members), dtype=bool)
        ordered = members[np.lexsort((-model.reputation.estimate()[members], ~did))]
        groups = np.array_split(ordered, int(np.ceil(len(ordered) / self.params.topic_group_size)))
        return [g for g in groups if len(g) > 1]

    def _set_agenda(self, model) -> list[int]:
        """The domains where members implement least, i.e. where talk most outruns practice
        (our assumption, after the council's move 'from talk to practice'); first forum: in order."""
        if self.params.agenda_size == 0:
            return []
        outcomes = getattr(model, "outcomes", None)
        if not outcomes:
            return list(range(self.params.agenda_size))
        shares = [outcomes[d].implemented[self.member].mean() for d in DOMAINS]
        return sorted(np.argsort(shares, kind="stable")[: self.params.agenda_size].tolist())

    def _admit(self, model) -> None:
        """Non-members whose expected gain exceeds the dues apply; those passing the thresholds join."""
        p = self.params
        if not self.member.any():
            return
        coop = model.last_area_payoff[:, : len(DOMAINS)].sum(axis=1)   # last year, share of GDP
        gain = coop[self.member].mean() - coop
        per_capita = model.gdp / model.population
        income_ok = per_capita >= p.income_threshold * per_capita[self.member].mean()
        linkage_ok = self.member[model.partners].mean(axis=1) >= p.linkage_threshold
        ok = ~self.member & (gain > p.dues) & income_ok & linkage_ok
        if p.contiguity:
            ok &= self._near_member(model, p.contiguity_km)
        if ok.any():   # upper-government attention (the plans) drives entry
            ok &= model.rng.random(model.n) < 1.0 - np.exp(-p.entry_rate * model.attention_city)
        applicants = np.flatnonzero(ok)
        if p.max_admissions and len(applicants) > p.max_admissions:
            applicants = applicants[np.argsort(-gain[applicants], kind="stable")[: p.max_admissions]]
        self.member[applicants] = True
        self.joined[applicants] = model.year
        self.year_flows["admitted"] = float(len(applicants))

    def _near_member(self, model, km: float) -> np.ndarray:
        from sim.model.network import great_circle_km

        members = np.flatnonzero(self.member)
        near = np.zeros(model.n, dtype=bool)
        for start in range(0, model.n, 512):   # chunks keep memory at 512 x members
            rows = np.arange(start, min(start + 512, model.n))
            dist = great_circle_km(model.xyz[rows, None, :], model.xyz[None, members, :])
            near[rows] = dist.min(axis=1) <= km
        return near

    def _collect_dues(self, model) -> None:
        """Members pay dues into the pool; with second-order sanctions, caught shirkers pay a fine."""
        p = self.params
        due = p.dues * model.gdp * self.member
        shirk = self.member & (model.rng.random(model.n) < p.shirk_rate) if p.shirk_rate > 0 else \
            np.zeros(model.n, dtype=bool)
        paid = np.where(shirk, 0.0, due)
        if p.second_order:
            caught = shirk & (model.rng.random(model.n) < p.detection)
            paid = paid + np.where(caught, p.second_order_fine * due, 0.0)
            self.year_flows["shirkers_fined"] = float(caught.sum())
        self.year_flows["shirkers"] = float(shirk.sum())
        self.dues_paid = np.where(shirk, 0.0, due)
        self._charge("dues", paid)
        self.balance += paid.sum()
        self._spend("office", p.office_cost * model.gdp[self.member].sum())

    def _spend(self, account: str, amount: float) -> None:
        """Pool pays a cost that leaves the region."""
        self._levy_shortfall(amount)
        self.balance -= amount
        self.sink(account, amount)

    def _levy_shortfall(self, amount: float) -> None:
        """What the pool lacks to pay ``amount`` is levied on members in proportion to GDP."""
        model = self.model
        shortfall = max(amount - self.balance, 0.0)
        if shortfall > 0:
            share = model.gdp * self.member / (model.gdp * self.member).sum()
            self._charge("levy", shortfall * share)
            self.balance += shortfall

    def _charge(self, account: str, amount: np.ndarray) -> None:
        """Charge members, spread equally over the five domain areas the council serves."""
        for d in range(len(DOMAINS)):
            self.pay(account, -amount / len(DOMAINS), DOMAINS[d])

    def after_production(self, model) -> None:
        """Execution layer: members caught signing without implementing pay a fine, a multiple
        of the cost they saved, into the pool (on top of the upper government's sanction); the
        pool refunds members its share of their implementation cost in the agenda domains."""
        if not self.member.any():
            return
        for d, out in enumerate(model.outcomes.values()):
            caught = out.detected & self.member
            fine = np.where(caught, self.params.fine * out.saved, 0.0)
            self.pay("fines", -fine, DOMAINS[d])
            self.balance += fine.sum()
        for d in self.agenda:
            refund = self.params.cofund * model.outcomes[DOMAINS[d]].cost * self.member
            self._levy_shortfall(refund.sum())
            self.pay("cofunding", refund, DOMAINS[d])
            self.balance -= refund.sum()
        self._rebate(model)

    def _rebate(self, model) -> None:
        """The pool keeps a reserve of one year's office and meeting costs and returns the rest,
        up to this year's dues, to the members in proportion to the dues they paid (our
        assumption: the council is not a profit centre, and fines stay in the pool for its
        costs and co-funding instead of flowing back to the fined in proportion to GDP)."""
        p = self.params
        reserve = (p.office_cost + p.meeting_cost) * model.gdp[self.member].sum()
        paid = self.dues_paid.sum()
        surplus = min(self.balance - reserve, paid)
        if surplus > 0:
            self._charge("rebate", -surplus * self.dues_paid / paid)
            self.balance -= surplus

    # ------------------------------------------------------------------ outputs
    def observables(self) -> dict[str, float]:
        return {"council_size": int(self.member.sum()), "council_pool": float(self.balance),
                "council_forum": self.year_flows.get("forum", 0.0),
                "council_admitted": self.year_flows.get("admitted", 0.0),
                "council_shirkers": self.year_flows.get("shirkers", 0.0),
                "council_agenda": ",".join(DOMAINS[d] for d in self.agenda)}

    def summary(self, timeseries: pd.DataFrame) -> dict[str, Any]:
        order = np.argsort(np.where(self.joined < 0, np.iinfo(np.int64).max, self.joined), kind="stable")
        entries = [{"city": str(self.model.names[i]), "year": int(self.joined[i])} for i in order if self.joined[i] >= 0]
        costs = timeseries.filter(like="ledger_three_tier.sink.").to_numpy().sum()  # meetings + office
        return {"council_size_final": int(self.member.sum()), "council_entry_order": entries,
                "council_cost_total": float(costs)}

    def tables(self) -> dict[str, pd.DataFrame]:
        import pandas as pd

        joined = self.joined >= 0
        return {"council": pd.DataFrame({"city": np.flatnonzero(joined), "name": self.model.names[joined],
                                         "joined": self.joined[joined]}).sort_values(["joined", "city"])}
