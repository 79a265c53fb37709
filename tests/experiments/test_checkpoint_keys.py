"""Checkpoint keys: what a kept draw is recognised by, and what never matches."""

import dataclasses
import functools
import os
import shutil
from dataclasses import dataclass, field

import numpy as np
import pytest

from skpref.experiments import (
    CONFOUNDING,
    KEYED_BY_DATA,
    LATENT_POSITIVITY,
    SyntheticLatent,
    UltraFeedback,
    default_embedder,
    run_protocol,
)
from skpref.experiments._checkpoint import GroupStore, _canonical, run_identity
from tests.experiments.test_ultrafeedback_source import write_ultrafeedback

TINY = {"width": 8, "lr": 1e-2, "max_epochs": 2, "device": "cpu"}
LATENT = {"rhos": [0.0, 0.6], "n_seeds": 2, **TINY}


@dataclass
class ShiftedLatent(SyntheticLatent):
    """A source of one's own that loads data: a feature shift read from a file."""

    path: str = ""

    def _prepare(self, protocol, source_seeds):
        super()._prepare(protocol, source_seeds)
        self.shift_ = np.load(self.path)

    def draw(self, rho, seed, draw_seeds):
        draw = super().draw(rho, seed, draw_seeds)
        return dataclasses.replace(draw, X=draw.X + self.shift_)


@dataclass
class MovableShiftedLatent(ShiftedLatent):
    """The same, with a path whose whole effect is in the data it loads."""

    path: str = field(default="", metadata=KEYED_BY_DATA)


def _reused(kind, path, folder):
    source = kind(n_train=80, n_test=40, n_features=4, path=str(path))
    result = run_protocol(LATENT_POSITIVITY, source, checkpoint=folder, **LATENT)
    return result.checkpoint.reused


def test_a_source_of_ones_own_is_keyed_by_the_data_it_loaded(tmp_path):
    data = tmp_path / "shift.npy"
    np.save(data, np.zeros(8))
    assert _reused(ShiftedLatent, data, tmp_path / "ck") == 0
    assert _reused(ShiftedLatent, data, tmp_path / "ck") == 4
    np.save(data, np.full(8, 3.0))  # the same file, other data
    assert _reused(ShiftedLatent, data, tmp_path / "ck") == 0


def test_a_field_keyed_by_data_may_change_while_the_data_do_not(tmp_path):
    first, moved = tmp_path / "shift.npy", tmp_path / "elsewhere.npy"
    np.save(first, np.ones(8))
    shutil.copy(first, moved)
    assert _reused(MovableShiftedLatent, first, tmp_path / "ck") == 0
    assert _reused(MovableShiftedLatent, moved, tmp_path / "ck") == 4
    assert _reused(ShiftedLatent, first, tmp_path / "other") == 0
    assert _reused(ShiftedLatent, moved, tmp_path / "other") == 0  # path keyed


def test_the_data_digest_is_taken_before_a_draw_fills_a_cache():
    source = SyntheticLatent(n_train=80, n_test=40, n_features=4)
    source.prepare(LATENT_POSITIVITY, [0])
    before = run_identity(LATENT_POSITIVITY, source, [("BTL", "BTL")], {}, 0)
    source.draw(0.3, 0, [1, 2])  # fills the source's cache of OOD pairs
    assert source.ood_
    after = run_identity(LATENT_POSITIVITY, source, [("BTL", "BTL")], {}, 0)
    assert before == after


@dataclass
class UnhashableLatent(SyntheticLatent):
    def _prepare(self, protocol, source_seeds):
        super()._prepare(protocol, source_seeds)
        self.transform_ = lambda X: X  # joblib cannot pickle a lambda


def test_data_that_cannot_be_hashed_are_never_reused(tmp_path):
    def run():
        source = UnhashableLatent(n_train=80, n_test=40, n_features=4)
        with pytest.warns(UserWarning, match="UnhashableLatent: the data it prepared"):
            result = run_protocol(
                LATENT_POSITIVITY, source, checkpoint=tmp_path, **LATENT
            )
        return result.checkpoint.reused

    assert (run(), run()) == (0, 0)


def test_the_embedders_display_settings_are_not_keyed(tmp_path, tiny_bert):
    path = write_ultrafeedback(tmp_path / "uf.jsonl", n_prompts=40)

    def run(**embedder):
        source = UltraFeedback(
            path,
            embedder=default_embedder(tiny_bert, **{"max_length": 32, **embedder}),
            n_train=60,
            n_test=20,
        )
        result = run_protocol(
            LATENT_POSITIVITY, source, checkpoint=tmp_path / "ck", **LATENT
        )
        return result.checkpoint.reused

    assert run(cache_dir=tmp_path / "c1") == 0
    assert run(cache_dir=tmp_path / "c2", progress_bar=False) == 4
    assert run(cache_dir=None, max_length=16) == 0  # other vectors: other data


def test_the_protocols_pair_groups_are_keyed():
    source = SyntheticLatent(n_train=80, n_test=40, n_features=4)
    source.prepare(LATENT_POSITIVITY, [0])

    def identity(protocol):
        return run_identity(protocol, source, [("BTL", "BTL")], {}, 0)["protocol"]

    def one_group(X, side):
        return np.full(len(X), "consistent")

    regrouped = dataclasses.replace(CONFOUNDING, pair_groups=one_group)
    assert identity(regrouped) != identity(CONFOUNDING)
    assert identity(CONFOUNDING)["side"] == "prompt_type"


def _scaled(factor):
    return lambda X: X * factor


def test_functions_are_keyed_by_their_code_and_closure():
    def double(X):
        return X * 2

    def triple(X):
        return X * 3

    def double_again(X):
        return X * 2

    assert _canonical(double) != _canonical(triple)
    assert _canonical(double)["code"] == _canonical(double_again)["code"]
    assert _canonical(_scaled(2)) == _canonical(_scaled(2))
    assert _canonical(_scaled(2)) != _canonical(_scaled(3))
    assert _canonical(functools.partial(_scaled, 2)) != _canonical(
        functools.partial(_scaled, 3)
    )


def test_a_closure_that_refers_to_itself_is_keyed():
    def countdown(n):
        return n if n <= 0 else countdown(n - 1)

    assert countdown(3) == 0
    assert _canonical(countdown)["closure"] == [f"{__name__}.{countdown.__qualname__}"]


def test_a_repr_with_a_memory_address_never_matches():
    class Opaque:
        pass

    thing = Opaque()
    assert " at 0x" in repr(thing)
    assert _canonical(thing) != _canonical(thing)  # the next one may share it
    assert _canonical("a string at 0x10") == "a string at 0x10"  # data, not repr


def test_kept_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        store = GroupStore(tmp_path, {"protocol": {"name": "p"}}, owner="test")
        store.save(0, 0.0, [{"a": 1}])
    finally:
        os.umask(previous)
    [kept] = tmp_path.glob("*.json")
    assert kept.stat().st_mode & 0o777 == 0o644
    assert store.load(0, 0.0).rows == [{"a": 1}]
