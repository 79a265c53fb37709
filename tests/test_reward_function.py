"""Rewards out: raw text through a fitted text pipeline, for RL trainers."""

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skpref import (
    BTLRewardRegressor,
    LLMEmbeddingTransformer,
    MultiheadRewardModel,
    RewardEnsemble,
    predict_text_reward,
    reward_function,
)
from skpref.datasets import preference_pairs
from skpref.embeddings import _run

TOPICS = ["bread", "taxes", "chess", "rain", "music", "trains", "cats", "maths"]
GOOD = "Here is a detailed answer about {}, step by step, with examples."
SAFE = "I would rather not say."


def preference_data(n, seed):
    """Under "helpful" the detailed answer is chosen, under "harmless" the safe one."""
    rng = np.random.RandomState(seed)
    rows = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        objective = ["helpful", "harmless"][rng.randint(2)]
        good, safe = GOOD.format(topic), SAFE
        chosen, rejected = (good, safe) if objective == "helpful" else (safe, good)
        rows.append(
            {
                "prompt": f"Human: tell me about {topic} ({i})",
                "chosen": chosen,
                "rejected": rejected,
                "objective": objective,
            }
        )
    return rows


def embedder(path, cache_dir, **params):
    return LLMEmbeddingTransformer(
        model_name_or_path=str(path),
        max_length=64,
        dtype="float32",
        device="cpu",
        cache_dir=cache_dir,
        **params,
    )


@pytest.fixture(scope="module")
def multihead(tiny_models, tmp_path_factory):
    X, y = preference_pairs(
        preference_data(64, 0),
        objective="objective",
        objective_categories=["helpful", "harmless"],
        random_state=0,
    )
    model = MultiheadRewardModel(
        objective_categories=["helpful", "harmless"],
        hidden_dim=32,
        latent_dim=16,
        head_hidden_dim=16,
        max_epochs=40,
        lr=1e-2,
        device="cpu",
        random_state=0,
    )
    cache = str(tmp_path_factory.mktemp("cache"))
    pipe = Pipeline([("embed", embedder(tiny_models["bert"], cache)), ("rm", model)])
    return pipe.fit(X, y)


@pytest.fixture(scope="module")
def single(tiny_models):
    X, y = preference_pairs(preference_data(32, 1), random_state=0)
    model = BTLRewardRegressor(
        hidden_dim=16, latent_dim=8, max_epochs=5, lr=1e-2, device="cpu", random_state=0
    )
    pipe = Pipeline([("embed", embedder(tiny_models["bert"], None)), ("rm", model)])
    return pipe.fit(X, y)


PROMPTS = ["Human: tell me about cats (0)", "Human: tell me about rain (1)"]
COMPLETIONS = [GOOD.format("cats"), SAFE]


def test_text_reward_is_the_models_reward_of_the_embedding(multihead):
    embed, model = multihead[0], multihead[-1]
    E = embed.transform_responses(PROMPTS, COMPLETIONS, "harmless")
    assert E.shape == (2, 33) and np.array_equal(E[:, -1], [1, 1])
    expected = model.predict_reward(E)
    got = predict_text_reward(multihead, PROMPTS, COMPLETIONS, objective="harmless")
    np.testing.assert_array_equal(got, expected)
    by_id = predict_text_reward(multihead, PROMPTS, COMPLETIONS, objective=1)
    np.testing.assert_array_equal(by_id, expected)


def test_pair_preference_is_the_reward_difference(multihead):
    # P(a > b) = sigmoid(r(a) - r(b)): the text rewards must agree with the pair path
    X = pd.DataFrame(
        {
            "prompt": PROMPTS,
            "response_a": COMPLETIONS,
            "response_b": COMPLETIONS[::-1],
            "objective": pd.Categorical(
                ["helpful", "harmless"], categories=["helpful", "harmless"]
            ),
        }
    )
    margin = multihead.decision_function(X)
    r_a = [
        predict_text_reward(multihead, [p], [a], objective=o)[0]
        for p, a, o in zip(PROMPTS, COMPLETIONS, ["helpful", "harmless"], strict=True)
    ]
    r_b = [
        predict_text_reward(multihead, [p], [b], objective=o)[0]
        for p, b, o in zip(
            PROMPTS, COMPLETIONS[::-1], ["helpful", "harmless"], strict=True
        )
    ]
    np.testing.assert_allclose(margin, np.subtract(r_a, r_b), rtol=1e-5, atol=1e-5)


def test_the_learnt_objective_decides_the_better_completion(multihead):
    prompts = [f"Human: tell me about {t} (9)" for t in TOPICS]
    good = [GOOD.format(t) for t in TOPICS]
    safe = [SAFE] * len(TOPICS)
    helpful = reward_function(multihead, objective="helpful")
    assert np.all(np.subtract(helpful(prompts, good), helpful(prompts, safe)) > 0)
    harmless = reward_function(multihead, objective="harmless")
    assert np.all(np.subtract(harmless(prompts, good), harmless(prompts, safe)) < 0)


def test_reward_function_has_trls_signature(multihead):
    reward = reward_function(multihead, objective="harmless")
    out = reward(
        prompts=PROMPTS,
        completions=COMPLETIONS,
        completion_ids=[[1, 2], [3]],
        trainer_state=None,
        ground_truth=["x", "y"],
    )
    assert isinstance(out, list) and all(type(r) is float for r in out)
    expected = predict_text_reward(multihead, PROMPTS, COMPLETIONS, objective=1)
    np.testing.assert_array_equal(out, expected)
    assert reward.__name__ == "skpref_reward_harmless"


def test_objective_per_completion_comes_from_the_dataset_column(multihead):
    reward = reward_function(multihead)
    out = reward(PROMPTS, COMPLETIONS, objective=["helpful", "harmless"])
    expected = [
        reward_function(multihead, objective=o)([p], [c])[0]
        for p, c, o in zip(PROMPTS, COMPLETIONS, ["helpful", "harmless"], strict=True)
    ]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    with pytest.raises(
        ValueError, match="pass objective= to reward_function.*'objective'"
    ):
        reward(PROMPTS, COMPLETIONS)


def test_conversational_prompts_and_completions(multihead):
    reward = reward_function(multihead, objective="helpful")
    questions = [p.removeprefix("Human: ") for p in PROMPTS]
    prompts = [[{"role": "user", "content": q}] for q in questions]
    completions = [[{"role": "assistant", "content": c}] for c in COMPLETIONS]
    # the pipeline was trained on "Human: ..." text: conversations are scored so
    np.testing.assert_array_equal(
        reward(prompts, completions), reward(PROMPTS, COMPLETIONS)
    )


def test_reward_function_never_writes_the_cache(multihead, monkeypatch):
    writes = []
    monkeypatch.setattr(
        _run.EmbeddingCache, "write", lambda self, *a: writes.append(len(a[0]))
    )
    reward_function(multihead, objective=0)(["a new prompt"], ["a new completion"])
    assert writes == []
    predict_text_reward(multihead, ["another prompt"], ["x"], objective=0)
    assert writes == [1]


def test_reward_function_pickles(multihead):
    reward = reward_function(multihead, objective="helpful")
    again = pickle.loads(pickle.dumps(reward))
    assert again(PROMPTS, COMPLETIONS) == reward(PROMPTS, COMPLETIONS)


def test_single_objective_pipeline(single):
    out = reward_function(single)(PROMPTS, COMPLETIONS, objective=["ignored"] * 2)
    expected = single[-1].predict_reward(
        single[0].transform_responses(PROMPTS, COMPLETIONS)
    )
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(ValueError, match="fitted without an objective column"):
        reward_function(single, objective="helpful")
    # a "passthrough" step between the two changes nothing
    skipping = Pipeline(
        [("embed", single[0]), ("skip", "passthrough"), single.steps[-1]]
    )
    assert reward_function(skipping)(PROMPTS, COMPLETIONS) == out


# ---------------------------------------------------------------------- errors
def test_not_a_text_pipeline(multihead, single):
    with pytest.raises(ValueError, match="expects a fitted Pipeline.*got str"):
        reward_function("model")
    scaled = Pipeline(
        [("embed", single[0]), ("scale", StandardScaler()), ("rm", single[1])]
    )
    with pytest.raises(ValueError, match="nothing between them; got the steps"):
        reward_function(scaled)
    no_reward = Pipeline([("embed", single[0]), ("scale", StandardScaler())])
    with pytest.raises(ValueError, match="StandardScaler, has no predict_reward"):
        predict_text_reward(no_reward, PROMPTS, COMPLETIONS)


def test_unfitted_pipeline(tiny_models):
    from sklearn.exceptions import NotFittedError

    pipe = Pipeline(
        [("embed", embedder(tiny_models["bert"], None)), ("rm", BTLRewardRegressor())]
    )
    with pytest.raises(NotFittedError):
        reward_function(pipe)


def test_objective_errors(multihead):
    with pytest.raises(ValueError, match="'harmles' .*Did you mean 'harmless'"):
        reward_function(multihead, objective="harmles")
    with pytest.raises(ValueError, match="pass objective=<name or id> \\(one of"):
        predict_text_reward(multihead, PROMPTS, COMPLETIONS)
    with pytest.raises(ValueError, match="one objective, or one per response"):
        predict_text_reward(multihead, PROMPTS, COMPLETIONS, objective=[0, 1, 0])


def test_a_model_coding_that_disagrees_is_an_error(multihead):
    # The fixture's model declares the embedder's coding: names pick their heads.
    assert multihead[-1].objective_categories_.tolist() == ["helpful", "harmless"]
    assert reward_function(multihead, objective="helpful")(PROMPTS, COMPLETIONS)
    X, y = preference_pairs(
        preference_data(16, 2),
        objective="objective",
        objective_categories=["helpful", "harmless"],
        random_state=0,
    )
    swapped = clone(multihead).set_params(
        rm__objective_categories=["harmless", "helpful"], rm__max_epochs=1
    )
    swapped.fit(X, y)
    with pytest.raises(
        ValueError, match="embedder codes objectives as.*reward model as"
    ):
        reward_function(swapped, objective="helpful")


def test_an_ensemble_coding_that_disagrees_is_an_error(multihead):
    X, y = preference_pairs(
        preference_data(16, 2),
        objective="objective",
        objective_categories=["helpful", "harmless"],
        random_state=0,
    )
    member = clone(multihead[-1]).set_params(max_epochs=1)

    def with_ensemble(coding):
        ensemble = RewardEnsemble(
            clone(member).set_params(objective_categories=coding),
            n_members=2,
            random_state=0,
        )
        return clone(multihead).set_params(rm=ensemble).fit(X, y)

    agreeing = with_ensemble(["helpful", "harmless"])
    rewards = predict_text_reward(agreeing, PROMPTS, COMPLETIONS, objective=0)
    assert rewards.shape == (2,)
    swapped = with_ensemble(["harmless", "helpful"])
    # the codings print as plain strings, not np.str_('...')
    message = (
        r"embedder codes objectives as \['helpful', 'harmless'\] but the reward "
        r"model as \['harmless', 'helpful'\]"
    )
    with pytest.raises(ValueError, match=message):
        reward_function(swapped, objective="helpful")
    with pytest.raises(ValueError, match=message):
        predict_text_reward(swapped, PROMPTS, COMPLETIONS, objective="helpful")


def test_prompts_and_responses_must_match(multihead):
    with pytest.raises(
        ValueError, match="one prompt per response; got 1 prompts and 2"
    ):
        predict_text_reward(multihead, PROMPTS[:1], COMPLETIONS, objective=0)
    with pytest.raises(
        ValueError, match="column 'responses'; got 3 \\(int\\) at row 1"
    ):
        predict_text_reward(multihead, PROMPTS, ["ok", 3], objective=0)


def test_no_responses_have_no_rewards(multihead):
    dtype = predict_text_reward(multihead, PROMPTS, COMPLETIONS, objective=0).dtype
    for empty in ([], (), np.array([], dtype=object)):
        rewards = predict_text_reward(multihead, empty, empty, objective=0)
        assert rewards.shape == (0,) and rewards.dtype == dtype
    assert reward_function(multihead, objective="helpful")([], []) == []
    assert reward_function(multihead)([], [], objective=[]) == []
    with pytest.raises(ValueError, match="one prompt per response; got 1 prompts"):
        predict_text_reward(multihead, PROMPTS[:1], [], objective=0)


@pytest.mark.parametrize("one", ["harmless", 1, 1.0, np.int64(1), np.array("harmless")])
def test_one_objective_for_all_completions_is_never_split(multihead, one):
    expected = predict_text_reward(multihead, PROMPTS, COMPLETIONS, objective=[1, 1])
    got = predict_text_reward(multihead, PROMPTS, COMPLETIONS, objective=one)
    np.testing.assert_array_equal(got, expected)
    from_column = reward_function(multihead)(PROMPTS, COMPLETIONS, objective=one)
    np.testing.assert_array_equal(from_column, expected)


@pytest.mark.parametrize("bad", [1.5, [0, 1.5], np.array([0.5, 1.0])])
def test_a_fractional_objective_id_is_named(multihead, bad):
    with pytest.raises(ValueError, match="got the non-integer value"):
        predict_text_reward(multihead, PROMPTS, COMPLETIONS, objective=bad)
    with pytest.raises(ValueError, match="got the non-integer value"):
        reward_function(multihead)(PROMPTS, COMPLETIONS, objective=bad)


QUESTION = "tell me about cats (0)"


@pytest.mark.parametrize(
    "prompt",
    [
        QUESTION,
        f"Human: {QUESTION}\n\nAssistant:",
        f"User: {QUESTION}",
        [{"role": "user", "content": QUESTION}],
    ],
    ids=["bare", "assistant-tag", "user-label", "conversation"],
)
def test_a_prompt_of_any_form_is_scored_as_the_training_form(multihead, prompt):
    assert multihead[0].text_format_["prompt"] == "dialogue"
    trained = predict_text_reward(
        multihead, [f"Human: {QUESTION}"] * 2, COMPLETIONS, objective=0
    )
    given = predict_text_reward(multihead, [prompt] * 2, COMPLETIONS, objective=0)
    np.testing.assert_array_equal(given, trained)
    completions = [[{"role": "assistant", "content": c}] for c in COMPLETIONS]
    from_trainer = reward_function(multihead, objective=0)([prompt] * 2, completions)
    np.testing.assert_array_equal(from_trainer, trained)


def test_what_cannot_be_carried_over_is_said_once(multihead):
    prompt = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": QUESTION},
    ]
    reward = reward_function(multihead, objective=0)
    with pytest.warns(UserWarning, match="a system message has no place"):
        reward([prompt] * 2, COMPLETIONS)
    reward([prompt] * 2, COMPLETIONS)  # said once: a second warning would fail
    trained = predict_text_reward(
        multihead, [f"Human: {QUESTION}"] * 2, COMPLETIONS, objective=0
    )
    np.testing.assert_array_equal(reward([prompt] * 2, COMPLETIONS), trained)


def test_a_pipeline_fitted_before_forms_were_recorded_warns(multihead):
    old = copy.deepcopy(multihead)
    del old[0].text_format_
    with pytest.warns(UserWarning, match="fitted before skpref recorded the form"):
        predict_text_reward(old, [QUESTION], COMPLETIONS[:1], objective=0)


@pytest.fixture(scope="module")
def ensemble(multihead):
    X, y = preference_pairs(
        preference_data(32, 3),
        objective="objective",
        objective_categories=["helpful", "harmless"],
        random_state=0,
    )
    member = clone(multihead[-1]).set_params(max_epochs=3)
    model = RewardEnsemble(member, n_members=3, random_state=0)
    return clone(multihead).set_params(rm=model).fit(X, y)


@pytest.mark.parametrize("k", [0.0, 0.5, 2.0])
def test_conservative_rewards_combine_the_members(ensemble, k):
    E = ensemble[0].transform_responses(PROMPTS, COMPLETIONS, "helpful")
    members = ensemble[-1].predict_reward_members(E)
    expected = {
        "mean": members.mean(0),
        "min": members.min(0),
        "mean_minus_std": members.mean(0) - k * members.std(0),
    }
    for aggregate, want in expected.items():
        reward = reward_function(ensemble, "helpful", aggregate=aggregate, k=k)
        np.testing.assert_allclose(reward(PROMPTS, COMPLETIONS), want, rtol=1e-6)
        got = predict_text_reward(
            ensemble, PROMPTS, COMPLETIONS, objective=0, aggregate=aggregate, k=k
        )
        np.testing.assert_array_equal(got, want)
    default = predict_text_reward(ensemble, PROMPTS, COMPLETIONS, objective=0)
    np.testing.assert_array_equal(default, expected["mean"])
    assert np.all(expected["min"] <= expected["mean"])


def test_conservative_rewards_need_an_ensemble_and_a_valid_k(multihead, ensemble):
    with pytest.raises(ValueError, match="aggregate='min' combines the rewards"):
        reward_function(multihead, "helpful", aggregate="min")
    with pytest.raises(ValueError, match="single MultiheadRewardModel"):
        predict_text_reward(
            multihead, PROMPTS, COMPLETIONS, objective=0, aggregate="mean"
        )
    with pytest.raises(ValueError, match="'aggregate' parameter of reward_function"):
        reward_function(ensemble, "helpful", aggregate="max")
    with pytest.raises(ValueError, match="'k' parameter of reward_function"):
        reward_function(ensemble, "helpful", aggregate="mean_minus_std", k=-1)


def test_a_conservative_reward_function_pickles(ensemble):
    reward = reward_function(ensemble, "helpful", aggregate="mean_minus_std", k=0.5)
    again = pickle.loads(pickle.dumps(reward))
    assert again(PROMPTS, COMPLETIONS) == reward(PROMPTS, COMPLETIONS)


def test_rewards_on_a_known_scale(multihead, ensemble):
    E = multihead[0].transform_responses(PROMPTS, COMPLETIONS, "helpful")
    model = multihead[-1]
    z = (model.predict_reward(E) - model.reward_mean_[0]) / model.reward_std_[0]
    reward = reward_function(multihead, "helpful", normalize=True)
    np.testing.assert_allclose(reward(PROMPTS, COMPLETIONS), z, rtol=1e-6)
    clipped = reward_function(multihead, "helpful", normalize=True, clip=0.01)
    assert np.all(np.abs(clipped(PROMPTS, COMPLETIONS)) <= 0.01)
    got = predict_text_reward(
        ensemble, PROMPTS, COMPLETIONS, objective=0, aggregate="min", normalize=True
    )
    E = ensemble[0].transform_responses(PROMPTS, COMPLETIONS, "helpful")
    members = ensemble[-1].predict_reward_members(E)
    scale = ensemble[-1].reward_mean_[0], ensemble[-1].reward_std_[0]
    np.testing.assert_allclose(got, (members.min(0) - scale[0]) / scale[1], rtol=1e-6)


def test_bad_scale_requests_are_named(multihead):
    with pytest.raises(ValueError, match="clip=1.0 bounds z-scores"):
        reward_function(multihead, "helpful", clip=1.0)
    old = copy.deepcopy(multihead)
    del old[-1].reward_std_
    with pytest.raises(ValueError, match="fitted or saved before skpref recorded"):
        reward_function(old, "helpful", normalize=True)
    with pytest.raises(ValueError, match="'clip' parameter of reward_function"):
        reward_function(multihead, "helpful", normalize=True, clip=0)
