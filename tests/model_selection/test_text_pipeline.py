"""The confounding splitter inside text pipelines (issue 9.3), with no glue.

A stand-in for the embedder maps each response's text to fixed features, so the
pipeline ``text frame -> [a | b | objective id] -> reward model`` runs in seconds;
the splitter reads the objective and the prompt type by name from the frame,
``groups`` or metadata routing.
"""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skpref import AdversarialRewardModel
from skpref.datasets import OBJECTIVES, make_confounded_preferences
from skpref.model_selection import ObjectiveConfoundingSplitter, RhoStratifiedSplitter
from skpref.utils import encode_objectives
from tests.model_selection.split_data import SMALL_ADVERSARIAL

N_FEATURES = 8
SMALL = SMALL_ADVERSARIAL


@pytest.fixture(scope="module")
def text():
    data = make_confounded_preferences(
        n_pairs=600, n_features=N_FEATURES, rho=0.5, random_state=0
    )
    n = data.y.size
    names = np.asarray(OBJECTIVES, dtype=object)
    frame = pd.DataFrame(
        {
            "prompt": [f"prompt {i}" for i in range(n)],
            "response_a": [f"a{i}" for i in range(n)],
            "response_b": [f"b{i}" for i in range(n)],
            "objective": names[data.objective],
        }
    )
    features = {f"a{i}": data.X[i, :N_FEATURES] for i in range(n)}
    features |= {f"b{i}": data.X[i, N_FEATURES:-1] for i in range(n)}
    return {
        "frame": frame,
        "y": data.y,
        "prompt_type": names[data.prompt_type],
        "prompt_type_id": data.prompt_type,
        "consistent": data.prompt_type == data.objective,
        "features": features,
    }


def stand_in_embedder(text):
    """Text frame -> [a | b | objective id], as LLMEmbeddingTransformer would."""
    lookup = text["features"]

    def embed(frame):
        a = np.stack([lookup[t] for t in frame["response_a"]])
        b = np.stack([lookup[t] for t in frame["response_b"]])
        ids = encode_objectives(frame["objective"], OBJECTIVES, owner="embed")
        return np.column_stack([a, b, ids]).astype(np.float32)

    return FunctionTransformer(embed)


def pipeline(text):
    return Pipeline(
        [("embed", stand_in_embedder(text)), ("model", AdversarialRewardModel(**SMALL))]
    )


def assert_folds_keep_the_promise(folds, text, rho, test):
    objective = text["frame"]["objective"].to_numpy()
    for train, fold in folds:
        assert np.intersect1d(train, fold).size == 0
        consistent = text["consistent"]
        assert consistent[train].mean() == pytest.approx(rho, abs=1e-9)
        counts = pd.Series(objective[train]).value_counts()
        assert counts.nunique() == 1  # as many pairs per objective
        if test == "inconsistent":
            assert not consistent[fold].any()
            rest = np.setdiff1d(np.arange(consistent.size), train)
            np.testing.assert_array_equal(fold, rest[~consistent[rest]])
        else:
            assert consistent[fold].all()


def test_grid_search_on_a_text_frame_with_groups(text):
    cv = RhoStratifiedSplitter(
        mode="confounding",
        rho=0.9,
        n_splits=2,
        train_size=200,
        test="inconsistent",
        random_state=0,
    )
    search = GridSearchCV(
        pipeline(text), {"model__adversary_weight": [0.0, 1.0]}, cv=cv, refit=False
    )
    search.fit(text["frame"], text["y"], groups=text["prompt_type"])
    assert search.n_splits_ == 2
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    # the folds scikit-learn used are the ones the mode promises
    result = cross_validate(
        pipeline(text),
        text["frame"],
        text["y"],
        groups=text["prompt_type"],
        cv=cv,
        return_indices=True,
    )
    folds = zip(result["indices"]["train"], result["indices"]["test"], strict=True)
    assert_folds_keep_the_promise(folds, text, 0.9, "inconsistent")


def test_grid_search_on_a_text_frame_with_metadata_routing(text):
    cv = RhoStratifiedSplitter(
        mode="confounding", rho=0.8, n_splits=1, train_size=200, random_state=1
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            pipeline(text), {"model__adversary_weight": [0.0, 1.0]}, cv=cv, refit=False
        ).fit(text["frame"], text["y"], prompt_type=text["prompt_type"])
        result = cross_validate(
            pipeline(text),
            text["frame"],
            text["y"],
            cv=cv,
            params={"prompt_type": text["prompt_type"]},
            return_indices=True,
        )
    assert search.n_splits_ == 1
    folds = zip(result["indices"]["train"], result["indices"]["test"], strict=True)
    assert_folds_keep_the_promise(folds, text, 0.8, "inconsistent")


def _splits(cv, X, **side):
    return [(train.tolist(), test.tolist()) for train, test in cv.split(X, **side)]


def test_names_ids_categoricals_and_columns_give_the_same_splits(text):
    frame = text["frame"]
    cv = ObjectiveConfoundingSplitter(
        rho=0.7,
        n_splits=2,
        train_size=100,
        test="consistent",
        objective_categories=OBJECTIVES,
        random_state=0,
    )
    ids = encode_objectives(frame["objective"], OBJECTIVES, owner="test")
    X_ids = np.column_stack([np.zeros((ids.size, 2)), ids])
    reference = _splits(cv, X_ids, prompt_type=text["prompt_type_id"])
    assert_folds_keep_the_promise(reference, text, 0.7, "consistent")
    categorical = pd.Categorical(text["prompt_type"], categories=OBJECTIVES)
    with_column = frame.assign(prompt_type=text["prompt_type"])
    variants = {
        "names in the frame, names by name": _splits(
            cv, frame, prompt_type=text["prompt_type"]
        ),
        "names in the frame, ids as groups": _splits(
            cv, frame, groups=text["prompt_type_id"]
        ),
        "ids in X, names by name": _splits(cv, X_ids, prompt_type=text["prompt_type"]),
        "ids in X, Categorical": _splits(cv, X_ids, prompt_type=categorical),
        "both as frame columns": _splits(cv, with_column),
        "objective by name": _splits(
            cv, np.zeros((ids.size, 3)), objective=ids, prompt_type=categorical
        ),
    }
    for name, splits in variants.items():
        assert splits == reference, name
    # a Categorical carries its coding: no objective_categories needed
    plain = ObjectiveConfoundingSplitter(
        rho=0.7, n_splits=2, train_size=100, test="consistent", random_state=0
    )
    assert _splits(plain, X_ids, prompt_type=categorical) == reference


def test_names_without_a_coding_compare_by_name(text):
    # plain strings on both sides need no coding: only equality of names counts
    cv = RhoStratifiedSplitter(
        mode="confounding", rho=0.6, n_splits=2, train_size=120, random_state=3
    )
    frame = text["frame"].assign(prompt_type=text["prompt_type"])
    splits = _splits(cv, frame)
    assert_folds_keep_the_promise(splits, text, 0.6, "inconsistent")
    info = cv.split_info(frame)
    assert info["rho_train"].eq(0.6).all() and info["rho_test"].eq(0.0).all()


def test_the_prompt_type_argument_wins_over_the_column(text):
    shuffled = np.random.default_rng(0).permutation(text["prompt_type"])
    frame = text["frame"].assign(prompt_type=shuffled)  # a misleading column
    cv = ObjectiveConfoundingSplitter(
        rho=0.5, n_splits=1, train_size=100, random_state=0
    )
    by_argument = _splits(cv, frame, prompt_type=text["prompt_type"])
    assert by_argument == _splits(cv, frame.assign(prompt_type=text["prompt_type"]))
    assert by_argument != _splits(cv, frame)
    # a column whose prompt types allow no rho at all says so
    with pytest.raises(ValueError, match="no rho can be reached"):
        _splits(cv, text["frame"].assign(prompt_type="helpful"))


def test_real_relabelled_hh_rlhf_frame_splits_by_its_columns(data_home):
    from skpref.datasets import load_relabeled_hh_rlhf

    frame = load_relabeled_hh_rlhf("both", "test", data_home=data_home, random_state=0)
    cv = RhoStratifiedSplitter(
        mode="confounding", rho=0.9, n_splits=2, train_size=1000, random_state=0
    )
    consistent = frame["consistent"].to_numpy()
    for train, test in cv.split(frame):
        assert consistent[train].mean() == pytest.approx(0.9)
        assert not consistent[test].any()
        assert consistent[test].size == (~consistent).sum() - (~consistent[train]).sum()
