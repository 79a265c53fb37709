"""Bad input to the splitters: a clear ValueError that names the argument.

Each case asserts the exception type and the words that name what is wrong, so a
message that stops naming the argument, or an error that comes from inside numpy
or pandas instead, fails.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from skpref.model_selection import (
    LatentCorrelationSplitter,
    ObjectiveConfoundingSplitter,
    RhoStratifiedSplitter,
)
from tests.model_selection.split_data import confounded, gaussian_delta

RNG = np.random.default_rng(0)
X50 = np.column_stack([RNG.normal(size=(50, 4)), RNG.integers(0, 2, 50)])
OBJ50 = X50[:, -1].astype(int)


@pytest.mark.parametrize(
    "kwargs, meta, match",
    [
        ({}, {}, r"needs the delta of each pair: call split\(X, y, delta=delta\)"),
        ({"mode": "confounding"}, {}, "needs the prompt_type of each pair"),
        ({}, {"delta": np.zeros((5, 2))}, "delta has 5 rows but X has 50"),
        (
            {},
            {"delta": np.zeros((50, 2)), "groups": np.zeros((50, 2))},
            "got both groups and delta",
        ),
        (
            {"factors": (0, 0)},
            {"delta": np.zeros((50, 2))},
            r"factors to be two different columns of delta \(0\.\.1\)",
        ),
        ({"factors": (0, 2)}, {"delta": np.zeros((50, 2))}, r"got factors=\(0, 2\)"),
        (
            {"test": "consistent"},
            {"delta": np.zeros((50, 2))},
            r"accepts test in .*; got test='consistent'",
        ),
        (
            {"mode": "confounding", "rho": -0.2},
            {"prompt_type": np.zeros(50)},
            r"reads rho as P\(prompt type = objective\).*got rho=-0.2",
        ),
        (
            {"train_size": 80},
            {"delta": np.zeros((50, 2))},
            "train_size=80 asks for 80 pairs but X has only 50",
        ),
        (
            {"test_size": 0.99, "train_size": 10},
            {"delta": RNG.normal(size=(50, 2))},
            r"cannot draw test_size=0.99",
        ),
        (
            {"train_size": 2},
            {"delta": np.ones((50, 2))},
            "needs at least 3 training pairs; got train_size=2",
        ),
        (
            {"mode": "confounding"},
            {"prompt_type": np.full(50, 0.5)},
            "prompt_type holds the non-integer value 0.5",
        ),
        (
            {"mode": "confounding"},
            {"prompt_type": np.zeros((50, 2))},
            r"prompt_type of shape \(n_pairs,\).*got shape \(50, 2\)",
        ),
        (
            {"mode": "confounding"},
            {"prompt_type": np.zeros(3)},
            "prompt_type has 3 entries but there are 50 pairs",
        ),
        (
            {"mode": "confounding"},
            {"prompt_type": np.zeros(3), "objective": np.zeros(3)},
            "objective and prompt_type have 3 entries but X has 50 pairs",
        ),
        (
            {"mode": "confounding"},
            {"prompt_type": np.r_[np.nan, np.zeros(49)]},
            "prompt_type contains NaN",
        ),
        (
            {"mode": "confounding", "train_size": 1},
            {"prompt_type": np.zeros(50)},
            "at least one training pair per objective.*got train_size=1",
        ),
        (
            {"mode": "confounding"},
            {"prompt_type": OBJ50 + 5},
            r"prompt_type holds the id \d, outside the objective coding 0\.\.1",
        ),
        (
            {"mode": "confounding"},
            {"prompt_type": np.where(OBJ50 == 0, "helpful", "harmless")},
            "prompt_type holds objective names but objective holds integer ids; "
            "pass objective_categories",
        ),
        (
            {"mode": "confounding", "objective_categories": ["helpful", "harmless"]},
            {"prompt_type": np.where(OBJ50 == 0, "helpful", "harmles")},
            "the objective 'harmles' in prompt_type .* Did you mean 'harmless'",
        ),
        (
            {"mode": "confounding", "objective_categories": ["helpful", "helpful"]},
            {"prompt_type": OBJ50},
            r"objective_categories lists .*helpful.* more than once",
        ),
        (
            {"mode": "confounding", "objective_categories": ["harmless", "helpful"]},
            {
                "prompt_type": pd.Categorical(
                    ["helpful"] * 50, categories=["helpful", "harmless"]
                )
            },
            r"the categories of the Categorical prompt_type, \['helpful', "
            r"'harmless'\], disagree with objective_categories",
        ),
        (
            {},
            {"delta": np.zeros((50, 2)), "prompt_type": OBJ50},
            r"mode='latent'\) reads delta, not prompt_type",
        ),
        (
            {"mode": "confounding"},
            {"delta": np.zeros((50, 2)), "prompt_type": OBJ50},
            r"reads prompt_type and objective, not delta",
        ),
        (
            {"mode": "confounding"},
            {"prompt_type": OBJ50, "objective": np.zeros(50) + 0.5},
            "non-integer value 0.5",
        ),
    ],
)
def test_split_errors_name_the_argument(kwargs, meta, match):
    cv = RhoStratifiedSplitter(**kwargs)
    with pytest.raises(ValueError, match=match):
        list(cv.split(X50, **meta))
    # split_info checks exactly as split does
    with pytest.raises(ValueError, match=match):
        cv.split_info(X50, **meta)


def test_an_empty_test_fold_is_an_error_not_nan():
    # issue 10: 100 pairs, 20 consistent per objective; rho = 1 takes all 40 of
    # them for training, so nothing consistent is left to test on
    objective = np.tile([0, 1], 50)
    prompt_type = np.where(np.arange(100) < 40, objective, 1 - objective)
    X = np.column_stack([RNG.normal(size=(100, 4)), objective])
    y = RNG.integers(0, 2, 100)
    cv = RhoStratifiedSplitter(
        mode="confounding", rho=1.0, train_size=40, test="consistent", n_splits=2
    )
    match = "no consistent pairs are left for testing"
    with pytest.raises(ValueError, match=match):
        list(cv.split(X, prompt_type=prompt_type))
    with pytest.raises(ValueError, match=match):
        cross_val_score(LogisticRegression(), X, y, cv=cv, groups=prompt_type)
    # the latent out-of-distribution test set likewise: no disagreement pairs
    delta = np.abs(gaussian_delta(60))
    latent = LatentCorrelationSplitter(rho=0.5, train_size=20, tol=0.9)
    with pytest.raises(ValueError, match="no disagreement-quadrant pairs are left"):
        list(latent.split(delta, delta=delta))


def test_a_share_of_less_than_one_pair_is_an_error_not_an_empty_fold():
    delta = gaussian_delta(500)
    for size in ({"test_size": 0.001}, {"train_size": 0.001}):
        cv = LatentCorrelationSplitter(rho=0.5, **{"train_size": 100, **size})
        name = next(iter(size))
        with pytest.raises(ValueError, match=f"{name}=0.001 of 500 pairs is less"):
            list(cv.split(delta, delta=delta))


def test_text_frame_without_the_objective_column():
    frame = pd.DataFrame({"prompt": ["p"] * 10, "goal": ["helpful"] * 10})
    cv = ObjectiveConfoundingSplitter()
    with pytest.raises(ValueError, match=r"column 'objective' of a DataFrame X.*"):
        list(cv.split(frame, prompt_type=["helpful"] * 10))
    # and a prompt type that is neither given nor a column names both ways
    frame = frame.rename(columns={"goal": "objective"})
    with pytest.raises(ValueError, match="or keep it in the column 'prompt_type'"):
        list(cv.split(frame))


def test_text_in_the_last_column_of_an_array():
    X = np.array([["a", "b", "helpful"], ["c", "d", "harmless"]], dtype=object)
    cv = ObjectiveConfoundingSplitter()
    with pytest.raises(ValueError, match="objective from the last column.*'helpful'"):
        list(cv.split(X, prompt_type=["helpful", "harmless"]))


def test_unreachable_rho_names_the_bounds():
    delta = gaussian_delta(400)
    cv = RhoStratifiedSplitter(rho=0.99, train_size=300, random_state=0)
    with pytest.raises(ValueError, match=r"the highest it can reach is 0\.\d+"):
        list(cv.split(delta, delta=delta))
    cv = RhoStratifiedSplitter(rho=-0.99, train_size=300, random_state=0)
    with pytest.raises(ValueError, match=r"the lowest it can reach is -0\.\d+"):
        list(cv.split(delta, delta=delta))
    # discrete deltas: the correlation can only move in steps
    steps = np.array([[1, 1], [-1, -1], [1, -1], [2, 1], [-1, 2], [0, 1]] * 2, float)
    cv = RhoStratifiedSplitter(rho=0.3, train_size=5, tol=0.0, random_state=0)
    with pytest.raises(ValueError, match="the closest it reached is"):
        list(cv.split(steps, delta=steps))


def test_confounding_size_names_the_maximum():
    X, prompt_type, objective = confounded(400, seed=0)
    n_consistent = np.bincount(objective[prompt_type == objective], minlength=2)
    max_train = 2 * int(n_consistent.min())  # rho = 1 needs only consistent pairs
    cv = RhoStratifiedSplitter(
        mode="confounding", rho=1.0, train_size=max_train + 2, random_state=0
    )
    with pytest.raises(ValueError, match=f"allow at most {max_train} training pairs"):
        list(cv.split(X, prompt_type=prompt_type))
    # at the maximum it works (and tests on the inconsistent pairs)
    ok = RhoStratifiedSplitter(
        mode="confounding", rho=1.0, train_size=max_train, random_state=0
    )
    train, _ = next(ok.split(X, prompt_type=prompt_type))
    assert train.size == max_train
    per = max_train // 2 + 1
    rho_max = n_consistent.min() / per
    with pytest.raises(ValueError, match=rf"rho must lie in \[0\.\d+, {rho_max:.3f}\]"):
        list(cv.split(X, prompt_type=prompt_type))
    # never inconsistent: no rho below 1 is reachable at all
    cv = RhoStratifiedSplitter(mode="confounding", rho=0.5, train_size=40)
    with pytest.raises(ValueError, match=r"at most 0 training pairs"):
        list(cv.split(X, prompt_type=objective))


def test_test_sizes_beyond_the_eligible_pairs():
    delta = gaussian_delta(400, rho=0.0)
    cv = RhoStratifiedSplitter(rho=0.0, train_size=100, test_size=300, random_state=0)
    with pytest.raises(ValueError, match=r"only \d+ disagreement-quadrant pairs left"):
        list(cv.split(delta, delta=delta))
    cv = RhoStratifiedSplitter(
        rho=0.0, train_size=380, test_size=30, test="in_distribution", random_state=0
    )
    with pytest.raises(ValueError, match="20 pairs left after training"):
        list(cv.split(delta, delta=delta))


@pytest.mark.parametrize(
    "splitter, match",
    [
        (
            RhoStratifiedSplitter(rho=1.5),
            "The 'rho' parameter of RhoStratifiedSplitter",
        ),
        (RhoStratifiedSplitter(mode="other"), "The 'mode' parameter"),
        (RhoStratifiedSplitter(n_splits=0), "The 'n_splits' parameter"),
        (RhoStratifiedSplitter(train_size=1.0), "The 'train_size' parameter"),
        (RhoStratifiedSplitter(test="ood"), "The 'test' parameter"),
        (
            LatentCorrelationSplitter(test="inconsistent"),
            "The 'test' parameter of LatentCorrelationSplitter",
        ),
        (
            ObjectiveConfoundingSplitter(rho=-0.5),
            "The 'rho' parameter of ObjectiveConfoundingSplitter",
        ),
        (ObjectiveConfoundingSplitter(objective_column=3), "'objective_column'"),
    ],
)
def test_invalid_parameters(splitter, match):
    # checked before any data is looked at
    with pytest.raises(InvalidParameterError, match=match):
        list(splitter.split(X50, groups=OBJ50))


@st.composite
def confounding_inputs(draw):
    n = draw(st.integers(2, 60))
    objective = draw(arrays(np.int64, n, elements=st.integers(0, 3)))
    kind = draw(st.sampled_from(["ids", "floats", "names", "mixed"]))
    if kind == "ids":
        prompt_type = draw(arrays(np.int64, n, elements=st.integers(-2, 6)))
    elif kind == "floats":
        values = st.one_of(st.floats(-1, 5), st.just(np.nan))
        prompt_type = draw(arrays(np.float64, n, elements=values))
    else:
        names = ["helpful", "harmless", "honest"] + ([0, 1] if kind == "mixed" else [])
        prompt_type = np.array(
            draw(st.lists(st.sampled_from(names), min_size=n, max_size=n)),
            dtype=object,
        )
    params = dict(
        mode="confounding",
        rho=draw(st.floats(0, 1)),
        train_size=draw(st.integers(1, 70)),
        test=draw(st.sampled_from(["consistent", "inconsistent", "in_distribution"])),
        n_splits=2,
        random_state=0,
    )
    return objective, prompt_type, params


@given(confounding_inputs())
def test_random_side_information_splits_or_says_why(data):
    # whatever the objective ids and prompt types, the splitter either keeps its
    # promise or raises its own ValueError; never numpy's or pandas' exception
    objective, prompt_type, params = data
    X = np.column_stack([np.zeros((objective.size, 2)), objective])
    cv = RhoStratifiedSplitter(**params)
    try:
        folds = list(cv.split(X, prompt_type=prompt_type))
    except ValueError as error:
        assert str(error).startswith("RhoStratifiedSplitter")
        return
    for train, test in folds:
        assert test.size > 0 and np.intersect1d(train, test).size == 0
