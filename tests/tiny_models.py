"""Tiny random BERT and Llama models, built from a config, saved like real ones.

The tokenizers are trained in-process with ``tokenizers`` (no download) and every
model is written with ``save_pretrained``, so the tests load them through the same
code path as a real local model. ``tests/conftest.py`` serves them as the session
fixture ``tiny_models``.
"""

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

CORPUS = [
    "Human: How do I bake bread? Assistant: Mix flour, water, salt and yeast.",
    "Human: What is the capital of France? Assistant: Paris is the capital.",
    "Human: Tell me a joke. Assistant: Why did the chicken cross the road?",
    "Please explain preference learning and reward models for alignment.",
    "The quick brown fox jumps over the lazy dog, again and again and again.",
    "Causal inference asks what would happen under an intervention.",
] * 4

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
)


def _wordpiece_vocab(specials, size=300):
    """A WordPiece vocabulary of CORPUS, the same in every process.

    ``tokenizers``' WordPieceTrainer breaks ties in another order in each process,
    so the tiny BERT's token ids, and every embedding the tests compute with it,
    changed from one test session to the next. The vocabulary is built here
    instead: the special tokens, every character (alone and as a continuation
    ``##c``), then the most frequent words, ties broken alphabetically.
    """
    words = [
        w for text in CORPUS for w in pre_tokenizers.Whitespace().pre_tokenize_str(text)
    ]
    counts = {}
    for word, _ in words:
        counts[word] = counts.get(word, 0) + 1
    characters = sorted({c for word in counts for c in word})
    pieces = [*specials, *characters, *(f"##{c}" for c in characters)]
    frequent = sorted(counts, key=lambda word: (-counts[word], word))
    pieces += [w for w in frequent if w not in pieces][: size - len(pieces)]
    return {piece: i for i, piece in enumerate(pieces)}


def _bert_tokenizer():
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(
        models.WordPiece(vocab=_wordpiece_vocab(specials), unk_token="[UNK]")
    )
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def _llama_tokenizer(padding_side, chat_template=None):
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        CORPUS,
        trainers.BpeTrainer(
            vocab_size=300,
            special_tokens=["<s>", "</s>", "<unk>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        padding_side=padding_side,
    )
    if chat_template is not None:
        fast.chat_template = chat_template
    return fast


def _save(path, tokenizer, config_cls, **config):
    from transformers import AutoModel

    config = config_cls(vocab_size=len(tokenizer), **config)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = AutoModel.from_config(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_tiny_models(root):
    """Write a tiny BERT and four tiny Llamas under root.

    The Llamas: left and right padding, a chat template, and a chat template
    that starts with the BOS token.
    """
    from transformers import BertConfig, LlamaConfig

    bert = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "max_position_embeddings": 128,
    }
    llama = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 128,
    }
    return {
        "bert": _save(root / "bert", _bert_tokenizer(), BertConfig, **bert),
        "llama_right": _save(
            root / "llama_right", _llama_tokenizer("right"), LlamaConfig, **llama
        ),
        "llama_left": _save(
            root / "llama_left", _llama_tokenizer("left"), LlamaConfig, **llama
        ),
        "llama_chat": _save(
            root / "llama_chat",
            _llama_tokenizer("left", CHAT_TEMPLATE),
            LlamaConfig,
            **llama,
        ),
        # Llama-3's template starts with its BOS token, as this one does
        "llama_bos_chat": _save(
            root / "llama_bos_chat",
            _llama_tokenizer("left", "{{ bos_token }}" + CHAT_TEMPLATE),
            LlamaConfig,
            **llama,
        ),
    }
