import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from skpref import BTLRewardRegressor, LLMEmbeddingTransformer, predict_text_reward
from skpref.datasets import preference_pairs
from skpref.evaluation import (
    HFRewardScorer,
    evaluate,
    length_ruler,
    load_benchmark,
    score_responses,
)
from tests.evaluation.conftest import FILES
from tests.tiny_models import CHAT_TEMPLATE, _bert_tokenizer, _llama_tokenizer

PROMPTS = ["Human: tell me about cats", "Human: and rain?", "Human: chess?"]
RESPONSES = ["Cats purr.", "Rain falls from clouds, mostly in autumn here.", "e4"]


@pytest.fixture(scope="module")
def reward_models(tmp_path_factory):
    """A tiny random Llama reward model with a chat template, a BERT one without."""
    import torch
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        LlamaConfig,
        LlamaForSequenceClassification,
    )

    root = tmp_path_factory.mktemp("reward_models")
    sizes = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 64, "max_position_embeddings": 128}  # fmt: skip
    llama_tok = _llama_tokenizer("left", CHAT_TEMPLATE)
    bert_tok = _bert_tokenizer()
    out = {}
    with torch.random.fork_rng():
        torch.manual_seed(0)
        for name, tok, config, cls in [
            ("llama", llama_tok, LlamaConfig(num_key_value_heads=2, **sizes),
             LlamaForSequenceClassification),
            ("bert", bert_tok, BertConfig(**sizes), BertForSequenceClassification),
        ]:  # fmt: skip
            config.vocab_size = len(tok)
            config.num_labels = 1
            model = cls(config)
            model.save_pretrained(root / name)
            tok.save_pretrained(root / name)
            out[name] = root / name
    return out


def test_length_ruler_counts_characters_and_conversations():
    got = length_ruler([None, None], ["abc", [{"role": "assistant", "content": "hi"}]])
    assert got.tolist() == [3.0, 2.0]


@pytest.mark.parametrize("name", ["llama", "bert"])
def test_hf_scorer_batches_like_one_by_one(reward_models, name):
    from transformers import AutoModelForSequenceClassification

    batched = HFRewardScorer(str(reward_models[name]), batch_size=2)(PROMPTS, RESPONSES)
    model = AutoModelForSequenceClassification.from_pretrained(reward_models[name])
    single = HFRewardScorer(model, batch_size=1, show_progress=False)
    alone = [single([p], [r])[0] for p, r in zip(PROMPTS, RESPONSES, strict=True)]
    np.testing.assert_allclose(batched, alone, rtol=1e-4, atol=1e-5)
    assert batched.shape == (3,) and np.unique(batched).size == 3


def test_hf_scorer_uses_the_chat_template(reward_models):
    scorer = HFRewardScorer(str(reward_models["llama"]))
    scorer(PROMPTS[:1], RESPONSES[:1])
    text = scorer.render("Hi", "Hello")
    assert text == "<|user|>Hi</s><|assistant|>Hello</s>"
    plain = HFRewardScorer(str(reward_models["bert"]))
    plain(PROMPTS[:1], RESPONSES[:1])
    assert plain.render("Hi", "Hello") == "Hi\n\nHello"


def test_hf_scorer_needs_one_label(reward_models):
    from transformers import AutoConfig, AutoModelForSequenceClassification

    config = AutoConfig.from_pretrained(reward_models["bert"])
    config.num_labels = 2
    model = AutoModelForSequenceClassification.from_config(config)
    with pytest.raises(ValueError, match="one output .* got num_labels=2"):
        HFRewardScorer(model, _bert_tokenizer())(PROMPTS, RESPONSES)


@pytest.mark.filterwarnings("ignore:evaluate. the subset")
def test_hf_model_object_on_a_benchmark(reward_models):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(reward_models["llama"])
    bench = load_benchmark("rm-bench", FILES["rm-bench"])
    report = evaluate(model, bench, n_resamples=20)
    assert report.scorer_name == str(reward_models["llama"])
    assert 0 <= report.total <= 1


def test_text_pipeline_scorer(tiny_models):
    data = [{"prompt": f"Human: q{i}", "chosen": f"A long helpful answer {i}.",
             "rejected": "No."} for i in range(12)]  # fmt: skip
    X, y = preference_pairs(data, random_state=0)
    pipe = Pipeline([
        ("embed", LLMEmbeddingTransformer(model_name_or_path=str(tiny_models["bert"]),
                                          max_length=32, device="cpu")),
        ("rm", BTLRewardRegressor(hidden_dim=8, latent_dim=4, max_epochs=2,
                                  device="cpu", random_state=0)),
    ]).fit(X, y)  # fmt: skip
    got = score_responses(pipe, PROMPTS, RESPONSES)
    np.testing.assert_allclose(got, predict_text_reward(pipe, PROMPTS, RESPONSES))
    report = evaluate(pipe, load_benchmark("pairs", data), n_resamples=20)
    assert report.scorer_name == "Pipeline" and len(report.results) == 12
    # refitted in place, the same object scores as the new model
    pipe.fit(X, 1 - y)
    got = score_responses(pipe, PROMPTS, RESPONSES)
    np.testing.assert_allclose(got, predict_text_reward(pipe, PROMPTS, RESPONSES))


def test_rewards_are_cached_per_scorer_and_text():
    calls = []

    def scorer(prompts, responses):
        calls.append(len(responses))
        return [float(len(r)) for r in responses]

    bench = load_benchmark("rewardbench", FILES["rewardbench"])
    with pytest.warns(UserWarning, match="has 3 examples"):
        first = evaluate(scorer, bench, n_resamples=10)
    with pytest.warns(UserWarning, match="has 3 examples"):
        second = evaluate(scorer, bench, n_resamples=10)
    assert calls == [2 * len(bench)]  # the second report scored nothing
    assert first.total == second.total
    # another scorer object has its own cache
    assert score_responses(lambda p, r: np.zeros(len(r)), ["p"], ["x"]).tolist() == [0]


def test_wrong_reward_count_and_nan():
    bench = load_benchmark("pairs", [{"id": "q7", "prompt": "p", "chosen": "a",
                                      "rejected": "b"}] * 1)  # fmt: skip
    with pytest.raises(ValueError, match="returned 3 rewards .* for 2 responses"):
        evaluate(lambda p, r: [1.0, 2.0, 3.0], bench)
    with pytest.raises(ValueError, match="returned nan for id 'q7', rejected"):
        evaluate(lambda p, r: [1.0, float("nan")], bench)
    with pytest.raises(ValueError, match="expects a scorer"):
        evaluate(42, bench)
