"""Validation helpers shared by every skpref component."""

from skpref.utils._device import resolve_device
from skpref.utils._objectives import (
    check_objective_categories,
    encode_objectives,
    objective_coding,
)
from skpref.utils._validation import (
    check_objective_ids,
    check_pair_target,
    check_pair_width,
    split_pairs,
)

__all__ = [
    "check_objective_categories",
    "check_objective_ids",
    "check_pair_target",
    "check_pair_width",
    "encode_objectives",
    "objective_coding",
    "resolve_device",
    "split_pairs",
]
