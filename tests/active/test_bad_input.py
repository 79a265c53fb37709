"""Every error of skpref.active: a clear ValueError naming what to fix, early."""

import numpy as np
import pytest
from sklearn.base import clone

import skpref
from skpref.active import (
    ActiveLearner,
    BALDSampling,
    DisagreementQuadrantSampling,
    InconsistentPairSampling,
    KCenterDiversity,
    MarginSampling,
    RandomSampling,
)

X_POOL = np.zeros((6, 4))
DELTA = np.array([[1.0, -1.0]] * 6)


def returning(indices):
    def strategy(model, X_pool, n, *, side_information=None, random_state=None):
        return indices

    return strategy


# -- select ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "2"])
def test_n_must_be_a_positive_integer(n):
    with pytest.raises(ValueError, match=r"RandomSampling selects n pairs, a positive"):
        RandomSampling().select(None, X_POOL, n)


def test_n_cannot_exceed_the_pool():
    with pytest.raises(
        ValueError, match=r"asked for n=7 pairs but the pool holds only 6"
    ):
        MarginSampling().select(None, X_POOL, 7)


def test_a_pool_with_nan_is_refused():
    X_pool = X_POOL.copy()
    X_pool[0, 0] = np.nan
    with pytest.raises(ValueError, match="X_pool contains NaN"):
        RandomSampling().select(None, X_pool, 2)


def test_bald_needs_an_ensemble(fitted_ensemble, data):
    model = fitted_ensemble.members_[0]  # a single model: no member margins
    with pytest.raises(
        ValueError,
        match=r"BALDSampling needs the disagreement of an "
        r"ensemble.*got BTLRewardRegressor.*MarginSampling",
    ):
        BALDSampling().select(model, data.pool.X, 3)


class BadMembers:
    def __init__(self, margins):
        self.margins = margins

    def decision_function_members(self, X):
        return self.margins


@pytest.mark.parametrize(
    "margins, match",
    [
        (
            np.zeros((1, 6)),
            r"must return shape \(n_members, n_pairs\) with n_members "
            r">= 2 and n_pairs = 6; it returned shape \(1, 6\)",
        ),
        (np.zeros((3, 5)), r"it returned shape \(3, 5\)"),
        (np.full((3, 6), np.nan), "returned NaN or inf"),
    ],
)
def test_bald_checks_what_the_ensemble_returns(margins, match):
    with pytest.raises(ValueError, match=match):
        BALDSampling().select(BadMembers(margins), X_POOL, 2)


def test_margin_needs_probabilities():
    with pytest.raises(
        ValueError,
        match="MarginSampling needs a fitted model with predict_proba.*got NoneType",
    ):
        MarginSampling().select(None, X_POOL, 2)

    class Bad:
        def predict_proba(self, X):
            return np.zeros(len(X))

    with pytest.raises(ValueError, match=r"finite probabilities of shape \(6, 2\)"):
        MarginSampling().select(Bad(), X_POOL, 2)


@pytest.mark.parametrize(
    "side, match",
    [
        (
            None,
            r"DisagreementQuadrantSampling needs side_information: the latent "
            r"factor differences delta",
        ),
        (
            np.zeros(6),
            r"expects side_information of shape \(n_pool, n_factors\) with "
            r"n_factors >= 2.*got shape \(6,\)",
        ),
        (np.zeros((6, 1)), r"got shape \(6, 1\)"),
        (np.zeros((5, 2)), "side_information has 5 rows but X_pool has 6 pairs"),
        (np.full((6, 2), np.nan), "side_information contains NaN"),
    ],
)
def test_quadrant_sampling_checks_its_side_information(side, match):
    with pytest.raises(ValueError, match=match):
        DisagreementQuadrantSampling().select(None, X_POOL, 2, side_information=side)


def test_quadrant_sampling_checks_its_factors():
    with pytest.raises(
        ValueError,
        match=r"factors to be two different columns of "
        r"delta \(0..1\); got factors=\(0, 2\)",
    ):
        DisagreementQuadrantSampling(factors=(0, 2)).select(
            None, X_POOL, 2, side_information=DELTA
        )


@pytest.mark.parametrize(
    "side, categories, match",
    [
        (
            None,
            None,
            "InconsistentPairSampling needs side_information: the prompt "
            "type of each pool pair",
        ),
        (np.zeros((6, 2)), None, r"expects side_information of shape \(n_pool,\)"),
        (np.zeros(4), None, "side_information has 4 rows but X_pool has 6 pairs"),
        (
            ["helpful"] * 6,
            None,
            "holds objective names but the objective column of "
            "X_pool holds integer ids; pass objective_categories",
        ),
        (["helpfull"] * 6, ["helpful", "harmless"], "Did you mean 'helpful'"),
    ],
)
def test_inconsistent_sampling_checks_its_side_information(side, categories, match):
    strategy = InconsistentPairSampling(objective_categories=categories)
    X_pool = np.column_stack([np.zeros((6, 4)), np.arange(6) % 2])
    with pytest.raises(ValueError, match=match):
        strategy.select(None, X_pool, 2, side_information=side)


@pytest.mark.parametrize(
    "params, objective, side, match",
    [
        (
            {"n_objectives": 2},
            [0] * 6,
            [0, 1, 2, 0, 1, 0],
            r"side_information holds the id 2, outside the objective coding 0\.\.1",
        ),
        (
            {"n_objectives": 2},
            [0, 1, 3, 0, 1, 0],
            [0] * 6,
            r"the objective column of X_pool holds the objective id 3, outside the "
            r"objective coding in force \(ids 0\.\.1",
        ),
        (
            {},
            [0] * 6,
            [0, -1, 0, 0, 0, 0],
            "side_information holds the id -1, which numbers no objective",
        ),
        (
            {"n_objectives": 3, "objective_categories": ["helpful", "harmless"]},
            [0] * 6,
            [0] * 6,
            r"got n_objectives=3 but objective_categories list 2 objectives",
        ),
        ({"n_objectives": 0}, [0] * 6, [0] * 6, "'n_objectives' parameter"),
    ],
)
def test_inconsistent_sampling_checks_the_number_of_objectives(
    params, objective, side, match
):
    X_pool = np.column_stack([np.zeros((6, 4)), objective])
    with pytest.raises(ValueError, match=match):
        InconsistentPairSampling(**params).select(
            None, X_pool, 2, side_information=side
        )


def test_inconsistent_sampling_needs_objective_ids_in_the_last_column():
    X_pool = np.full((6, 4), 0.5)
    with pytest.raises(ValueError, match="non-integer value 0.5"):
        InconsistentPairSampling().select(None, X_pool, 2, side_information=[0] * 6)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="candidate_factor"):
        KCenterDiversity(candidate_factor=0.5).select(None, X_POOL, 2)
    with pytest.raises(ValueError, match="then"):
        DisagreementQuadrantSampling(then="bald").select(
            None, X_POOL, 2, side_information=DELTA
        )


@pytest.mark.parametrize(
    "answer, match",
    [
        ([0, 1, 2], r"was asked for 2 pairs but returned 3 indices"),
        ([0, 0], "returned an index twice"),
        ([0, 9], r"returned the index 9, outside the pool of 6 pairs"),
        ([0, -1], "returned the index -1"),
        ([0.5, 1.0], r"must return a 1-d array of integer row indices"),
        ([[0, 1]], r"must return a 1-d array.*of shape \(1, 2\)"),
    ],
)
def test_what_a_function_strategy_returns_is_checked(answer, match):
    strategy = KCenterDiversity(returning(answer), candidate_factor=1)
    with pytest.raises(ValueError, match=f"The strategy strategy {match}"):
        strategy.select(None, X_POOL, 2)


# -- the learner --------------------------------------------------------------------


@pytest.fixture
def learner(btl):
    return ActiveLearner(clone(btl), n_rounds=2, query_size=3, random_state=0)


def oracle_of(data):
    return lambda rows: data.pool.y[rows]


def test_a_budget_beyond_the_pool_fails_before_any_fit(learner, data):
    with pytest.raises(
        ValueError,
        match=r"would buy 2 rounds \* query_size 3 = 6 "
        r"labels, but X_pool has only 5 unlabelled pairs",
    ):
        learner.fit(
            data.train.X, data.train.y, X_pool=data.pool.X[:5], oracle=oracle_of(data)
        )
    assert not hasattr(learner, "estimator_")


def test_an_ensemble_strategy_on_a_single_model_fails_before_any_fit(learner, data):
    learner.set_params(strategy=KCenterDiversity(BALDSampling()))
    with pytest.raises(
        ValueError,
        match=r"the strategy KCenterDiversity needs a model "
        r"with decision_function_members, but the estimator is a "
        r"BTLRewardRegressor.*RewardEnsemble",
    ):
        learner.fit(
            data.train.X, data.train.y, X_pool=data.pool.X, oracle=oracle_of(data)
        )
    assert not hasattr(learner, "estimator_")


@pytest.mark.parametrize("oracle", [None, "labels", np.zeros(3)])
def test_the_oracle_must_be_a_function(learner, data, oracle):
    with pytest.raises(
        ValueError,
        match=r"needs oracle=\.\.\., a function "
        r"oracle\(indices\)",
    ):
        learner.fit(data.train.X, data.train.y, X_pool=data.pool.X, oracle=oracle)


def test_an_oracle_without_a_pool_is_refused(learner, data):
    with pytest.raises(
        ValueError, match="got an oracle or side_information but no X_pool"
    ):
        learner.fit(data.train.X, data.train.y, oracle=oracle_of(data))


def test_the_pool_must_have_the_layout_of_X(learner, data):
    with pytest.raises(ValueError, match="X_pool has 7 columns but X has 8"):
        learner.fit(
            data.train.X,
            data.train.y,
            X_pool=data.pool.X[:, :7],
            oracle=oracle_of(data),
        )


@pytest.mark.parametrize("side", [np.zeros(5), np.float64(1.0)])
def test_side_information_needs_one_row_per_pool_pair(learner, data, side):
    with pytest.raises(
        ValueError,
        match=r"side_information has \d rows but X_pool "
        "has 300 pairs",
    ):
        learner.fit(
            data.train.X,
            data.train.y,
            X_pool=data.pool.X,
            oracle=oracle_of(data),
            side_information=side,
        )


@pytest.mark.parametrize(
    "answer, match",
    [
        (
            lambda rows: np.ones(len(rows) + 1),
            r"the oracle returned labels of shape \(4,\) for 3 queried pairs",
        ),
        (
            lambda rows: np.full(len(rows), 2),
            r"expects pair labels the oracle's "
            r"labels in \{0, 1\}",
        ),
        (lambda rows: np.full(len(rows), 1.5), "continuous values outside"),
    ],
)
def test_bad_oracle_labels_are_refused_and_not_recorded(learner, data, answer, match):
    with pytest.raises(ValueError, match=match):
        learner.fit(data.train.X, data.train.y, X_pool=data.pool.X, oracle=answer)
    assert len(learner.queried_indices_) == 0
    assert learner.history_["round"].tolist() == [0]


def test_a_bad_selection_of_a_function_strategy_names_it(learner, data):
    learner.set_params(strategy=returning([0, 0, 1]))
    with pytest.raises(
        ValueError, match="The strategy strategy returned an index twice"
    ):
        learner.fit(
            data.train.X, data.train.y, X_pool=data.pool.X, oracle=oracle_of(data)
        )


def test_warm_start_needs_the_same_data(learner, data):
    learner.set_params(warm_start=True, n_rounds=1)
    learner.fit(data.train.X, data.train.y, X_pool=data.pool.X, oracle=oracle_of(data))
    with pytest.raises(
        ValueError,
        match=r"but X_pool differ from that fit's \(150 given and 300 pool pairs; "
        r"got 150 and 299\)",
    ):
        learner.fit(
            data.train.X, data.train.y, X_pool=data.pool.X[:-1], oracle=oracle_of(data)
        )
    learner.set_params(n_rounds=0)
    with pytest.raises(
        ValueError, match="n_rounds=0 is below the 1 rounds already run"
    ):
        learner.fit(
            data.train.X, data.train.y, X_pool=data.pool.X, oracle=oracle_of(data)
        )


def test_learner_parameters_are_checked(btl, data):
    with pytest.raises(
        ValueError,
        match="The 'estimator' parameter of ActiveLearner "
        "must be an object implementing 'fit' and 'predict_proba'",
    ):
        ActiveLearner(MarginSampling()).fit(data.train.X, data.train.y)
    with pytest.raises(ValueError, match="The 'query_size' parameter of ActiveLearner"):
        ActiveLearner(btl, query_size=0).fit(data.train.X, data.train.y)


def test_the_spread_of_a_single_model_learner_is_refused(btl, data):
    learner = ActiveLearner(btl).fit(data.train.X, data.train.y)
    assert learner.predict_reward(data.pool.X[:3, :4]).shape == (3,)
    with pytest.raises(
        ValueError,
        match=r"predict_reward\(return_std=True\) needs an ensemble's members; the "
        r"model is a BTLRewardRegressor. Wrap it in skpref.RewardEnsemble",
    ):
        learner.predict_reward(data.pool.X[:3, :4], return_std=True)
    assert not hasattr(learner, "predict_reward_members")


def test_a_learner_with_a_function_strategy_is_not_saved_silently(btl, tmp_path):
    learner = ActiveLearner(btl, strategy=returning([0]))
    with pytest.raises(
        TypeError, match=r"cannot store ActiveLearner.*\['strategy'\], a builtins"
    ):
        skpref.save(learner, tmp_path / "learner.safetensors")
    assert not (tmp_path / "learner.safetensors").exists()


def _changed(array, how, rng):
    """The same array but for one value, or the order of its rows."""
    array = np.array(array, copy=True)
    if how == "one value":
        index = tuple(rng.integers(0, n) for n in array.shape)
        array[index] = (
            1 - array[index]
            if array.dtype.kind in "iub"
            else array[index] + np.float32(0.5)
        )
    elif how == "row order":
        swap = rng.permutation(len(array))
        while np.array_equal(array[swap], array):
            swap = rng.permutation(len(array))
        array = array[swap]
    return array


@pytest.mark.parametrize("what", ["X", "y", "X_pool"])
@pytest.mark.parametrize("how", ["one value", "row order"])
def test_a_warm_start_on_other_data_of_the_same_size_is_refused(
    learner, data, what, how
):
    learner.set_params(warm_start=True, n_rounds=1)
    given = {"X": data.train.X, "y": data.train.y, "X_pool": data.pool.X}
    learner.fit(given["X"], given["y"], X_pool=given["X_pool"], oracle=oracle_of(data))
    bought = learner.queried_indices_.copy()
    given[what] = _changed(given[what], how, np.random.default_rng(0))
    named = "X_pool" if what == "X_pool" else "X and y"
    with pytest.raises(ValueError, match=f"but {named} differ from that fit's"):
        learner.set_params(n_rounds=2).fit(
            given["X"], given["y"], X_pool=given["X_pool"], oracle=oracle_of(data)
        )
    np.testing.assert_array_equal(learner.queried_indices_, bought)  # nothing lost


def test_an_empty_pool_is_named(learner, data):
    with pytest.raises(ValueError, match="got an empty X_pool: there are no pairs"):
        learner.fit(
            data.train.X, data.train.y, X_pool=data.pool.X[:0], oracle=oracle_of(data)
        )


def test_a_warm_start_on_the_same_values_in_another_dtype_continues(learner, data):
    learner.set_params(warm_start=True, n_rounds=1)
    X, pool = data.train.X.astype(np.float32), data.pool.X.astype(np.float32)
    learner.fit(X, data.train.y, X_pool=pool, oracle=oracle_of(data))
    learner.set_params(n_rounds=2).fit(
        X.astype(np.float64),
        data.train.y.astype(np.float64),
        X_pool=pool.astype(np.float64),
        oracle=oracle_of(data),
    )
    assert learner.history_["round"].tolist() == [0, 1, 2]
