"""The runner's default executor trains a run's reward models at once."""

import io

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skpref._cli import main
from skpref.experiments import (
    CONFOUNDING,
    LATENT_POSITIVITY,
    SyntheticConfounded,
    SyntheticLatent,
    VectorisedExecutor,
    make_reward_model,
    run_fit_group,
    run_protocol,
)
from skpref.models import _batches, _engine

TINY = {"width": 16, "lr": 1e-2, "max_epochs": 3, "device": "cpu"}


def _one_after_another(groups):
    return map(run_fit_group, groups)


@pytest.fixture
def engine_groups(monkeypatch):
    """The sizes of the groups of members the engine trains together."""
    sizes = []
    original = _engine._train_group

    def recording(plans, data, progress=None):
        sizes.append(len(plans))
        original(plans, data, progress)

    monkeypatch.setattr(_engine, "_train_group", recording)
    return sizes


def test_every_seed_and_rho_of_a_model_trains_at_once(engine_groups):
    source = SyntheticConfounded(n_train=200, n_test=100, n_features=6)
    result = run_protocol(CONFOUNDING, source, rhos=(0.5, 1.0), n_seeds=2, **TINY)
    # Base, Multihead and Adversarial: each over 2 seeds x 2 rhos
    assert engine_groups == [4, 4, 4]
    seconds = result.runs.groupby("model")["fit_seconds"].nunique()
    assert (seconds == 1).all()  # the engine's time, shared equally


def test_the_runs_are_those_of_the_models_fitted_one_after_another():
    source = SyntheticLatent(n_train=200, n_test=100, n_features=6)
    kwargs = {"rhos": (0.0, 0.6), "n_seeds": 2, **TINY}
    together = run_protocol(LATENT_POSITIVITY, source, **kwargs)
    alone = run_protocol(
        LATENT_POSITIVITY, source, executor=_one_after_another, **kwargs
    )
    np.testing.assert_array_equal(together.runs["accuracy"], alone.runs["accuracy"])
    np.testing.assert_allclose(
        together.runs["alpha_hat"], alone.runs["alpha_hat"], rtol=1e-4
    )


def test_a_lambda_grid_trains_as_one_group_and_other_estimators_alone(engine_groups):
    models = {
        f"lambda={w}": make_reward_model(
            "Adversarial", adversary_weight=w, width=8, lr=1e-2, max_epochs=2
        ).set_params(device="cpu")
        for w in (0.0, 0.5, 2.0)
    }
    models["logistic"] = LogisticRegression()
    source = SyntheticConfounded(n_train=160, n_test=60, n_features=4)
    result = run_protocol(CONFOUNDING, source, models=models, rhos=[0.8], n_seeds=2)
    assert engine_groups == [6]
    assert list(result.runs["model"].unique()) == [*models]
    assert result.runs["accuracy"].notna().any()


def test_chunks_of_draws_give_the_same_runs(engine_groups):
    source = SyntheticConfounded(n_train=160, n_test=60, n_features=4)
    kwargs = {"models": ["Multihead"], "rhos": (0.5, 0.9), "n_seeds": 2, **TINY}
    whole = run_protocol(CONFOUNDING, source, **kwargs)
    chunked = run_protocol(
        CONFOUNDING, source, executor=VectorisedExecutor(max_draws=3), **kwargs
    )
    assert engine_groups == [4, 3]  # the last draw's one model trains alone
    np.testing.assert_array_equal(whole.runs["accuracy"], chunked.runs["accuracy"])
    assert repr(VectorisedExecutor(2)) == "VectorisedExecutor(max_draws=2)"


def test_the_command_lines_device_reaches_the_engine(monkeypatch, tmp_path):
    devices = []
    original = _batches.PairData.__init__

    def recording(self, blocks, y, device, **kwargs):
        devices.append(str(device))
        original(self, blocks, y, device, **kwargs)

    monkeypatch.setattr(_batches.PairData, "__init__", recording)
    argv = (
        "reproduce confounding --rhos 0.5 --seeds 1 --n-train 100 --n-test 40 "
        "--width 8 --epochs 1 --no-progress --device cpu --output"
    ).split()
    assert main([*argv, str(tmp_path)], out=io.StringIO()) == 0
    assert devices == ["cpu"]


def test_a_shown_run_has_a_progress_bar_of_the_training_epochs(capsys):
    source = SyntheticConfounded(n_train=200, n_test=50, n_features=4)
    run_protocol(
        CONFOUNDING, source, models=["Base"], rhos=[0.5, 1.0], n_seeds=1,
        show_progress=True, **TINY,
    )  # fmt: skip
    shown = capsys.readouterr().err
    # the two Base models (width 16) train stacked: 3 epochs in all (the bar is
    # redrawn at most every 0.1 s, so only its first drawing is certain)
    assert "training 2 models" in shown and "0/3" in shown
    run_protocol(CONFOUNDING, source, models=["Base"], rhos=[0.5], n_seeds=1, **TINY)
    assert "training" not in capsys.readouterr().err
    assert repr(VectorisedExecutor(show_progress=True)) == (
        "VectorisedExecutor(show_progress=True)"
    )


@pytest.mark.parametrize("wide", [False, True])
def test_auto_chunks_are_the_whole_run_where_the_engine_stacks_else_one_draw(
    wide, monkeypatch
):
    from skpref.experiments import _vectorised

    if wide:  # as width-512 models on a CPU
        monkeypatch.setattr(_engine, "_CPU_STACKING_MAX_PARAMETERS", 0)
    chunks = []
    original = _vectorised.run_fit_groups

    def recording(groups, **kwargs):
        chunks.append(len(groups))
        return original(groups, **kwargs)

    monkeypatch.setattr(_vectorised, "run_fit_groups", recording)
    source = SyntheticConfounded(n_train=160, n_test=60, n_features=4)
    kwargs = {"models": ["Base"], "rhos": (0.5, 0.9), "n_seeds": 2, **TINY}
    result = run_protocol(CONFOUNDING, source, **kwargs)
    assert chunks == ([1, 1, 1, 1] if wide else [4])
    whole = run_protocol(
        CONFOUNDING, source, executor=VectorisedExecutor(max_draws=None), **kwargs
    )
    np.testing.assert_array_equal(whole.runs["accuracy"], result.runs["accuracy"])


@pytest.mark.parametrize("bad", [0, -1, 1.5, "all", True])
def test_max_draws_must_be_a_count_auto_or_none(bad):
    source = SyntheticConfounded(n_train=100, n_test=50, n_features=4)
    with pytest.raises(ValueError, match=r"max_draws must be an integer >= 1, 'auto'"):
        run_protocol(
            CONFOUNDING, source, models=["Base"], rhos=[0.5], n_seeds=1,
            executor=VectorisedExecutor(max_draws=bad), **TINY,
        )  # fmt: skip
