"""The data sources: what each draw holds, and their errors."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skpref.datasets import make_confounded_preferences, make_latent_preferences
from skpref.experiments import (
    PairSource,
    run_protocol,
)
from skpref.experiments._pool_sources import RelabeledHHRLHF
from skpref.experiments._protocols import draw_key, seeds_from
from tests.experiments.protocols import (
    CONFOUNDING,
    LATENT_POSITIVITY,
    SyntheticConfounded,
    SyntheticLatent,
)


def rows_of(X, pool):
    """Row numbers in ``pool`` of the pairs ``X`` (all distinct in these tests)."""
    index = {row.tobytes(): i for i, row in enumerate(pool)}
    return np.array([index[row.tobytes()] for row in X])


def test_synthetic_confounded_keeps_its_test_sets_and_draws_training_at_rho():
    source = SyntheticConfounded(n_train=200, n_test=50, n_features=4)
    source.prepare(CONFOUNDING, [0])
    first, second = source.draw(0.8, 1, [2]), source.draw(0.5, 1, [3])
    assert first.tests is second.tests
    assert (first.train_groups == "consistent").mean() == 0.8
    X_cons, _ = first.tests["consistent"]
    X_incons, _ = first.tests["inconsistent"]
    assert X_cons.shape == X_incons.shape == (50, 9)
    assert source.n_objectives_ == 2


def test_synthetic_confounded_generator_params():
    kwargs = {"n_train": 100, "n_test": 20, "n_features": 4}
    scaled = SyntheticConfounded(**kwargs).prepare(CONFOUNDING, [0])
    plain = SyntheticConfounded(generator_params={}, **kwargs).prepare(CONFOUNDING, [0])
    assert scaled.generator_["type_latent_scale"] == 3.0
    assert "type_latent_scale" not in plain.generator_
    assert not np.array_equal(scaled.draw(0.5, 1, [2]).X, plain.draw(0.5, 1, [2]).X)


def test_synthetic_latent_ood_pairs_are_shared_by_a_repetition():
    source = SyntheticLatent(n_train=100, n_test=40, n_features=4)
    source.prepare(LATENT_POSITIVITY, [0])
    low, high = source.draw(0.0, 7, [1, 2]), source.draw(0.9, 7, [3, 4])
    assert low.tests["OOD"] is high.tests["OOD"]
    assert not np.array_equal(low.tests["ID"][0], high.tests["ID"][0])
    assert abs(np.corrcoef(high.delta.T)[0, 1] - 0.9) < 0.1
    E, Z = high.probe
    assert E.shape == (40, 4) and Z.shape[0] == 40


def test_synthetic_latent_ood_test_sets_have_n_test_pairs():
    # about half of the pairs at rho = 0 disagree: at n_test = 4 a first draw
    # of 12 holds fewer than 4 now and then, and a larger draw makes up for it
    source = SyntheticLatent(n_train=50, n_test=4, n_features=4)
    source.prepare(LATENT_POSITIVITY, [0])
    for seed in range(40):
        X, y = source.draw(0.3, seed, [1, 2]).tests["OOD"]
        assert len(X) == len(y) == 4


def test_synthetic_latent_rejects_a_full_correlation():
    with pytest.raises(ValueError, match=r"correlation in \(-1, 1\); got rho=-1.0"):
        run_protocol(LATENT_POSITIVITY, SyntheticLatent(), rhos=[-1.0])


@pytest.fixture(scope="module")
def confounded():
    return make_confounded_preferences(
        n_pairs=600, n_features=4, rho=0.5, random_state=1
    )


def test_pair_source_holds_out_test_pairs_no_training_set_sees(confounded):
    source = PairSource(
        confounded.X,
        confounded.y,
        prompt_type=confounded.prompt_type,
        n_train=200,
        n_test=60,
    )
    source.prepare(CONFOUNDING, [5])
    tested = np.concatenate(
        [rows_of(X, confounded.X) for X, _ in source.tests_.values()]
    )
    assert len(tested) == 120 and len(set(tested)) == 120
    consistent = confounded.consistent
    assert consistent[rows_of(source.tests_["consistent"][0], confounded.X)].all()
    assert not consistent[rows_of(source.tests_["inconsistent"][0], confounded.X)].any()
    for rho, seed in ((0.5, 1), (1.0, 2)):
        draw = source.draw(rho, 0, [seed])
        trained = rows_of(draw.X, confounded.X)
        assert not set(trained) & set(tested)
        assert (draw.train_groups == "consistent").mean() == pytest.approx(rho)
        np.testing.assert_array_equal(
            draw.train_groups == "consistent", consistent[trained]
        )


def test_pair_source_takes_prompt_types_by_name(confounded):
    coding = ["helpful", "harmless"]
    names = np.array(coding, dtype=object)[confounded.prompt_type]
    by_id = PairSource(confounded.X, confounded.y, prompt_type=confounded.prompt_type)
    by_name = PairSource(
        confounded.X, confounded.y, prompt_type=names, objective_categories=coding
    )
    categorical = PairSource(
        confounded.X, confounded.y, prompt_type=pd.Categorical(names, categories=coding)
    )
    for source in (by_id, by_name, categorical):
        source.prepare(CONFOUNDING, [0])
    np.testing.assert_array_equal(by_name.side_, by_id.side_)
    np.testing.assert_array_equal(categorical.side_, by_id.side_)
    assert by_name.n_objectives_ == 2
    with pytest.raises(ValueError, match="'helpfull' in prompt_type is not one of"):
        PairSource(
            confounded.X,
            confounded.y,
            prompt_type=["helpfull"] * 600,
            objective_categories=coding,
        ).prepare(CONFOUNDING, [0])


def test_pair_source_needs_both_groups(confounded):
    source = PairSource(confounded.X, confounded.y, prompt_type=confounded.X[:, -1])
    with pytest.raises(ValueError, match="hold 0 inconsistent pairs, too few to hold"):
        source.prepare(CONFOUNDING, [0])


def test_pair_source_checks_its_arrays(confounded):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        PairSource(
            confounded.X, confounded.y[:-1], prompt_type=confounded.prompt_type
        ).prepare(CONFOUNDING, [0])
    with pytest.raises(
        ValueError,
        match="PairSource gives prompt_type, but the "
        "latent-positivity protocol needs the delta",
    ):
        PairSource(
            confounded.X, confounded.y, prompt_type=confounded.prompt_type
        ).prepare(LATENT_POSITIVITY, [0])


def test_pair_source_latent_a_needs_one_row_per_pair():
    data = make_latent_preferences(n_pairs=40, n_features=4, random_state=0)
    source = PairSource(data.X, data.y, delta=data.delta,
                        latent_a=np.vstack([data.Z_a, data.Z_a]))  # fmt: skip
    with pytest.raises(
        ValueError, match=r"inconsistent numbers of samples: \[40, 80\]"
    ):
        source.prepare(LATENT_POSITIVITY, [0])


def test_pair_source_latent_draws_id_and_ood_tests():
    data = make_latent_preferences(n_pairs=1500, n_features=4, random_state=0)
    source = PairSource(
        data.X,
        data.y_true,
        delta=data.delta,
        latent_a=data.Z_a,
        n_train=300,
        n_test=100,
    )
    result = run_protocol(
        LATENT_POSITIVITY,
        source,
        rhos=[0.6],
        n_seeds=1,
        width=8,
        max_epochs=2,
        lr=1e-2,
        device="cpu",
    )
    runs = result.runs.set_index("test")
    assert runs.loc["OOD", "n_test"] == 100 and runs["alpha_hat"].notna().all()
    assert runs.loc["ID", "rho_achieved"] == pytest.approx(0.6, abs=0.02)
    assert result.name == "latent_positivity_frame" and result.alpha is None


def test_relabeled_hh_rlhf_holds_out_a_quarter_of_each_group(data_home):
    source = RelabeledHHRLHF(path=data_home, n_train=200)
    source.prepare(CONFOUNDING, [0])
    sizes = {group: len(y) for group, (_, y) in source.tests_.items()}
    assert sizes == {"consistent": 527, "inconsistent": 483}
    assert len(source.pool_) == 4043 - 527 - 483 and source.n_objectives_ == 2
    assert source.X_.shape == (4043, 2 * 384 + 1)
    draw = source.draw(1.0, 0, [1])
    assert set(draw.train_groups.tolist()) == {"consistent"} and len(draw.y) == 200


@given(st.integers(0, 2**31 - 1), st.integers(1, 20), st.integers(0, 20))
def test_seed_sequences_extend_and_draw_keys_differ(entropy, n, extra):
    assert seeds_from(entropy, n + extra)[:n] == seeds_from(entropy, n)
    rhos = np.round(np.linspace(-1, 1, 41), 3)
    keys = {tuple(draw_key(entropy, rho)) for rho in rhos}
    assert len(keys) == len(rhos)
