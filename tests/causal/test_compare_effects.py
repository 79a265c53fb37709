"""compare_effects and its figure."""

import matplotlib
import numpy as np
import pytest

from skpref.causal import (
    AMCEEstimator,
    RewriteEffectEstimator,
    compare_effects,
    plot_effect_comparison,
)

matplotlib.use("Agg")


def _fitted(beta=1.0, side=-2.0):
    """A reward paying beta per "!" and side for a rewrite's trailing space."""

    def reward(prompts, texts):
        return [beta * t.count("!") + side * t.endswith(" ") for t in texts]

    def rewriter(prompts, texts, target):
        return [
            t.strip().rstrip("!") + "!" * int(w) + " "
            for t, w in zip(texts, target, strict=True)
        ]

    texts = [f"t{i}" + "!" * (i % 2) for i in range(40)]
    rate = RewriteEffectEstimator(reward, rewriter, n_bootstrap=100, random_state=0)
    return rate.fit(None, texts, [i % 2 for i in range(40)])


@pytest.fixture(scope="module")
def amce():
    rng = np.random.default_rng(0)
    Z = rng.integers(0, 2, (1000, 4)).astype(float)
    y = rng.random(1000) < 1 / (1 + np.exp(-(Z[:, 0] - Z[:, 2])))
    return AMCEEstimator(factor_names=["exclaims", "other"]).fit(Z, y)


def test_the_table_puts_every_effect_on_the_preference_scale(amce):
    rate = _fitted()
    frame = compare_effects(rate, {"human labels": amce}, factor="exclaims")
    assert frame.index.tolist() == [
        "human labels",
        "reward model, RATE",
        "reward model, naive rewrite",
    ]
    lower, upper = amce.effect_interval(0.05)
    np.testing.assert_allclose(
        frame.loc["human labels", ["estimate", "ci_low", "ci_high"]].astype(float),
        [amce.effects_[0], lower[0], upper[0]],
    )
    # every rewritten pair differs by one "!": sigmoid(1) exactly, RATE and ATE
    rate_row = frame.loc["reward model, RATE"]
    np.testing.assert_allclose(rate_row["estimate"], 1 / (1 + np.exp(-1)))
    assert rate_row["reward_units"] == pytest.approx(1.0)
    # the naive contrast also pays for (ATU) or against (ATT) the side effect
    naive = rate.rewrites_["naive_effect"]
    np.testing.assert_allclose(
        frame.loc["reward model, naive rewrite", "estimate"],
        (1 / (1 + np.exp(-naive))).mean(),
    )
    assert frame.loc["reward model, naive rewrite", "reward_units"] == pytest.approx(
        rate.effects_.at["ATE", "naive"]
    )
    ax = plot_effect_comparison(frame, title="exclamation marks")
    assert [t.get_text() for t in ax.get_yticklabels()] == frame.index.tolist()
    assert ax.get_title() == "exclamation marks"


def test_bad_factor_and_table(amce):
    rate = _fitted()
    with pytest.raises(ValueError, match="name the one to compare with factor="):
        compare_effects(rate, {"labels": amce})
    with pytest.raises(ValueError, match="has no factor 'length'"):
        compare_effects(rate, {"labels": amce}, factor="length")
    with pytest.raises(ValueError, match=r"lacks the columns \['kind'\]"):
        plot_effect_comparison(compare_effects(rate).drop(columns="kind"))


def test_a_continuous_amce_factor_is_refused():
    # a length in characters: its AMCE is of a +1-std step, not of 0 -> 1
    rng = np.random.default_rng(0)
    lengths = rng.gamma(2.0, 50.0, size=(500, 2))
    y = rng.random(500) < 1 / (1 + np.exp(-0.01 * (lengths[:, 0] - lengths[:, 1])))
    amce = AMCEEstimator(factor_names=["length"]).fit(lengths, y)
    with pytest.raises(ValueError, match="'length' of the AMCE 'labels' is contin"):
        compare_effects(_fitted(), {"labels": amce})
