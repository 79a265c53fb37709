"""Checkpointed active runs: a killed run resumes with the draws it had not done."""

import pandas as pd
import pytest

import skpref.experiments._active as active_module
from skpref.experiments import ACTIVE_POSITIVITY, SyntheticLatent, run_active_protocol

SETTINGS = {
    "strategies": ["random", "quadrant"],
    "rhos": [0.6, 0.9],
    "n_seeds": 1,
    "n_rounds": 2,
    "budget": 0.2,
    "n_members": 2,
    "width": 8,
    "lr": 1e-2,
    "max_epochs": 2,
    "device": "cpu",
}


def _source():
    return SyntheticLatent(n_train=100, n_test=50, n_features=4, label_noise=0.3)


@pytest.fixture
def draws_run(monkeypatch):
    """Record the (repetition, rho) of each draw trained; stop at ``kill`` draws."""
    run_draw, done = active_module._run_draw, []

    def counted(protocol, source, draw_info, *args):
        if len(done) == counted.kill:
            raise KeyboardInterrupt("killed")
        done.append((draw_info[0], draw_info[2]))
        return run_draw(protocol, source, draw_info, *args)

    counted.kill = None
    monkeypatch.setattr(active_module, "_run_draw", counted)
    return counted, done


@pytest.fixture(scope="module")
def uninterrupted():
    return run_active_protocol(ACTIVE_POSITIVITY, _source(), **SETTINGS)


def test_a_killed_active_run_resumes_with_the_remaining_draws(
    uninterrupted, draws_run, tmp_path
):
    counted, done = draws_run
    counted.kill = 1
    with pytest.raises(KeyboardInterrupt):
        run_active_protocol(
            ACTIVE_POSITIVITY, _source(), checkpoint=tmp_path, **SETTINGS
        )
    assert done == [(0, 0.6)] and len(list(tmp_path.glob("*.json"))) == 1
    counted.kill, done[:] = None, []
    resumed = run_active_protocol(
        ACTIVE_POSITIVITY, _source(), checkpoint=tmp_path, **SETTINGS
    )
    assert done == [(0, 0.9)]
    assert (resumed.checkpoint.reused, resumed.checkpoint.fitted) == (1, 1)
    pd.testing.assert_frame_equal(
        resumed.runs.drop(columns="fit_seconds"),
        uninterrupted.runs.drop(columns="fit_seconds"),
    )
    assert resumed.config == uninterrupted.config  # query sizes included


@pytest.mark.parametrize(
    "change",
    [{"budget": 0.3}, {"n_rounds": 1}, {"strategies": ["random"]}, {"pool_rho": 0.3}],
    ids=str,
)
def test_changing_an_active_setting_reuses_nothing(change, draws_run, tmp_path):
    _, done = draws_run
    run_active_protocol(ACTIVE_POSITIVITY, _source(), checkpoint=tmp_path, **SETTINGS)
    done[:] = []
    result = run_active_protocol(
        ACTIVE_POSITIVITY, _source(), checkpoint=tmp_path, **{**SETTINGS, **change}
    )
    assert result.checkpoint.reused == 0 and len(done) == 2


def test_an_active_run_without_a_checkpoint_says_none(uninterrupted):
    assert uninterrupted.checkpoint is None


def test_resume_is_checked_by_the_active_runner_too(tmp_path):
    with pytest.raises(ValueError, match="resume must be True or False; got 1"):
        run_active_protocol(
            ACTIVE_POSITIVITY, _source(), checkpoint=tmp_path, resume=1, **SETTINGS
        )
