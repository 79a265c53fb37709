"""Checkpointed runs: an interrupted run resumes where it stopped, and only there."""

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from skpref.datasets import make_confounded_preferences
from skpref.experiments import (
    CONFOUNDING,
    LATENT_POSITIVITY,
    PairSource,
    SyntheticConfounded,
    SyntheticLatent,
    VectorisedExecutor,
    run_fit_group,
    run_protocol,
)
from skpref.experiments._checkpoint import GroupStore, _canonical, run_identity
from skpref.models import BTLRewardRegressor

TINY = {"width": 8, "lr": 1e-2, "max_epochs": 2, "device": "cpu"}
#: Two repetitions at two rhos: four fit groups.
LATENT = {"rhos": [0.0, 0.6], "n_seeds": 2, **TINY}


@dataclass
class CountedLatent(SyntheticLatent):
    """SyntheticLatent that counts the draws it makes."""

    def draw(self, rho, seed, draw_seeds):
        self.n_draws_made = getattr(self, "n_draws_made", 0) + 1
        return super().draw(rho, seed, draw_seeds)


def _latent_source():
    return CountedLatent(n_train=80, n_test=40, n_features=4)


class Spy:
    """Executor fitting one group at a time, counting them; stops after ``kill``."""

    def __init__(self, kill=None):
        self.kill = kill
        self.fitted = []

    def __call__(self, groups):
        for group in groups:
            if self.kill is not None and len(self.fitted) == self.kill:
                raise KeyboardInterrupt("killed")
            self.fitted.append((group.seed, group.rho))
            yield run_fit_group(group)


def _without_timing(runs):
    return runs.drop(columns="fit_seconds")


def _run_twice(folder, **changes):
    """Run once into ``folder``, then again with ``changes`` and a spy: both out."""
    run_protocol(LATENT_POSITIVITY, _latent_source(), checkpoint=folder, **LATENT)
    settings = {**LATENT, **changes}
    source = settings.pop("source", _latent_source())
    spy = Spy()
    result = run_protocol(
        LATENT_POSITIVITY, source, executor=spy, checkpoint=folder, **settings
    )
    return result, spy


@pytest.fixture(scope="module")
def uninterrupted():
    """A latent-positivity run without a checkpoint: what a resumed run must equal."""
    return run_protocol(LATENT_POSITIVITY, _latent_source(), executor=Spy(), **LATENT)


def test_a_killed_run_resumes_with_the_remaining_groups_only(uninterrupted, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run_protocol(
            LATENT_POSITIVITY,
            _latent_source(),
            executor=Spy(kill=3),
            checkpoint=tmp_path,
            **LATENT,
        )
    assert len(list(tmp_path.glob("*.json"))) == 3
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    spy, source = Spy(), _latent_source()
    resumed = run_protocol(
        LATENT_POSITIVITY, source, executor=spy, checkpoint=tmp_path, **LATENT
    )
    assert spy.fitted == [(1, 0.6)]  # the last group of the plan
    assert source.n_draws_made == 1  # the kept groups' draws are never made
    assert (resumed.checkpoint.reused, resumed.checkpoint.fitted) == (3, 1)
    pd.testing.assert_frame_equal(
        _without_timing(resumed.runs), _without_timing(uninterrupted.runs)
    )
    assert resumed.config == uninterrupted.config
    assert list(resumed.deltas) == list(uninterrupted.deltas) == [0.0, 0.6]
    for rho, delta in uninterrupted.deltas.items():
        assert resumed.deltas[rho].dtype == delta.dtype
        np.testing.assert_array_equal(resumed.deltas[rho], delta)


def test_a_finished_run_is_read_back_whole(tmp_path):
    first = run_protocol(
        LATENT_POSITIVITY,
        _latent_source(),
        checkpoint=tmp_path,
        executor=VectorisedExecutor(max_draws=2),
        **LATENT,
    )
    spy, source = Spy(), _latent_source()
    again = run_protocol(
        LATENT_POSITIVITY, source, executor=spy, checkpoint=tmp_path, **LATENT
    )
    assert spy.fitted == [] and getattr(source, "n_draws_made", 0) == 0
    pd.testing.assert_frame_equal(again.runs, first.runs)  # fit_seconds too
    assert again.checkpoint.reused == 4 and first.checkpoint.reused == 0
    assert again.checkpoint.folder == str(tmp_path)


def test_resume_false_fits_everything_again_and_replaces_the_files(tmp_path):
    result, spy = _run_twice(tmp_path, resume=False)
    assert len(spy.fitted) == 4 and result.checkpoint.reused == 0
    files = sorted(tmp_path.glob("*.json"))
    assert len(files) == 4  # the same names, replaced
    kept = {json.loads(path.read_text())["rows"][0]["fit_seconds"] for path in files}
    assert kept == set(result.runs["fit_seconds"])  # the second run's timings


@pytest.mark.parametrize(
    "change",
    [
        {"lr": 2e-2},
        {"width": 9},
        {"max_epochs": 3},
        {"batch_size": 32},
        {"adversary_weight": 0.5},
        {"random_state": 1},
        {"models": {"BTL": BTLRewardRegressor(hidden_dim=8)}},
        {"models": {"BTL": "BTL", "again": "BTL"}},
        {"source": {"n_train": 81}},
        {"source": {"label_noise": 0.1}},
    ],
    ids=str,
)
def test_changing_a_keyed_setting_reuses_nothing(change, tmp_path):
    change = dict(change)
    params = {"n_train": 80, "n_test": 40, "n_features": 4, **change.pop("source", {})}
    result, spy = _run_twice(tmp_path, source=CountedLatent(**params), **change)
    assert result.checkpoint.reused == 0 and len(spy.fitted) == 4
    assert len(list(tmp_path.glob("*.json"))) == 8  # both runs' files are kept


def test_an_estimators_parameters_are_keyed(tmp_path):
    def run(hidden_dim):
        model = BTLRewardRegressor(hidden_dim=hidden_dim, max_epochs=2, device="cpu")
        return run_protocol(
            LATENT_POSITIVITY,
            _latent_source(),
            models={"BTL": model},
            checkpoint=tmp_path,
            **LATENT,
        ).checkpoint.reused

    assert (run(8), run(8), run(9)) == (0, 4, 0)


def test_more_seeds_or_rhos_reuse_the_draws_they_share(tmp_path):
    result, spy = _run_twice(tmp_path, rhos=[0.0, 0.6, 0.9], n_seeds=3)
    assert result.checkpoint.reused == 4
    assert sorted(spy.fitted) == [(0, 0.9), (1, 0.9), (2, 0.0), (2, 0.6), (2, 0.9)]


def test_the_device_and_the_executor_are_not_keyed(tmp_path):
    result, spy = _run_twice(tmp_path, device="auto")
    assert result.checkpoint.reused == 4 and spy.fitted == []


def test_pair_source_data_are_keyed(tmp_path):
    data = make_confounded_preferences(n_pairs=240, n_features=4, rho=0.5)
    settings = {"models": ["Base"], "rhos": [0.9], "n_seeds": 1, **TINY}

    def run(y):
        source = PairSource(data.X, y, prompt_type=data.prompt_type, n_train=80)
        return run_protocol(CONFOUNDING, source, checkpoint=tmp_path, **settings)

    assert run(data.y).checkpoint.reused == 0
    assert run(data.y.copy()).checkpoint.reused == 1  # equal data, another array
    flipped = data.y.copy()
    flipped[0] = 1 - flipped[0]
    assert run(flipped).checkpoint.reused == 0


def test_nan_scores_round_trip(tmp_path):
    """At rho = 1 no training pair is inconsistent: its training accuracy is NaN."""
    source = SyntheticConfounded(n_train=80, n_test=40, n_features=4)
    settings = {"models": ["Base"], "rhos": [1.0], "n_seeds": 1, **TINY}
    first = run_protocol(CONFOUNDING, source, checkpoint=tmp_path, **settings)
    assert first.runs["accuracy"].isna().sum() == 1
    again = run_protocol(CONFOUNDING, source, checkpoint=tmp_path, **settings)
    assert again.checkpoint.reused == 1
    pd.testing.assert_frame_equal(again.runs, first.runs)


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut short by a full disk
        lambda text: "",
        lambda text: json.dumps({**json.loads(text), "rows": 3}),
        lambda text: json.dumps({**json.loads(text), "key": {"other": 1}}),
        lambda text: json.dumps(
            {k: v for k, v in json.loads(text).items() if k != "info"}
        ),
    ],
    ids=["truncated", "empty", "rows", "key", "no info"],
)
def test_an_unreadable_file_is_fitted_again_with_a_warning(damage, tmp_path):
    first = run_protocol(
        LATENT_POSITIVITY, _latent_source(), checkpoint=tmp_path, **LATENT
    )
    path = sorted(tmp_path.glob("*.json"))[0]
    path.write_text(damage(path.read_text()))
    spy = Spy()
    words = re.escape(f"checkpoint file '{path}' cannot be read back")
    with pytest.warns(UserWarning, match=words):
        result = run_protocol(
            LATENT_POSITIVITY,
            _latent_source(),
            executor=spy,
            checkpoint=tmp_path,
            **LATENT,
        )
    assert len(spy.fitted) == 1 and result.checkpoint.reused == 3
    pd.testing.assert_frame_equal(
        _without_timing(result.runs), _without_timing(first.runs)
    )
    json.loads(path.read_text())  # rewritten whole


@pytest.mark.parametrize(
    ("checkpoint", "words"),
    [
        (3, "checkpoint must be a folder path .* got 3"),
        ("file", "checkpoint must be a folder; .* is a file"),
        ("file/sub", "cannot create the checkpoint folder"),
    ],
)
def test_a_bad_checkpoint_argument_fails_before_any_fit(checkpoint, words, tmp_path):
    (tmp_path / "file").write_text("")
    if isinstance(checkpoint, str):
        checkpoint = tmp_path / checkpoint
    spy = Spy()
    with pytest.raises(ValueError, match=words):
        run_protocol(
            LATENT_POSITIVITY,
            _latent_source(),
            executor=spy,
            checkpoint=checkpoint,
            **LATENT,
        )
    assert spy.fitted == []


def test_resume_must_be_a_bool(tmp_path):
    with pytest.raises(ValueError, match="resume must be True or False; got 'yes'"):
        run_protocol(
            LATENT_POSITIVITY,
            _latent_source(),
            checkpoint=tmp_path,
            resume="yes",
            **LATENT,
        )


def test_an_executor_that_drops_groups_is_an_error(tmp_path):
    def short(groups):
        return map(run_fit_group, list(groups)[:2])

    with pytest.raises(
        RuntimeError, match="returned the rows of 2 of the 4 fit groups"
    ):
        run_protocol(LATENT_POSITIVITY, _latent_source(), executor=short, **LATENT)


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)


@given(
    rows=st.lists(
        st.dictionaries(st.text(max_size=6), _VALUES, max_size=4), max_size=4
    ),
    delta=st.none() | st.lists(st.floats(allow_nan=True), min_size=2, max_size=6),
)
def test_rows_and_delta_round_trip_exactly(rows, delta):
    delta = None if delta is None else np.asarray(delta[: len(delta) // 2 * 2])
    delta = None if delta is None else delta.reshape(-1, 2)
    with tempfile.TemporaryDirectory() as folder:
        store = GroupStore(folder, {"protocol": {"name": "p"}}, owner="test")
        store.save(0, 0.5, rows, delta=delta, info={"n": 3})
        kept = store.load(0, 0.5)
    back_rows, back_delta = kept.rows, kept.delta
    assert kept.info == {"n": 3}
    assert len(back_rows) == len(rows)
    for back, row in zip(back_rows, rows, strict=True):
        assert back.keys() == row.keys()
        for key, value in row.items():
            same = type(back[key]) is type(value) and back[key] == value
            assert same or (math.isnan(value) and math.isnan(back[key]))
    if delta is None:
        assert back_delta is None
    else:
        assert back_delta.dtype == delta.dtype
        np.testing.assert_array_equal(back_delta, delta)


def test_arrays_are_keyed_by_their_whole_content():
    """A repr elides the middle of a long array; the key must not."""
    a = np.zeros(5000)
    b = a.copy()
    b[2500] = 1.0
    model_a = FunctionTransformer(kw_args={"w": a})
    model_b = FunctionTransformer(kw_args={"w": b})
    assert repr(model_a.get_params(deep=True)) == repr(model_b.get_params(deep=True))
    assert _canonical(model_a) != _canonical(model_b)
    assert _canonical(a) != _canonical(b)
    assert _canonical(a) == _canonical(a.copy())


def test_a_file_without_the_info_the_run_needs_is_fitted_again(tmp_path):
    store = GroupStore(tmp_path, {"protocol": {"name": "p"}}, owner="test")
    store.save(0, 0.0, [], info={"other": 1})
    needs = GroupStore(tmp_path, store.identity, owner="test", info=["query_size"])
    with pytest.warns(
        UserWarning, match=r"cannot be read back \(it lacks \['query_size'\]\)"
    ):
        assert needs.load(0, 0.0) is None


def test_numpy_scalars_are_written_as_numbers(tmp_path):
    store = GroupStore(tmp_path, {"protocol": {"name": "p"}}, owner="test")
    store.save(0, 0.0, [{"a": np.float32(0.5), "n": np.int64(3)}])
    kept = store.load(0, 0.0)
    assert kept.rows == [{"a": 0.5, "n": 3}] and kept.delta is None


def test_the_identity_names_the_estimators_class_and_parameters():
    source = SyntheticLatent(n_train=80, n_test=40, n_features=4)
    source.prepare(LATENT_POSITIVITY, [0])
    identity = run_identity(
        LATENT_POSITIVITY, source, [("m", LogisticRegression(C=2.0))], {}, 0
    )
    [[name, spec]] = identity["models"]
    assert spec["class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert spec["params"]["C"] == 2.0
    assert identity["source"]["fields"]["n_train"] == 80
    assert os.fspath(identity["source"]["class"]).endswith("SyntheticLatent")
