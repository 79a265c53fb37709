from hypothesis import given
from hypothesis import strategies as st

from skpref.embeddings._batching import length_sorted_batches


@given(
    st.lists(st.integers(1, 300), min_size=1, max_size=60),
    st.integers(1, 16),
    st.integers(1, 2000),
)
def test_length_sorted_batches_partition_and_budget(lengths, batch_size, budget):
    batches = length_sorted_batches(lengths, batch_size, budget)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(lengths)))  # every text exactly once
    # longest first overall, so padding inside a batch is minimal
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    for batch in batches:
        assert 1 <= len(batch) <= batch_size
        padded = max(lengths[i] for i in batch) * len(batch)
        # the token budget holds unless a single text alone exceeds it
        assert padded <= budget or len(batch) == 1


def test_length_sorted_batches_fill_up_to_the_budget():
    # 4 texts of 10 tokens, budget 20: two per batch, not one
    assert length_sorted_batches([10] * 4, 32, 20) == [[0, 1], [2, 3]]
