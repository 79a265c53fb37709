"""check_objective_ids: the wording of its errors for each kind of caller."""

import re

import numpy as np
import pytest

from skpref.utils import check_objective_ids, encode_objectives

BAD_IDS = [
    ([0.0, np.nan], "contains NaN or inf"),
    ([0.0, 0.5], "integer objective ids 0..K-1; got the non-integer value 0.5"),
    ([0.0, -1.0], "got the negative id -1"),
    ([0.0, 3e9], "got the id 3e\\+09, too large to number an objective"),
    ([0.0, 2.0], "got the objective id 2|holds the objective id 2"),
]


@pytest.mark.parametrize(("ids", "match"), BAD_IDS)
def test_an_estimators_ids_are_the_last_column_of_X(ids, match):
    # the reward models' wording: X's last column, a fitted number of objectives
    with pytest.raises(ValueError, match=match) as info:
        check_objective_ids(ids, n_objectives=2, owner="MultiheadRewardModel")
    message = str(info.value)
    assert message.startswith("MultiheadRewardModel")
    if "non-integer" in message:
        assert "expects the last column of X to hold" in message
    if "objective id 2" in message:
        assert "was fitted with 2 objectives (ids 0..1)" in message


@pytest.mark.parametrize(("ids", "match"), BAD_IDS)
def test_a_named_column_is_named_and_nothing_was_fitted(ids, match):
    with pytest.raises(ValueError, match=match) as info:
        check_objective_ids(
            ids, n_objectives=2, owner="preference_pairs", argument="column 'c'"
        )
    message = str(info.value)
    assert "column 'c'" in message
    assert "last column of X" not in message and "fitted" not in message


def test_ids_outside_a_coding_say_which_coding_and_how_to_fix():
    expected = (
        "preference_pairs: column 'objective' holds the objective id 2, outside the "
        "objective coding in force (ids 0..1, 2 objectives). Use ids 0..1, or a "
        "coding with more objectives."
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        encode_objectives(
            [0, 2],
            ["helpful", "harmless"],
            owner="preference_pairs",
            argument="column 'objective'",
        )
    with pytest.raises(
        ValueError,
        match=re.escape(
            "preference_pairs expects column 'objective' to hold integer objective "
            "ids 0..K-1; got the non-integer value 0.5."
        ),
    ):
        encode_objectives(
            [0.0, 0.5], None, owner="preference_pairs", argument="column 'objective'"
        )
