"""RewriteEffectEstimator (RATE): planted effects, coverage, bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from skpref import BTLRewardRegressor, LLMEmbeddingTransformer, predict_text_reward
from skpref.causal import RewriteEffectEstimator, RuleBasedRewriter
from skpref.causal._rewrite_effects import bootstrap_intervals
from skpref.datasets import preference_pairs

MARK, SIDE = " [A]", " ~"


class PlantedWorld:
    """Responses ``t<i>``; the reward pays ``beta + h_i`` for the attribute,
    ``c_i`` for the content and ``gamma`` for having been rewritten (the side
    effect every rewrite adds, once)."""

    def __init__(self, n, *, beta=1.0, gamma=-2.0, p=0.4, seed=0):
        rng = np.random.default_rng(seed)
        self.beta, self.gamma = beta, gamma
        self.h = rng.normal(0, 1, n)
        self.c = rng.normal(0, 1, n)
        self.attribute = (rng.random(n) < p).astype(int)
        self.attribute[:2] = [0, 1]
        self.responses = [f"t{i}" + MARK * a for i, a in enumerate(self.attribute)]

    @staticmethod
    def base(text):
        return text.replace(MARK, "").replace(SIDE, "")

    def reward(self, prompts, responses):
        i = np.array([int(self.base(r)[1:]) for r in responses])
        has = np.array([MARK in r for r in responses])
        rewritten = np.array([SIDE in r for r in responses])
        return self.c[i] + has * (self.beta + self.h[i]) + self.gamma * rewritten

    def rewriter(self, prompts, responses, target):
        return [
            self.base(r) + MARK * int(t) + SIDE
            for r, t in zip(responses, target, strict=True)
        ]


def test_rate_recovers_the_planted_effect_where_the_naive_estimate_misses():
    # one planted sample (how often a CI misses is test_ci_coverage_is_nominal's)
    world = PlantedWorld(400, seed=2)
    rate = RewriteEffectEstimator(
        world.reward, world.rewriter, n_bootstrap=500, random_state=0
    ).fit(None, world.responses, world.attribute)
    effects = rate.effects_
    assert effects.index.tolist() == ["ATT", "ATU", "ATE"]
    assert effects.columns.tolist() == ["estimate", "ci_low", "ci_high", "naive", "n"]
    treated = world.attribute == 1
    # the sample's own effects: beta + mean h over the rows each averages
    truth = [
        1 + world.h[treated].mean(),
        1 + world.h[~treated].mean(),
        1 + world.h.mean(),
    ]
    np.testing.assert_allclose(effects["estimate"], truth)
    for row in ("ATT", "ATU", "ATE"):
        assert effects.at[row, "ci_low"] < world.beta < effects.at[row, "ci_high"]
    # naive: the ATT loses gamma (the original is not rewritten), the ATU gains it
    np.testing.assert_allclose(effects.at["ATT", "naive"], truth[0] - world.gamma)
    np.testing.assert_allclose(effects.at["ATU", "naive"], truth[1] + world.gamma)
    for row in ("ATT", "ATU"):
        naive = effects.at[row, "naive"]
        assert not effects.at[row, "ci_low"] < naive < effects.at[row, "ci_high"]
    assert effects["n"].tolist() == [treated.sum(), (~treated).sum(), 400]
    np.testing.assert_allclose(
        effects.at["ATE", "estimate"],
        treated.mean() * effects.at["ATT", "estimate"]
        + (1 - treated.mean()) * effects.at["ATU", "estimate"],
    )


def test_rewrites_are_kept_and_checked():
    world = PlantedWorld(6)
    has = lambda text: int(MARK in text)  # noqa: E731
    rate = RewriteEffectEstimator(
        world.reward, world.rewriter, attribute_fn=has, n_bootstrap=20, random_state=0
    ).fit(["p"] * 6, world.responses, world.attribute)
    rows = rate.rewrites_
    assert rows["rewrite"].map(has).tolist() == (1 - world.attribute).tolist()
    assert rows["rewrite_of_rewrite"].map(has).tolist() == world.attribute.tolist()
    assert rows["rewrite_of_rewrite"].str.endswith(SIDE).all()
    assert rate.rewrite_success_.tolist() == [1.0, 1.0]
    text = str(rate.summary())
    assert "100% (rewrites)" in text and "ATE" in text and "naive" in text

    def lazy(prompts, responses, target):  # never changes the attribute
        return [r + SIDE for r in responses]

    failed = RewriteEffectEstimator(
        world.reward, lazy, attribute_fn=has, n_bootstrap=20
    ).fit(None, world.responses, world.attribute)
    assert failed.rewrite_success_["rewrite"] == 0.0
    assert not failed.rewrites_["rewrite_ok"].any()


def test_bootstrap_is_seeded():
    world = PlantedWorld(50)
    fits = [
        RewriteEffectEstimator(
            world.reward, world.rewriter, n_bootstrap=100, random_state=seed
        ).fit(None, world.responses, world.attribute)
        for seed in (3, 3, 4)
    ]
    pd.testing.assert_frame_equal(fits[0].effects_, fits[1].effects_)
    assert not fits[0].effects_["ci_low"].equals(fits[2].effects_["ci_low"])
    low, high = fits[0].effects_.loc["ATE", ["ci_low", "ci_high"]]
    estimate, p_low, p_high = fits[0].preference_effect()
    assert 0 < p_low < estimate < p_high < 1


def test_interval_coverage_is_nominal():
    # the intervals fit() reports, on 2000 samples of 200 per-response effects
    # whose population ATT = ATU = ATE = 1 (about 3 s)
    n_sims, hits = 2000, np.zeros(3)
    for seed in range(n_sims):
        rng = np.random.default_rng(seed)
        treated = (rng.random(200) < 0.4).astype(int)
        effect = 1 + rng.normal(size=200) * (1 + treated)
        _, low, high = bootstrap_intervals(
            effect, treated, 400, 0.95, np.random.RandomState(seed)
        )
        hits += (low < 1) & (1 < high)
    coverage = hits / n_sims
    assert ((0.93 <= coverage) & (coverage <= 0.97)).all(), coverage


@pytest.mark.slow
def test_estimator_coverage_is_nominal():
    # end to end: rewriting, scoring and the bootstrap of fit(), 1000 samples
    n_sims, hits = 1000, np.zeros(3)
    for seed in range(n_sims):
        world = PlantedWorld(200, seed=seed)
        effects = (
            RewriteEffectEstimator(
                world.reward, world.rewriter, n_bootstrap=400, random_state=seed
            )
            .fit(None, world.responses, world.attribute)
            .effects_
        )
        hits += (effects["ci_low"] < 1) & (1 < effects["ci_high"])
    coverage = hits / n_sims
    assert ((0.93 <= coverage) & (coverage <= 0.97)).all(), coverage


@pytest.fixture(scope="module")
def text_pipeline(tiny_models):
    rows = [
        {
            "prompt": f"Human: question {i}",
            "chosen": "Thank you for asking. Mix flour and water.",
            "rejected": "Mix flour and water.",
        }
        for i in range(24)
    ]
    X, y = preference_pairs(rows, random_state=0)
    embed = LLMEmbeddingTransformer(
        model_name_or_path=str(tiny_models["bert"]),
        max_length=32,
        dtype="float32",
        device="cpu",
    )
    model = BTLRewardRegressor(
        hidden_dim=8, latent_dim=4, max_epochs=5, device="cpu", random_state=0
    )
    return Pipeline([("embed", embed), ("rm", model)]).fit(X, y)


def test_a_text_pipeline_is_scored_like_predict_text_reward(text_pipeline):
    prompts = ["Human: hi", "Human: bread?", "Human: rain?"]
    responses = ["Hello.", "Thank you for asking. Bake it.", "It rains."]
    rewriter = RuleBasedRewriter(attribute="politeness")
    rate = RewriteEffectEstimator(text_pipeline, rewriter, n_bootstrap=10).fit(
        prompts, responses, [0, 1, 0]
    )
    rows = rate.rewrites_
    np.testing.assert_allclose(
        rows["reward_rewrite"],
        predict_text_reward(text_pipeline, prompts, rows["rewrite"].tolist()),
        rtol=1e-5,
    )


def _identity_rewriter(prompts, responses, target):
    return list(responses)


@pytest.mark.parametrize(
    ("rewriter", "match"),
    [
        (lambda p, r, t: list(r)[:-1], "returned 1 texts for 2 responses"),
        (lambda p, r, t: [None] * len(r), "returned NoneType at row 0"),
        (lambda p, r, t: [1.5] * len(r), "returned float at row 0"),
        (lambda p, r, t: "one string", "must return a list of str"),
    ],
)
def test_a_bad_rewriter_is_refused(rewriter, match):
    reward = lambda p, r: np.zeros(len(r))  # noqa: E731
    rate = RewriteEffectEstimator(reward, rewriter, n_bootstrap=10)
    with pytest.raises(ValueError, match=match):
        rate.fit(None, ["a", "b", "c", "d"], [1, 0, 0, 1])


@pytest.mark.parametrize(
    ("attribute", "match"),
    [
        ([1, 1, 1], "every response has attribute = 1"),
        ([0, 1, 2], r"0/1 values .* got the values \['2'\]"),
        (["yes", "no", "no"], "0/1 values"),
        ([0, 1], r"one attribute value per response \(3\)"),
    ],
)
def test_a_bad_attribute_is_refused(attribute, match):
    reward = lambda p, r: np.zeros(len(r))  # noqa: E731
    rate = RewriteEffectEstimator(reward, _identity_rewriter, n_bootstrap=10)
    with pytest.raises(ValueError, match=match):
        rate.fit(None, ["a", "b", "c"], attribute)


def test_bad_texts_and_rewards_are_refused():
    ok = lambda p, r: np.zeros(len(r))  # noqa: E731
    rate = RewriteEffectEstimator(ok, _identity_rewriter, n_bootstrap=10)
    with pytest.raises(ValueError, match="expects responses as str; got NoneType"):
        rate.fit(None, ["a", None], [0, 1])
    with pytest.raises(ValueError, match="got 1 prompts for 2 responses"):
        rate.fit(["p"], ["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="not a single string"):
        rate.fit(None, "ab", [0, 1])
    short = lambda p, r: np.zeros(len(r) - 1)  # noqa: E731
    with pytest.raises(ValueError, match="one finite number per response"):
        RewriteEffectEstimator(short, _identity_rewriter).fit(None, ["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="n_bootstrap"):
        RewriteEffectEstimator(ok, _identity_rewriter, n_bootstrap=1).fit(
            None, ["a", "b"], [0, 1]
        )


def test_clone_keeps_the_parameters():
    from sklearn.base import clone

    rate = RewriteEffectEstimator(
        _identity_rewriter, RuleBasedRewriter(), n_bootstrap=7, random_state=3
    )
    copy = clone(rate)
    assert copy.get_params()["n_bootstrap"] == 7 and copy.random_state == 3
    assert isinstance(copy.rewriter, RuleBasedRewriter)
    assert not hasattr(copy, "effects_")
