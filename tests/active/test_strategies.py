"""The query strategies: what each one selects, and the properties they share."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from scipy.stats import entropy
from sklearn.base import clone
from sklearn.metrics import pairwise_distances

from skpref import BTLRewardRegressor
from skpref.active import (
    ActiveLearner,
    BALDSampling,
    DisagreementQuadrantSampling,
    InconsistentPairSampling,
    KCenterDiversity,
    MarginSampling,
    RandomSampling,
    k_center_greedy,
    member_probabilities,
)
from skpref.active._base import rank_by_score, required_model_methods
from skpref.active._uncertainty import mutual_information


class FixedProba:
    """A model whose P(a > b) is the first column of X."""

    def predict_proba(self, X):
        return np.column_stack([1 - X[:, 0], X[:, 0]])


class FixedMembers:
    """An ensemble whose member margins are the columns of X."""

    def decision_function_members(self, X):
        return X.T.copy()


def by_hand_information(p):
    """H(mean p) - mean H(p) with scipy's entropy, one pair at a time."""

    def h(q):
        return entropy([q, 1 - q])

    return np.array([h(col.mean()) - np.mean([h(q) for q in col]) for col in p.T])


# -- random ---------------------------------------------------------------------


@given(n_pool=st.integers(1, 60), data=st.data())
def test_random_sampling_returns_distinct_seeded_rows(n_pool, data):
    n = data.draw(st.integers(1, n_pool))
    seed = data.draw(st.integers(0, 2**31 - 1))
    X_pool = np.zeros((n_pool, 2))
    chosen = RandomSampling().select(None, X_pool, n, random_state=seed)
    assert len(chosen) == n == len(set(chosen.tolist()))
    assert chosen.min() >= 0 and chosen.max() < n_pool
    assert_array_equal(
        RandomSampling().select(None, X_pool, n, random_state=seed), chosen
    )


def test_random_sampling_covers_the_pool_uniformly():
    X_pool = np.zeros((10, 2))
    counts = np.zeros(10)
    for seed in range(400):
        counts[RandomSampling().select(None, X_pool, 3, random_state=seed)] += 1
    # each row is drawn with probability 0.3: 120 of 400 draws, s.d. about 9
    assert np.all(np.abs(counts - 120) < 40)


def test_a_seeded_select_leaves_the_global_random_state_alone():
    np.random.seed(3)
    expected = np.random.random_sample()
    np.random.seed(3)
    RandomSampling().select(None, np.zeros((10, 2)), 4, random_state=1)
    assert np.random.random_sample() == expected


# -- margin and BALD ---------------------------------------------------------------


def test_margin_takes_the_probabilities_closest_to_one_half():
    p = np.array([0.9, 0.55, 0.02, 0.47, 0.7, 0.5])
    chosen = MarginSampling().select(FixedProba(), p[:, None], 3, random_state=0)
    assert chosen.tolist() == [5, 3, 1]


def test_margin_on_a_fitted_model_ranks_every_unchosen_pair_below(
    fitted_ensemble, data
):
    X_pool = data.pool.X
    chosen = MarginSampling().select(fitted_ensemble, X_pool, 20, random_state=0)
    distance = np.abs(fitted_ensemble.predict_proba(X_pool)[:, 1] - 0.5)
    rest = np.setdiff1d(np.arange(len(X_pool)), chosen)
    assert distance[chosen].max() <= distance[rest].min()


@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 6), st.integers(1, 8)),
        elements=st.floats(0, 1),
    )
)
def test_mutual_information_is_bounded_and_matches_its_definition(p):
    information = mutual_information(p)
    assert np.all(information >= 0) and np.all(information <= np.log(2) + 1e-12)
    np.testing.assert_allclose(information, by_hand_information(p), atol=1e-9)
    # swapping a and b leaves it unchanged; members that agree give zero
    np.testing.assert_allclose(mutual_information(1 - p), information, atol=1e-12)
    agreeing = np.repeat(p[:1], len(p), axis=0)
    np.testing.assert_allclose(mutual_information(agreeing), 0.0, atol=1e-12)


def test_bald_takes_the_pairs_the_members_disagree_on_not_the_toss_ups():
    # columns: member margins. Pair 0: all unsure alike (a toss-up every member
    # agrees on); pair 1: strong disagreement; pair 2: agree and sure; pair 3: mild
    margins = np.array([[0.0, 0.0], [4.0, -3.5], [3.0, 3.0], [1.0, -0.5]])
    assert BALDSampling().select(FixedMembers(), margins, 2).tolist() == [1, 3]
    # the margin strategy would take the toss-up first
    proba = expit(margins.mean(axis=1))
    assert MarginSampling().select(FixedProba(), proba[:, None], 1).tolist() == [0]


def test_bald_on_a_fitted_ensemble_takes_the_highest_information(fitted_ensemble, data):
    X_pool = data.pool.X
    chosen = BALDSampling().select(fitted_ensemble, X_pool, 15, random_state=0)
    p = member_probabilities(fitted_ensemble, X_pool, owner="test")
    assert p.shape == (3, len(X_pool))
    # BALD's mean prediction is the RewardEnsemble's own averaged probability
    assert_allclose(p.mean(axis=0), fitted_ensemble.predict_proba(X_pool)[:, 1])
    information = by_hand_information(p)
    rest = np.setdiff1d(np.arange(len(X_pool)), chosen)
    assert information[chosen].min() >= information[rest].max() - 1e-9


def test_rank_by_score_breaks_ties_at_random_but_reproducibly():
    scores = np.zeros(6)
    first = rank_by_score(scores, 6, np.random.RandomState(0))
    assert sorted(first.tolist()) == list(range(6))
    assert first.tolist() != list(range(6))
    assert_array_equal(rank_by_score(scores, 6, np.random.RandomState(0)), first)


# -- positivity ---------------------------------------------------------------------


DELTA = np.array(
    [[1.0, 2.0], [1.0, -1.0], [-2.0, -1.0], [-1.0, 3.0], [0.5, 0.5], [2.0, -0.1]]
)
DISAGREE = [1, 3, 5]


def test_quadrant_sampling_takes_only_disagreeing_pairs_while_they_last():
    X_pool = np.zeros((6, 2))
    for seed in range(5):
        chosen = DisagreementQuadrantSampling().select(
            None, X_pool, 3, side_information=DELTA, random_state=seed
        )
        assert sorted(chosen.tolist()) == DISAGREE


def test_quadrant_sampling_fills_up_from_the_other_pairs_once_they_run_out():
    chosen = DisagreementQuadrantSampling().select(
        None, np.zeros((6, 2)), 5, side_information=DELTA, random_state=0
    )
    assert chosen[:3].tolist() != [] and set(chosen[:3].tolist()) == set(DISAGREE)
    assert len(set(chosen.tolist())) == 5


def test_quadrant_sampling_orders_the_disagreeing_pairs_with_then():
    margins = np.array(
        [[0.0, 0.0], [0.1, 0.0], [5.0, -5.0], [3.0, -3.0], [4.0, -4.0], [2.0, -2.0]]
    )
    strategy = DisagreementQuadrantSampling(then=BALDSampling())
    chosen = strategy.select(FixedMembers(), margins, 2, side_information=DELTA)
    # among the disagreeing pairs 1, 3, 5, BALD prefers 3 then 5; pairs 2 and 4
    # disagree more but their latent factors agree
    assert chosen.tolist() == [3, 5]


def test_quadrant_sampling_reads_the_factors_it_is_given():
    delta = np.column_stack([DELTA, -DELTA[:, 0]])  # factor 2 = -factor 0
    chosen = DisagreementQuadrantSampling(factors=(0, 2)).select(
        None, np.zeros((6, 2)), 4, side_information=delta, random_state=0
    )
    nonzero = np.flatnonzero(DELTA[:, 0] != 0)  # all of them disagree with themselves
    assert set(chosen.tolist()) <= set(nonzero.tolist())


@pytest.mark.parametrize(
    "prompt_type, categories",
    [
        (["helpful", "harmless", "harmless", "helpful"], ["helpful", "harmless"]),
        ([0, 1, 1, 0], None),
        (np.array([0.0, 1.0, 1.0, 0.0]), None),
    ],
)
def test_inconsistent_sampling_takes_pairs_whose_prompt_type_is_not_the_objective(
    prompt_type, categories
):
    X_pool = np.array([[0.1, 0.3, 0], [0.2, 0.1, 0], [0.4, 0.4, 1], [0.9, 0.2, 1]])
    strategy = InconsistentPairSampling(objective_categories=categories)
    chosen = strategy.select(
        None, X_pool, 2, side_information=prompt_type, random_state=0
    )
    assert sorted(chosen.tolist()) == [1, 3]
    three = strategy.select(
        None, X_pool, 3, side_information=prompt_type, random_state=0
    )
    assert set(three[:2].tolist()) == {1, 3}


@pytest.mark.parametrize(
    "prompt_type, params",
    [
        ([0, 1, 1, 0], {}),
        ([0, 1, 1, 0], {"n_objectives": 2}),
        (
            ["helpful", "harmless", "harmless", "helpful"],
            {"objective_categories": ["helpful", "harmless"]},
        ),
    ],
)
def test_inconsistent_sampling_takes_prompt_types_no_pool_pair_is_labelled_under(
    prompt_type, params
):
    # every pair comes from the helpfulness labellers (objective 0); the harmful
    # prompts (type 1) are the inconsistent ones, though no pair has objective 1
    X_pool = np.array([[0.1, 0.2, 0], [0.3, 0.1, 0], [0.2, 0.2, 0], [0.5, 0.4, 0]])
    chosen = InconsistentPairSampling(**params).select(
        None, X_pool, 2, side_information=prompt_type, random_state=0
    )
    assert sorted(chosen.tolist()) == [1, 2]


@pytest.mark.parametrize("seed", [2, 7])
def test_inconsistent_sampling_survives_a_pool_that_loses_an_objective(seed):
    # the four objective-1 pairs are inconsistent, so round 1 may buy all of them:
    # the pool left has objective 0 only, and prompts of type 1 must stay valid
    rng = np.random.RandomState(0)
    X = np.hstack([rng.normal(size=(40, 8)), np.arange(40)[:, None] % 2])
    y = np.arange(40) % 2
    objective = np.r_[np.ones(4), np.zeros(30)]
    prompt_type = np.r_[np.zeros(4), np.ones(2), np.zeros(28)].astype(int)
    X_pool = np.hstack([rng.normal(size=(34, 8)), objective[:, None]])
    y_pool = np.arange(34) % 2
    model = BTLRewardRegressor(
        hidden_dim=8,
        latent_dim=4,
        max_epochs=1,
        device="cpu",
        with_objective=True,
        random_state=0,
    )
    learner = ActiveLearner(
        model,
        strategy=InconsistentPairSampling(),
        n_rounds=3,
        query_size=4,
        random_state=seed,
    )
    learner.fit(
        X,
        y,
        X_pool=X_pool,
        oracle=lambda rows: y_pool[rows],
        side_information=prompt_type,
    )
    assert learner.query_round_.tolist() == [1] * 4 + [2] * 4 + [3] * 4
    # the six inconsistent pairs (rows 0..5) are bought first, over two rounds
    assert sorted(learner.queried_indices_[:6].tolist()) == list(range(6))


# -- diversity ----------------------------------------------------------------------


@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 25), st.integers(1, 3)),
        elements=st.floats(-5, 5),
    ),
    st.data(),
)
def test_k_center_greedy_takes_each_time_the_farthest_point(X, data):
    n = data.draw(st.integers(1, len(X)))
    first = data.draw(st.integers(0, len(X) - 1))
    chosen = k_center_greedy(X, n, first=first)
    assert chosen[0] == first and len(set(chosen.tolist())) == n
    distance = pairwise_distances(X)
    for step in range(1, n):
        nearest = distance[:, chosen[:step]].min(axis=1)
        nearest[chosen[:step]] = -np.inf
        # the farthest up to rounding: sklearn's euclidean distance of a point to
        # its duplicate is 0 or ~1e-7 depending on the blocks it computes
        assert nearest[chosen[step]] >= nearest.max() - 1e-6


def test_k_center_greedy_copes_with_duplicate_points():
    chosen = k_center_greedy(np.zeros((5, 2)), 5)
    assert sorted(chosen.tolist()) == [0, 1, 2, 3, 4]


def test_diversity_keeps_the_batch_among_the_strategys_candidates(
    fitted_ensemble, data
):
    X_pool = data.pool.X
    candidates = BALDSampling().select(fitted_ensemble, X_pool, 40, random_state=0)
    diverse = KCenterDiversity(BALDSampling(), candidate_factor=4).select(
        fitted_ensemble, X_pool, 10, random_state=0
    )
    plain = BALDSampling().select(fitted_ensemble, X_pool, 10, random_state=0)
    assert set(diverse.tolist()) <= set(candidates.tolist())
    assert diverse[0] == plain[0]

    def spread(rows):
        d = pairwise_distances(X_pool[rows])
        return d[np.triu_indices(len(rows), 1)].min()

    assert spread(diverse) > spread(plain)


def test_a_candidate_factor_of_one_changes_nothing(fitted_ensemble, data):
    plain = BALDSampling().select(fitted_ensemble, data.pool.X, 8, random_state=0)
    diverse = KCenterDiversity(BALDSampling(), candidate_factor=1).select(
        fitted_ensemble, data.pool.X, 8, random_state=0
    )
    assert sorted(diverse.tolist()) == sorted(plain.tolist())


# -- composition --------------------------------------------------------------------


def test_a_function_works_wherever_a_strategy_is_taken():
    def last_rows(model, X_pool, n, *, side_information=None, random_state=None):
        return np.arange(len(X_pool))[::-1][:n]

    X_pool = np.arange(12.0).reshape(6, 2)
    assert KCenterDiversity(last_rows, candidate_factor=1).select(
        None, X_pool, 2
    ).tolist() == [5, 4]
    chosen = DisagreementQuadrantSampling(then=last_rows).select(
        None, X_pool, 2, side_information=DELTA
    )
    assert chosen.tolist() == [5, 3]


def test_strategies_clone_and_name_what_they_need_of_the_model():
    strategy = KCenterDiversity(DisagreementQuadrantSampling(then=BALDSampling()))
    copy = clone(strategy)
    assert copy.get_params()["strategy__then"] is not strategy.strategy.then
    assert required_model_methods(copy) == {"decision_function_members"}
    assert required_model_methods(MarginSampling()) == {"predict_proba"}
    assert required_model_methods(RandomSampling()) == set()
    assert "BALDSampling" in repr(strategy)
