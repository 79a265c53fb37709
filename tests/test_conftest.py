"""The test configuration itself: the scheduling list names real tests."""

import re

from tests.conftest import LONGEST_FIRST, REPO_ROOT


def test_longest_first_names_existing_tests():
    # A renamed test would silently lose its early start; fail instead.
    for nodeid in LONGEST_FIRST:
        path, name = nodeid.split("::")
        source = (REPO_ROOT / path).read_text(encoding="utf-8")
        function = re.sub(r"\[.*\]$", "", name)
        assert f"def {function}(" in source, nodeid
