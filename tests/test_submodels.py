"""Unit tests of the submodels: gravity, the public-goods engine, logit choice, Fermi, inequality."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.model.firms import nested_choice_probabilities
from sim.model.game import fermi_probability, pair_weights, public_good_returns
from sim.model.learning import reference_partner
from sim.model.metrics import core_periphery_ratio, gini, theil
from sim.model.network import Edges, Groups, ego_groups, gravity_partners, great_circle_km, unit_vectors

finite = st.floats(-50, 50, allow_nan=False)


pair_batches = st.lists(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=20), max_size=6)


@settings(max_examples=200, deadline=None)
@given(pair_batches)
def test_edges_are_found_again_and_added_once_in_key_order(batches):
    """Edges.index: every pair maps to its own edge, indices handed out stay valid, and a batch's
    unseen pairs are appended once each, in order of src * n + dst (which fixes trust's layout)."""
    n, edges, seen = 8, Edges(8, reputation=np.full(8, 0.5)), {}
    for batch in batches:
        src = np.array([s for s, _ in batch], dtype=np.int64)
        dst = np.array([d for _, d in batch], dtype=np.int64)
        before = len(edges)
        idx = edges.index(src, dst)
        assert (edges.src[idx] == src).all() and (edges.dst[idx] == dst).all()
        new = sorted({s * n + d for s, d in batch} - {s * n + d for s, d in seen})
        assert (edges.src[before:] * n + edges.dst[before:]).tolist() == new
        for pair, i in zip(batch, idx.tolist()):
            assert seen.setdefault(pair, i) == i     # a pair keeps its edge from batch to batch
    assert len(edges) == len(seen) and (edges.trust == 0.5).all() and (edges.factor == 1).all()


def test_great_circle_distance_wuhan_changsha():
    xyz = unit_vectors(np.array([30.593, 28.228]), np.array([114.305, 112.939]))
    # Wuhan-Changsha seat to seat is about 300 km.
    assert 290 < great_circle_km(xyz[0], xyz[1]) < 310


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 400), k=st.integers(1, 12), spread=st.sampled_from([0.0, 1.0, 2.5]),
       gamma=st.sampled_from([0.5, 1.0, 2.0, 3.0]), min_km=st.sampled_from([0.1, 10.0, 300.0]),
       few_places=st.booleans(), seed=st.integers(0, 2**16))
def test_gravity_partners_match_brute_force(n, k, spread, gamma, min_km, few_places, seed):
    """Exact despite the tiered k-d tree search: the same partners in the same order as a dense
    search (ties to the lower index), whether a few huge cities reach far (spread), GDPs tie
    (spread 0) or cities share a seat (few_places)."""
    rng = np.random.default_rng(seed)
    places = rng.integers(0, min(n, 5), n) if few_places else np.arange(n)
    lat, lon = rng.uniform(25, 35, n)[places], rng.uniform(110, 120, n)[places]
    gdp = np.round(rng.lognormal(7, spread, n), 1)
    xyz = unit_vectors(lat, lon)
    partners, dist = gravity_partners(xyz, gdp, k=k, gamma=gamma, min_km=min_km)
    full = np.maximum(great_circle_km(xyz[:, None], xyz[None, :]), min_km)
    strength = gdp[None, :] / full**gamma
    np.fill_diagonal(strength, -np.inf)
    best = np.argsort(-strength, axis=1, kind="stable")[:, :min(k, n - 1)]
    assert (partners == best).all()   # same partners, strongest first
    assert not (partners == np.arange(n)[:, None]).any()
    assert np.allclose(dist, full[np.arange(n)[:, None], partners])


def lattice_groups(side: int) -> Groups:
    """Von Neumann groups on a periodic square lattice: each site and its four neighbours."""
    idx = np.arange(side * side).reshape(side, side)
    neighbours = np.stack([np.roll(idx, s, axis=a) for a, s in ((0, 1), (0, -1), (1, 1), (1, -1))], axis=-1)
    return ego_groups(neighbours.reshape(-1, 4))


def test_public_goods_engine_reproduces_the_lattice_game():
    groups = lattice_groups(4)
    rng = np.random.default_rng(0)
    cooperator = rng.random(16) < 0.5
    contribution = cooperator[groups.mem_city].astype(float)
    weights = pair_weights(groups, np.ones(len(groups.pair_src)))
    r = 3.5
    received = public_good_returns(groups, contribution, r, 1 / 5, weights)
    expected = np.zeros(16)
    for g in range(16):
        members = groups.mem_city[groups.ptr[g]:groups.ptr[g + 1]]
        expected[members] += r * cooperator[members].sum() / 5
    assert np.allclose(received, expected)


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 30), st.integers(1, 6), st.floats(0, 1), st.floats(0.1, 5), st.integers(0, 1000))
def test_public_good_is_conserved(n, k, kept, synergy, seed):
    """Everything created is received by somebody: sum(received) = r * sum(contributions)."""
    rng = np.random.default_rng(seed)
    k = min(k, n - 1)
    partners = np.array([rng.choice(np.delete(np.arange(n), i), k, replace=False) for i in range(n)])
    groups = ego_groups(partners)
    contribution = rng.random(len(groups.mem_city)) * (rng.random(len(groups.mem_city)) < 0.6)
    weights = pair_weights(groups, rng.random(len(groups.pair_src)) + 0.01)
    received = public_good_returns(groups, contribution, synergy, kept, weights)
    assert received.sum() == pytest.approx(synergy * contribution.sum())
    assert (received >= 0).all()


@settings(max_examples=100, deadline=None)
@given(arrays(float, st.tuples(st.integers(1, 5), st.integers(1, 40)), elements=finite), finite)
def test_nested_logit_probabilities_sum_to_one(utility, outside):
    for nest in (1.0, 0.5, 0.05):
        p = nested_choice_probabilities(utility, outside, nest)
        assert p.shape == (utility.shape[0], utility.shape[1] + 1)
        assert np.allclose(p.sum(axis=1), 1.0)
        assert (p >= 0).all()


@settings(max_examples=200, deadline=None)
@given(arrays(float, st.tuples(st.integers(1, 5), st.integers(1, 40)), elements=st.floats(-30, 30)),
       st.floats(-30, 30))
def test_nested_logit_with_lambda_one_is_the_plain_logit(utility, outside):
    """lambda = 1: McFadden's conditional logit, exp(U_j) / (exp(U_0) + sum_k exp(U_k))."""
    full = np.column_stack([utility, np.full(len(utility), outside)])
    e = np.exp(full - full.max(axis=1, keepdims=True))
    assert np.allclose(nested_choice_probabilities(utility, outside, 1.0), e / e.sum(axis=1, keepdims=True),
                       rtol=1e-9, atol=1e-12)


def test_a_tighter_nest_keeps_more_firms_with_one_good_offer():
    """lambda < 1: the region's value approaches its best city's, so one attractive city holds
    more of the region's share than under the plain logit (no independence of irrelevant alternatives)."""
    utility = np.array([[2.0, -3.0, -3.0, -3.0]])
    stay = [1 - nested_choice_probabilities(utility, 1.0, nest)[0, -1] for nest in (1.0, 0.5, 0.2)]
    plain = [1 - nested_choice_probabilities(np.full((1, 4), 2.0), 1.0, nest)[0, -1] for nest in (1.0, 0.5, 0.2)]
    share = np.array(stay) / np.array(plain)   # one good city's stay, relative to four good ones
    assert share[0] < share[1] < share[2] <= 1.0


def test_fermi_probability():
    assert fermi_probability(np.array([1.0]), np.array([1.0]), 0.5)[0] == pytest.approx(0.5)
    low, high = fermi_probability(np.array([0.0, 0.0]), np.array([-1.0, 1.0]), 0.5)
    assert low < 0.5 < high
    assert high == pytest.approx(1 / (1 + np.exp(-1 / 0.5)))
    # Tiny noise gives a deterministic imitation of better strategies without overflow.
    assert fermi_probability(np.array([0.0]), np.array([1.0]), 1e-9)[0] == pytest.approx(1.0)


def test_reference_partner_follows_weights():
    rng = np.random.default_rng(0)
    partners = np.tile([[7, 8, 9]], (20000, 1))
    weight = np.tile([[0.7, 0.2, 0.1]], (20000, 1))
    ref = reference_partner(rng, partners, weight)
    shares = np.bincount(ref, minlength=10)[7:] / 20000
    assert np.allclose(shares, [0.7, 0.2, 0.1], atol=0.02)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 30), st.integers(0, 10_000))
def test_theil_decomposes_and_gini_is_bounded(n, seed):
    rng = np.random.default_rng(seed)
    gdp, pop = rng.lognormal(5, 1, n), rng.lognormal(3, 1, n)
    groups = rng.integers(0, 3, n)
    total, between, within = theil(gdp, pop, groups)
    assert total >= -1e-12 and between >= -1e-12 and within >= -1e-12
    assert between + within == pytest.approx(total)
    assert 0.0 <= gini(gdp / pop, pop) < 1.0


def test_equal_per_capita_means_no_inequality():
    pop = np.array([1.0, 2.0, 3.0])
    assert theil(2 * pop, pop)[0] == pytest.approx(0.0, abs=1e-12)
    assert gini(np.full(3, 2.0), pop) == pytest.approx(0.0, abs=1e-12)
    assert core_periphery_ratio(2 * pop, pop, np.array([True, False, False])) == pytest.approx(1.0)


def test_gini_of_one_rich_city():
    # Two equal populations, all income in one: Gini = 0.5 for the population-weighted definition.
    assert gini(np.array([0.0, 1.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)


# ---------------------------------------------------------------- logit choice among the neighbourhood
def _logit_state(payoff, partners, traits):
    from sim.model.learning import LearningState

    n, areas = payoff.shape
    return LearningState(traits=traits, upper=np.ones(traits.shape[1]), payoff=payoff,
                         trait_area=np.arange(traits.shape[1]) % areas, partners=partners,
                         partner_weight=np.ones(partners.shape), took=np.zeros(traits.shape, bool),
                         observed=np.zeros(traits.shape, bool))


class _Learning:
    revision_rate, noise, mutation_rate, mutation_sd = 1.0, 1e-6, 0.0, 0.1


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 12), st.integers(1, 4), st.integers(0, 2**31))
def test_logit_choice_with_little_noise_copies_the_best_of_the_neighbourhood(n, k, seed):
    from sim.model.learning import logit_choice

    rng = np.random.default_rng(seed)
    k = min(k, n - 1)
    payoff = rng.permutation(n * 2).reshape(n, 2).astype(float)      # distinct payoffs per area
    partners = np.array([rng.choice(np.delete(np.arange(n), i), k, replace=False) for i in range(n)])
    traits = rng.random((n, 4))
    new = logit_choice(np.random.default_rng(seed), _logit_state(payoff, partners, traits), _Learning)
    candidates = np.column_stack([np.arange(n), partners])
    for t in range(4):
        area = t % 2
        best = candidates[np.arange(n), payoff[candidates, area].argmax(axis=1)]
        assert np.array_equal(new[:, t], traits[best, t])


def test_logit_choice_with_much_noise_picks_every_candidate_alike():
    from sim.model.learning import logit_choice

    n, k = 4000, 3
    partners = (np.arange(n)[:, None] + np.arange(1, k + 1)[None, :]) % n
    traits = np.arange(n, dtype=float)[:, None].repeat(2, axis=1) / n     # a trait names its city
    payoff = np.random.default_rng(1).random((n, 2))

    class Noisy(_Learning):
        noise = 1e6

    new = logit_choice(np.random.default_rng(2), _logit_state(payoff, partners, traits), Noisy)
    offset = (np.rint(new[:, 0] * n).astype(int) - np.arange(n)) % n
    shares = np.bincount(offset, minlength=k + 1) / n
    assert shares == pytest.approx([1 / (k + 1)] * (k + 1), abs=0.03)


def test_logit_choice_without_revision_keeps_every_trait():
    from sim.model.learning import logit_choice

    class Still(_Learning):
        revision_rate = 0.0

    traits = np.random.default_rng(0).random((6, 4))
    state = _logit_state(np.random.default_rng(1).random((6, 2)), np.roll(np.arange(6), 1)[:, None], traits)
    assert np.array_equal(logit_choice(np.random.default_rng(3), state, Still), traits)
