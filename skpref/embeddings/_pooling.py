"""Pooling: one vector per sequence from the final hidden states of a model."""

import torch


def mean_pool(hidden, attention_mask):
    """Average the hidden states over the real (non-padding) tokens.

    Parameters
    ----------
    hidden : torch.Tensor of shape (batch, seq_len, d)
        Final hidden states.
    attention_mask : torch.Tensor of shape (batch, seq_len)
        1 for a real token, 0 for padding; either side may be padded.

    Returns
    -------
    pooled : torch.Tensor of shape (batch, d), float32

    Examples
    --------
    >>> import torch
    >>> hidden = torch.tensor([[[1.0], [3.0], [100.0]]])
    >>> mean_pool(hidden, torch.tensor([[1, 1, 0]])).tolist()
    [[2.0]]
    """
    mask = attention_mask.bool().unsqueeze(-1)
    # where, not multiply: padded positions may hold NaN (fully masked attention
    # rows), and NaN * 0 is NaN.
    summed = torch.where(mask, hidden.float(), 0.0).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1).to(summed.dtype)
    return summed / counts


def last_token_pool(hidden, attention_mask):
    """Take the hidden state of the last real token of each sequence.

    This is the embedding of a decoder LM (the paper's Llama-3-8B features): the
    final layer at the last non-padding position, found from the attention mask,
    so it is right under left padding and under right padding.

    Parameters
    ----------
    hidden : torch.Tensor of shape (batch, seq_len, d)
    attention_mask : torch.Tensor of shape (batch, seq_len)

    Returns
    -------
    pooled : torch.Tensor of shape (batch, d), float32

    Examples
    --------
    >>> import torch
    >>> hidden = torch.arange(6.0).reshape(2, 3, 1)
    >>> mask = torch.tensor([[1, 1, 0], [0, 1, 1]])  # right-padded, left-padded
    >>> last_token_pool(hidden, mask).tolist()
    [[1.0], [5.0]]
    """
    mask = attention_mask.bool()
    seq_len = mask.shape[1]
    # index of the last True in each row: argmax finds the first True of the
    # reversed row (argmax returns the first maximum).
    last = seq_len - 1 - mask.flip(dims=[1]).to(torch.int8).argmax(dim=1)
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    return hidden[rows, last].float()


def cls_pool(hidden, attention_mask):
    """Take the hidden state of the first real token (``[CLS]`` for BERT models).

    Parameters
    ----------
    hidden : torch.Tensor of shape (batch, seq_len, d)
    attention_mask : torch.Tensor of shape (batch, seq_len)

    Returns
    -------
    pooled : torch.Tensor of shape (batch, d), float32

    Examples
    --------
    >>> import torch
    >>> hidden = torch.arange(6.0).reshape(2, 3, 1)
    >>> cls_pool(hidden, torch.tensor([[1, 1, 0], [0, 1, 1]])).tolist()
    [[0.0], [4.0]]
    """
    first = attention_mask.bool().to(torch.int8).argmax(dim=1)
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    return hidden[rows, first].float()


POOLING_FUNCTIONS = {"mean": mean_pool, "last": last_token_pool, "cls": cls_pool}


def pool_packed(hidden, cu_seqlens, pooling):
    """Pool the hidden states of a padding-free row, one vector per text.

    Parameters
    ----------
    hidden : torch.Tensor of shape (1, total, d)
        Final hidden states of texts concatenated without padding.
    cu_seqlens : torch.Tensor of shape (n_texts + 1,)
        Where each text starts, then the total length.
    pooling : {"mean", "last", "cls"}

    Returns
    -------
    pooled : torch.Tensor of shape (n_texts, d), float32

    Examples
    --------
    >>> import torch
    >>> hidden = torch.arange(5.0).reshape(1, 5, 1)  # texts of 3 and 2 tokens
    >>> cu = torch.tensor([0, 3, 5])
    >>> [pool_packed(hidden, cu, p).ravel().tolist() for p in POOLING_FUNCTIONS]
    [[1.0, 3.5], [2.0, 4.0], [0.0, 3.0]]
    """
    states = hidden[0]
    starts, ends = cu_seqlens[:-1].long(), cu_seqlens[1:].long()
    if pooling == "last":
        return states[ends - 1].float()
    if pooling == "cls":
        return states[starts].float()
    lengths = ends - starts
    # output_size: the total is known, so CUDA need not sync to size the result
    text_of_token = torch.repeat_interleave(
        torch.arange(len(lengths), device=states.device),
        lengths,
        output_size=states.shape[0],
    )
    sums = torch.zeros(
        len(lengths), states.shape[1], device=states.device, dtype=torch.float32
    ).index_add_(0, text_of_token, states.float())
    return sums / lengths.unsqueeze(1).to(sums.dtype)
