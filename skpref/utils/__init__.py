"""Validation helpers shared by every skpref component."""

from skpref.utils._validation import (
    check_objective_ids,
    check_pair_target,
    check_pair_width,
    split_pairs,
)

__all__ = [
    "check_objective_ids",
    "check_pair_target",
    "check_pair_width",
    "split_pairs",
]
