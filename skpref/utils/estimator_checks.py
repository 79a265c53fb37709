"""Checks of the pair contract, to run on any reward model, yours included.

scikit-learn's ``check_estimator`` feeds generic data (three columns, labels
``{1, 2}``) that the pair contract rejects on purpose. These checks feed pairs
shaped as the contract asks (``X = [a | b]``, plus the objective id as the last
column for multi-objective models; ``y = 1`` where a is preferred) and test what a
reward model promises: swapping the two responses swaps the probabilities; the
outputs follow the BTL model; seeded refits, clones, pickles and
:func:`skpref.save` / :func:`skpref.load` round trips predict the same; neither the
batch size nor the order of the pairs changes a prediction; weights of 2 on every
pair give the model of no weights; soft labels fit and score.

:func:`check_pair_transformer_halves` checks a transformer of pair features
(such as :class:`~skpref.preprocessing.LinearConceptEraser`): one map per
response, so swapping a and b swaps the output halves.

Each ``check_*`` function takes ``(name, estimator)`` like scikit-learn's and
imbalanced-learn's checks, fits clones of the estimator on small synthetic pairs
and raises ``AssertionError`` when the contract is broken. Run them all with
:func:`parametrize_with_pair_checks` (pytest) or :func:`yield_pair_checks`.

A multi-objective estimator is recognised by a true ``with_objective`` parameter or
attribute (``_with_objective`` for skpref's own models); pass ``with_objective=``
to a check to say it explicitly.
"""

import pickle
import re
import tempfile
from functools import partial
from inspect import signature
from pathlib import Path

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.base import clone

from skpref.utils._pair_data import (
    fitted_on_pairs,
    make_pair_data,
    swap_halves,
    takes_objective,
)
from skpref.utils._transformer_checks import check_pair_transformer_halves

__all__ = [
    "check_pair_antisymmetry",
    "check_pair_batch_and_order_invariance",
    "check_pair_btl_outputs",
    "check_pair_pickle_round_trip",
    "check_pair_sample_weight_scale",
    "check_pair_save_load_round_trip",
    "check_pair_seeded_refit",
    "check_pair_soft_labels",
    "check_pair_transformer_halves",
    "make_pair_data",
    "parametrize_with_pair_checks",
    "yield_pair_checks",
]

_CHECK_PARAMS = """Parameters
    ----------
    name : str
        Name of the estimator, used in failure messages.
    estimator_orig : estimator instance
        An unfitted reward model; the check fits clones of it.
    with_objective : bool or None, default=None
        Whether ``X`` ends with the objective id; None reads the estimator.

    Raises
    ------
    AssertionError
        If the estimator breaks the contract."""

# float32 rounding of a reward computed in other batch shapes.
_RTOL, _ATOL = 1e-5, 1e-6


def check_pair_antisymmetry(name, estimator_orig, *, with_objective=None):
    """Check that swapping the two responses swaps the probabilities exactly.

    %(check_params)s

    Examples
    --------
    >>> from skpref import BTLRewardRegressor
    >>> from skpref.utils.estimator_checks import check_pair_antisymmetry
    >>> model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=2,
    ...     device="cpu")
    >>> check_pair_antisymmetry("BTLRewardRegressor", model)
    """
    takes = takes_objective(estimator_orig, with_objective)
    estimator, X, _ = fitted_on_pairs(estimator_orig, takes)
    proba, swapped = (
        estimator.predict_proba(X),
        estimator.predict_proba(swap_halves(X, takes)),
    )
    assert_array_equal(
        swapped,
        proba[:, ::-1],
        err_msg=f"{name}: swapping a and b must swap the probabilities",
    )
    assert_array_equal(
        estimator.decision_function(swap_halves(X, takes)),
        -estimator.decision_function(X),
        err_msg=f"{name}: swapping a and b must negate decision_function",
    )


def check_pair_btl_outputs(name, estimator_orig, *, with_objective=None):
    """Check that outputs follow the BTL model and ``r(a) - r(b)``.

    %(check_params)s

    Examples
    --------
    >>> from skpref import MultiheadRewardModel
    >>> from skpref.utils.estimator_checks import check_pair_btl_outputs
    >>> model = MultiheadRewardModel(hidden_dim=8, latent_dim=4, head_hidden_dim=4,
    ...     max_epochs=2, device="cpu")
    >>> check_pair_btl_outputs("MultiheadRewardModel", model)
    """
    takes = takes_objective(estimator_orig, with_objective)
    estimator, X, y = fitted_on_pairs(estimator_orig, takes)
    margin, proba = estimator.decision_function(X), estimator.predict_proba(X)
    assert_array_equal(estimator.classes_, [0, 1], err_msg=name)
    assert_allclose(proba[:, 1], expit(margin), rtol=1e-6, err_msg=name)
    assert_allclose(proba.sum(axis=1), 1.0, err_msg=name)
    assert_array_equal(estimator.predict(X), (margin > 0).astype(int), err_msg=name)
    assert np.isclose(estimator.score(X, y), np.mean(estimator.predict(X) == y)), name
    if hasattr(estimator, "predict_reward"):
        d = (X.shape[1] - int(takes)) // 2
        objective = X[:, 2 * d :]
        reward_a = estimator.predict_reward(np.hstack([X[:, :d], objective]))
        reward_b = estimator.predict_reward(np.hstack([X[:, d : 2 * d], objective]))
        assert_allclose(
            reward_a - reward_b,
            margin,
            rtol=_RTOL,
            atol=10 * _ATOL,
            err_msg=f"{name}: decision_function must equal r(a) - r(b)",
        )


def check_pair_seeded_refit(name, estimator_orig, *, with_objective=None):
    """Check that a seeded refit, or a clone's, predicts identically.

    %(check_params)s

    Examples
    --------
    >>> from skpref import BTLRewardRegressor
    >>> from skpref.utils.estimator_checks import check_pair_seeded_refit
    >>> model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=2,
    ...     device="cpu")
    >>> check_pair_seeded_refit("BTLRewardRegressor", model)
    """
    if "random_state" not in estimator_orig.get_params():
        return
    first, X, y = fitted_on_pairs(estimator_orig, with_objective, random_state=3)
    again, _, _ = fitted_on_pairs(estimator_orig, with_objective, random_state=3)
    refit = clone(first).fit(X, y)
    for other in (again, refit):
        assert_array_equal(
            other.predict_proba(X),
            first.predict_proba(X),
            err_msg=f"{name}: a seeded refit predicts differently",
        )


def check_pair_batch_and_order_invariance(name, estimator_orig, *, with_objective=None):
    """Check that neither the pairs' order nor the batch size changes a prediction.

    %(check_params)s

    Examples
    --------
    >>> from skpref import BTLRewardRegressor
    >>> from skpref.utils.estimator_checks import check_pair_batch_and_order_invariance
    >>> model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=2,
    ...     device="cpu")
    >>> check_pair_batch_and_order_invariance("BTLRewardRegressor", model)
    """
    estimator, X, _ = fitted_on_pairs(estimator_orig, with_objective)
    reference = estimator.decision_function(X)
    order = np.random.RandomState(0).permutation(len(X))
    tolerance = {"rtol": _RTOL, "atol": _ATOL, "err_msg": name}
    assert_allclose(
        estimator.decision_function(X[order]), reference[order], **tolerance
    )
    assert_allclose(estimator.decision_function(X[:7]), reference[:7], **tolerance)
    if "batch_size" in estimator.get_params():
        estimator.set_params(batch_size=5)
        assert_allclose(estimator.decision_function(X), reference, **tolerance)


def check_pair_pickle_round_trip(name, estimator_orig, *, with_objective=None):
    """Check that a pickled and unpickled model predicts identically.

    %(check_params)s

    Examples
    --------
    >>> from skpref import BTLRewardRegressor
    >>> from skpref.utils.estimator_checks import check_pair_pickle_round_trip
    >>> model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=2,
    ...     device="cpu")
    >>> check_pair_pickle_round_trip("BTLRewardRegressor", model)
    """
    estimator, X, _ = fitted_on_pairs(estimator_orig, with_objective)
    restored = pickle.loads(pickle.dumps(estimator))
    assert_array_equal(
        restored.predict_proba(X), estimator.predict_proba(X), err_msg=name
    )


def check_pair_save_load_round_trip(name, estimator_orig, *, with_objective=None):
    """Check that a :func:`skpref.save` / :func:`skpref.load` round trip predicts.

    %(check_params)s

    Examples
    --------
    >>> from skpref import AdversarialRewardModel
    >>> from skpref.utils.estimator_checks import check_pair_save_load_round_trip
    >>> model = AdversarialRewardModel(hidden_dim=8, latent_dim=4, head_hidden_dim=4,
    ...     discriminator_hidden_dim=4, max_epochs=2, device="cpu")
    >>> check_pair_save_load_round_trip("AdversarialRewardModel", model)
    """
    from skpref._persistence import load, save

    estimator, X, _ = fitted_on_pairs(estimator_orig, with_objective)
    with tempfile.TemporaryDirectory() as folder:
        path = save(estimator, Path(folder) / "model.safetensors")
        restored = load(path, trusted_classes=[type(estimator)])
    assert type(restored) is type(estimator), name
    assert _params_of(restored) == _params_of(estimator), name
    assert_array_equal(
        restored.predict_proba(X), estimator.predict_proba(X), err_msg=name
    )


def _params_of(estimator):
    """Parameters to compare, nested estimators (a meta-estimator's) by theirs."""
    return {
        key: (type(value), _params_of(value))
        if hasattr(value, "get_params") and not isinstance(value, type)
        else value
        for key, value in estimator.get_params(deep=False).items()
    }


def check_pair_sample_weight_scale(name, estimator_orig, *, with_objective=None):
    """Check that weights of 2 on every pair give the model of no weights.

    %(check_params)s

    Examples
    --------
    >>> from skpref import BTLRewardRegressor
    >>> from skpref.utils.estimator_checks import check_pair_sample_weight_scale
    >>> model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=2,
    ...     device="cpu")
    >>> check_pair_sample_weight_scale("BTLRewardRegressor", model)
    """
    if "sample_weight" not in signature(estimator_orig.fit).parameters:
        return
    plain, X, y = fitted_on_pairs(estimator_orig, with_objective)
    doubled, _, _ = fitted_on_pairs(
        estimator_orig, with_objective, sample_weight=np.full(len(y), 2.0)
    )
    assert_allclose(
        doubled.predict_proba(X),
        plain.predict_proba(X),
        rtol=1e-6,
        atol=1e-9,
        err_msg=f"{name}: scaling every sample_weight changed the model",
    )


def check_pair_soft_labels(name, estimator_orig, *, with_objective=None):
    """Check that soft labels fit and score, a tie counting ½ whatever is predicted.

    %(check_params)s

    Examples
    --------
    >>> from skpref import BTLRewardRegressor
    >>> from skpref.utils.estimator_checks import check_pair_soft_labels
    >>> model = BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=2,
    ...     device="cpu")
    >>> check_pair_soft_labels("BTLRewardRegressor", model)
    """
    takes = takes_objective(estimator_orig, with_objective)
    X, y = make_pair_data(with_objective=takes)
    soft = np.where(y == 1, 0.9, 0.1)
    soft[::4] = 0.5
    estimator = clone(estimator_orig).fit(X, soft)
    assert estimator.predict_proba(X).shape == (len(X), 2), name
    ties = np.full(len(X), 0.5)
    assert estimator.score(X, ties) == 0.5, f"{name}: a tie must count 1/2"
    expected = np.mean(np.where(estimator.predict(X) == 1, soft, 1 - soft))
    assert np.isclose(estimator.score(X, soft), expected), name


def _compact_repr(estimator):
    return re.sub(r"\s+", "", repr(estimator))


_CHECKS = (
    check_pair_antisymmetry,
    check_pair_btl_outputs,
    check_pair_seeded_refit,
    check_pair_batch_and_order_invariance,
    check_pair_pickle_round_trip,
    check_pair_save_load_round_trip,
    check_pair_sample_weight_scale,
    check_pair_soft_labels,
)


for _check in _CHECKS:
    _check.__doc__ = _check.__doc__ % {"check_params": _CHECK_PARAMS}


def yield_pair_checks(estimator, *, with_objective=None):
    """Yield every pair-contract check, ready to call with the estimator.

    Parameters
    ----------
    estimator : estimator instance
        An unfitted reward model.
    with_objective : bool or None, default=None
        Whether ``X`` ends with the objective id; None reads the estimator.

    Yields
    ------
    check : callable
        ``check(estimator)`` raises ``AssertionError`` when the contract is broken;
        ``check.func.__name__`` is the check's name.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> sorted(c.func.__name__ for c in yield_pair_checks(LogisticRegression()))[0]
    'check_pair_antisymmetry'
    """
    name = type(estimator).__name__
    for check in _CHECKS:
        yield partial(check, name, with_objective=with_objective)


def parametrize_with_pair_checks(estimators, *, expected_failed_checks=None):
    """Build a ``pytest.mark.parametrize`` of every pair check and estimator.

    Parameters
    ----------
    estimators : list of estimator instances
        Unfitted reward models.
    expected_failed_checks : callable or None, default=None
        ``expected_failed_checks(estimator)`` returns ``{check name: reason}``; those
        checks are marked ``xfail`` with their reason.

    Returns
    -------
    decorator : pytest.MarkDecorator
        Parametrizes the test's ``estimator`` and ``check`` arguments.

    Examples
    --------
    >>> from skpref.utils.estimator_checks import parametrize_with_pair_checks
    >>> from sklearn.linear_model import LogisticRegression
    >>> mark = parametrize_with_pair_checks([LogisticRegression()])
    >>> len(mark.args[1])
    8
    """
    import pytest

    params = []
    for estimator in estimators:
        failing = expected_failed_checks(estimator) if expected_failed_checks else {}
        for check in yield_pair_checks(estimator):
            check_name = check.func.__name__
            marks = []
            if check_name in failing:
                marks.append(pytest.mark.xfail(reason=failing[check_name], strict=True))
            params.append(
                pytest.param(
                    estimator,
                    check,
                    marks=marks,
                    id=f"{_compact_repr(estimator)}-{check_name}",
                )
            )
    return pytest.mark.parametrize("estimator, check", params)
