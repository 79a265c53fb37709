"""The number of objectives K: from the names, the declared K, or the ids seen."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import skpref.utils
from skpref import BTLRewardRegressor
from skpref.utils import (
    check_objective_categories,
    n_objectives,
    objective_coding,
    objective_names,
)


def test_the_objective_coding_has_one_public_home():
    for name in ("check_objective_ids", "objective_names", "n_objectives"):
        assert getattr(skpref.utils, name).__module__ == "skpref.utils._objectives"


def test_names_fix_k_and_a_declared_k_must_agree():
    names, k = objective_names(("helpful", "harmless"), 2, owner="m")
    assert names.tolist() == ["helpful", "harmless"] and k == 2
    assert objective_names(None, None, owner="m") == (None, None)
    with pytest.raises(
        ValueError,
        match=r"m got n_objectives=3 but 2 objective_categories "
        r"\['helpful', 'harmless'\]; give one of them",
    ):
        objective_names(["helpful", "harmless"], 3, owner="m")
    with pytest.raises(ValueError, match="more than once"):
        objective_names(["helpful", "helpful"], None, owner="m")


@given(st.lists(st.integers(0, 6), min_size=1, max_size=40))
def test_k_is_the_number_of_ids_seen_when_they_are_complete(ids):
    ids = np.asarray(ids)
    if set(ids.tolist()) == set(range(ids.max() + 1)):
        assert n_objectives(ids, None, owner="m") == ids.max() + 1
    else:
        with pytest.raises(ValueError, match="ids 0..K-1 with none missing"):
            n_objectives(ids, None, owner="m")
    assert n_objectives(ids, 7, owner="m") == 7


def test_missing_ids_are_listed_and_a_declared_k_bounds_the_ids():
    with pytest.raises(
        ValueError, match=r"holds the ids \[0, 2\] \(largest 2\), so \[1\] are absent"
    ):
        n_objectives(np.array([0, 2]), None, owner="m")
    with pytest.raises(
        ValueError, match=r"m got n_objectives=2, so objective ids must be 0..1; .* 5"
    ):
        n_objectives(np.array([0, 5]), 2, owner="m")
    with pytest.raises(ValueError, match=r"m got objective_categories=\['a', 'b'\]"):
        n_objectives(
            np.array([0, 5]),
            2,
            owner="m",
            declared_by="objective_categories=['a', 'b']",
        )


@pytest.mark.parametrize(
    "unordered", [{"helpful", "harmless"}, frozenset({"helpful", "harmless"})]
)
def test_an_unordered_coding_is_refused_everywhere_a_coding_is_taken(unordered):
    # a set's order depends on PYTHONHASHSEED: the same name could get two ids
    with pytest.raises(ValueError, match="ordered list.*changes between processes"):
        check_objective_categories(unordered, owner="m")
    X = np.column_stack([np.eye(4)[[0, 1, 2, 3] * 10], np.arange(40) % 2])
    y = np.arange(40) % 2
    model = BTLRewardRegressor(
        with_objective=True, objective_categories=unordered, max_epochs=1
    )
    with pytest.raises(ValueError, match="objective_categories must be an ordered"):
        model.fit(X, y)
    with pytest.raises(ValueError, match="ordered list"):
        objective_coding(["helpful"], unordered, owner="m")


def test_dict_keys_keep_their_order_as_a_coding():
    coding = {"helpful": 0, "harmless": 1}.keys()
    assert check_objective_categories(coding, owner="m").tolist() == [
        "helpful",
        "harmless",
    ]
