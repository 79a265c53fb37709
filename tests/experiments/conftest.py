"""A tiny random BERT for the UltraFeedback protocol tests (no download).

Built like the models of ``tests/embeddings/conftest.py``: a WordPiece tokenizer
trained in-process and a BERT from a config, written with ``save_pretrained`` so
the protocol loads it through the same path as a real local model.
"""

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

CORPUS = [
    "Write a short answer about the weather, the sea and the mountains.",
    "The answer is correct, truthful and follows the instruction closely.",
    "A wrong answer that ignores what the user asked for, again and again.",
    "Explain preference learning, reward models and causal inference.",
] * 4


def _bert_tokenizer():
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(
        CORPUS, trainers.WordPieceTrainer(vocab_size=200, special_tokens=specials)
    )
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[
            ("[CLS]", tok.token_to_id("[CLS]")),
            ("[SEP]", tok.token_to_id("[SEP]")),
        ],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """Folder of a tiny random BERT (hidden size 16) and its tokenizer."""
    from transformers import AutoModel, BertConfig

    path = tmp_path_factory.mktemp("tiny_bert_experiments")
    tokenizer = _bert_tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = AutoModel.from_config(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
