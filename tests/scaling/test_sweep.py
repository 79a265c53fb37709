"""Sweeps over text pipelines under joblib's Dask backend equal the local sweep.

The pipeline embeds with the tiny random BERT into a cache the workers share, the
splitter reads the prompt type through metadata routing, and the reward model is
fitted on the workers.
"""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline

from skpref import LLMEmbeddingTransformer, MultiheadRewardModel
from skpref.datasets import OBJECTIVES
from skpref.model_selection import RhoStratifiedSplitter

pytestmark = pytest.mark.slow
GRID = {"reward__lr": [1e-2, 1e-3], "reward__random_state": [0, 1]}
SCORES = ["split0_test_score", "split1_test_score", "mean_test_score"]
# The labels are random and the nets tiny, so accuracy can be one constant across
# the grid (every fit predicts the majority class); the log-loss moves with every
# change of the weights, so the test can see that the grid changed the fits.
SCORING = "neg_log_loss"


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(0)
    n = 120
    objective = rng.integers(0, 2, n)
    prompt_type = np.where(rng.random(n) < 0.5, objective, 1 - objective)
    topics = ["bread", "chess", "rain", "music", "tea", "cats"]
    frame = pd.DataFrame(
        {
            "prompt": [f"Tell me about {topics[i % 6]} {i}" for i in range(n)],
            "response_a": [
                f"A good answer about {topics[i % 6]} {i}." for i in range(n)
            ],
            "response_b": [f"No {i}." for i in range(n)],
            "objective": pd.Categorical(
                np.asarray(OBJECTIVES)[objective], categories=OBJECTIVES
            ),
        }
    )
    y = rng.integers(0, 2, n)
    return frame, y, np.asarray(OBJECTIVES)[prompt_type]


def pipeline(model, cache_dir):
    return Pipeline(
        [
            (
                "embed",
                LLMEmbeddingTransformer(
                    model_name_or_path=model,
                    cache_dir=cache_dir,
                    dtype="float32",
                    device="cpu",
                ),
            ),
            (
                "reward",
                MultiheadRewardModel(
                    hidden_dim=8,
                    latent_dim=4,
                    head_hidden_dim=4,
                    max_epochs=3,
                    random_state=0,
                    device="cpu",
                ),
            ),
        ]
    )


def splitter():
    return RhoStratifiedSplitter(
        mode="confounding", rho=0.8, n_splits=2, train_size=40, random_state=0
    )


def sweep(model, cache_dir, pairs, backend=None):
    frame, y, prompt_type = pairs
    search = GridSearchCV(
        pipeline(model, cache_dir),
        GRID,
        cv=splitter(),
        scoring=SCORING,
        refit=False,
        n_jobs=2,
    )
    import joblib

    with (
        sklearn.config_context(enable_metadata_routing=True),
        joblib.parallel_config(backend=backend),
    ):
        search.fit(frame, y, prompt_type=prompt_type)
        scores = cross_validate(
            pipeline(model, cache_dir),
            frame,
            y,
            cv=splitter(),
            params={"prompt_type": prompt_type},
            scoring=SCORING,
            n_jobs=2,
        )
    return search.cv_results_, scores["test_score"]


def test_dask_sweep_equals_the_local_sweep(client, tiny_models, pairs, tmp_path):
    model = tiny_models["bert"]
    from distributed import get_task_stream

    local, local_cv = sweep(model, tmp_path / "local", pairs, backend="sequential")
    with get_task_stream(client) as tasks:
        remote, remote_cv = sweep(model, tmp_path / "shared", pairs, backend="dask")
    assert len({task["worker"] for task in tasks.data}) == 2  # both workers fitted
    # the same fits: the workers embed in other processes and batch shapes, which
    # can move a float32 embedding (and so a log-loss) in its last bits, no more
    for key in SCORES:
        np.testing.assert_allclose(remote[key], local[key], rtol=1e-6)
    np.testing.assert_allclose(remote_cv, local_cv, rtol=1e-6)
    assert np.ptp(remote["mean_test_score"]) > 0  # the grid changed something
    # the workers wrote their embeddings into the one shared cache
    shards = list((tmp_path / "shared").rglob("shard-*.npz"))
    assert shards and len({p.parent for p in shards}) == 1


def test_the_folds_come_from_the_routed_prompt_type(
    client, tiny_models, pairs, tmp_path
):
    import joblib

    frame, y, prompt_type = pairs
    with (
        sklearn.config_context(enable_metadata_routing=True),
        joblib.parallel_config(backend="dask"),
    ):
        result = cross_validate(
            pipeline(tiny_models["bert"], tmp_path),
            frame,
            y,
            cv=splitter(),
            params={"prompt_type": prompt_type},
            return_indices=True,
            n_jobs=2,
        )
    consistent = prompt_type == frame["objective"].astype(str).to_numpy()
    for train, test in zip(*result["indices"].values(), strict=True):
        assert consistent[train].mean() == pytest.approx(0.8)
        assert not consistent[test].any()  # the default test set: inconsistent
