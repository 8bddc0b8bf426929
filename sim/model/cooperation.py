"""One domain's cooperation round: sign, implement, produce the public good, detect defection.

Step 3 of the yearly schedule (docs/ODD.md sections 3 and 7.5). Everything is vectorised over cities and group memberships.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.decisions import Levers
from sim.model.game import public_good_returns
from sim.model.network import Groups
from sim.model.upper_government import peer_share


@dataclass(frozen=True)
class DomainOutcome:
    """What happened in one domain in one year (arrays over cities unless noted)."""

    signed: np.ndarray          # city signed this domain's agreements
    party: np.ndarray           # city is party to at least one agreement (signed, and a partner too)
    implemented: np.ndarray     # party that implemented
    detected: np.ndarray        # party that did not implement and was caught
    cost: np.ndarray            # implementation cost paid (rivalry mark-up included)
    negotiation: np.ndarray     # cost of negotiating the agreements signed
    grant: np.ndarray           # the upper government's matching grant to implementers
    created: float              # total benefit created this year (paid now or after the lag)
    benefit: np.ndarray         # benefit each city will receive from this year's projects
    credit: np.ndarray          # political credit earned for implementing (performance assessment)
    sanction: np.ndarray        # political sanction on detected defectors
    saved: np.ndarray           # implementation cost a non-implementing party saved
    agreement: np.ndarray       # per group: an agreement was signed (two or more signatories)
    signatories: np.ndarray     # per group: number of signatories
    delivered: np.ndarray       # per group: the project was delivered
    joint_pairs: np.ndarray     # per group pair: both members implemented a realised project


def cooperation_round(rng, groups: Groups, gdp, sign_prob, implement_prob, domain, pair_weight,
                      levers: Levers, peers: np.ndarray | None = None) -> DomainOutcome:
    """Sign-then-implement public goods game of one domain over overlapping groups.

    * Each city signs with probability ``sign_prob`` and, if it then is party to an agreement
      (a group in which at least two members signed), implements with ``implement_prob``
      (both from :mod:`sim.model.decisions`, this year's levers included).
    * Signing costs nu_d c_d Y_i f^N_i (negotiation: Feiock 2013's transaction costs).
    * Implementing costs c_d Y_i (1 + rho_d sigma_i) f_i (our assumption: cost proportional to
      size), of which the upper government refunds mu_d as a matching grant; the created
      benefit r_d c_d Y_i is split over the city's agreements, a share theta_d kept and the rest
      spilled to the other members by gravity weight.
    * A group's project is realised only if the share of its members implementing reaches
      the threshold phi_d (a coordination game for infrastructure and ecology).
    * Implementing earns credit kappa A_i Y_i in the performance assessment; with ``peers``
      (each city's province) the assessment is relative, kappa A_i Y_i (1[implemented] minus the
      share of provincial peers implementing). A party that does not implement is detected with
      probability q_i and pays eta times the cost it saved.
    """
    n = groups.n
    u_sign, u_impl, u_detect = rng.random(n), rng.random(n), rng.random(n)
    signed = u_sign < sign_prob
    signed_mem = signed[groups.mem_city]
    signatories = groups.group_sum(signed_mem)
    agreement = signatories >= 2
    party_mem = signed_mem & agreement[groups.mem_group]
    party = groups.player_sum(party_mem) > 0
    implemented = party & (u_impl < implement_prob)
    impl_mem = party_mem & implemented[groups.mem_city]
    implementers = groups.group_sum(impl_mem)
    realised = agreement & (implementers >= domain.threshold * groups.size)
    delivered = realised & (implementers >= 0.5 * signatories)

    unit_cost = domain.cost * gdp
    full_cost = unit_cost * levers.cost
    cost = np.where(implemented, full_cost, 0.0)
    party_count = groups.player_sum(party_mem)
    per_membership = unit_cost / np.maximum(party_count, 1)   # a city's effort goes to its agreements
    contribution = np.where(impl_mem & realised[groups.mem_group], per_membership[groups.mem_city], 0.0)
    benefit = public_good_returns(groups, contribution, domain.synergy, domain.kept_share, pair_weight)

    done = implemented if peers is None else implemented - peer_share(implemented, peers)
    credit = levers.credit * unit_cost * done
    detected = party & ~implemented & (u_detect < levers.detection)
    sanction = np.where(detected, levers.sanction * full_cost, 0.0)
    joint = contribution > 0
    return DomainOutcome(
        signed=signed, party=party, implemented=implemented, detected=detected, cost=cost,
        negotiation=np.where(signed, levers.negotiation * unit_cost, 0.0),
        grant=levers.grant * cost,
        created=float(domain.synergy * contribution.sum()), benefit=benefit, credit=credit,
        sanction=sanction, saved=np.where(party & ~implemented, full_cost, 0.0), agreement=agreement, signatories=signatories, delivered=delivered,
        joint_pairs=joint[groups.pair_src] & joint[groups.pair_dst],
    )
