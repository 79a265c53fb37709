import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from skpref.embeddings._pooling import cls_pool, last_token_pool, mean_pool


@st.composite
def padded_batches(draw):
    """Hidden states with a mask whose real tokens form one block, padded left or
    right per row; padded positions hold NaN so any leak shows."""
    batch = draw(st.integers(1, 5))
    seq_len = draw(st.integers(1, 7))
    lengths = draw(st.lists(st.integers(1, seq_len), min_size=batch, max_size=batch))
    sides = draw(st.lists(st.booleans(), min_size=batch, max_size=batch))
    seed = draw(st.integers(0, 2**16))
    hidden = torch.randn(
        batch, seq_len, 3, generator=torch.Generator().manual_seed(seed)
    )
    mask = torch.zeros(batch, seq_len, dtype=torch.long)
    for row, (length, left) in enumerate(zip(lengths, sides, strict=True)):
        span = slice(seq_len - length, seq_len) if left else slice(0, length)
        mask[row, span] = 1
    hidden = torch.where(mask.bool().unsqueeze(-1), hidden, torch.nan)
    return hidden, mask


@given(padded_batches())
def test_last_token_pool_picks_the_last_real_token(batch):
    hidden, mask = batch
    pooled = last_token_pool(hidden, mask)
    for row in range(hidden.shape[0]):
        last = int(np.flatnonzero(mask[row].numpy())[-1])
        assert torch.equal(pooled[row], hidden[row, last])


@given(padded_batches())
def test_cls_pool_picks_the_first_real_token(batch):
    hidden, mask = batch
    pooled = cls_pool(hidden, mask)
    for row in range(hidden.shape[0]):
        first = int(np.flatnonzero(mask[row].numpy())[0])
        assert torch.equal(pooled[row], hidden[row, first])


@given(padded_batches())
def test_mean_pool_averages_real_tokens_and_ignores_nan_padding(batch):
    hidden, mask = batch
    pooled = mean_pool(hidden, mask)
    assert torch.isfinite(pooled).all()
    for row in range(hidden.shape[0]):
        real = hidden[row, mask[row].bool()]
        torch.testing.assert_close(pooled[row], real.mean(dim=0))


@pytest.mark.parametrize("pool", [mean_pool, last_token_pool, cls_pool])
def test_pooling_returns_float32_for_bfloat16_states(pool):
    hidden = torch.ones(2, 3, 4, dtype=torch.bfloat16)
    out = pool(hidden, torch.ones(2, 3, dtype=torch.long))
    assert out.dtype == torch.float32
    assert out.shape == (2, 4)
