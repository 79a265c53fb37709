"""A results file never hands back a number it did not keep: any edit is caught.

Hypothesis edits one leaf of the JSON tree of a kept file (a number, a string, a
count, a digest, a key) or removes one entry; loading then either gives back the
kept rows exactly (the edit changed nothing) or refuses the chunk with a warning.
"""

import json
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skpref.experiments._store import ResultsFile

IDENTITY = {"protocol": "latent", "n_train": 100}
DRAWS = [(0, 0.0), (0, 0.5), (1, 0.0)]


def _rows(draw):
    repetition, rho = draw
    return [
        {"model": name, "rho": rho, "seed": repetition, "accuracy": 0.5 + i / 10}
        for i, name in enumerate(["btl", "multihead"])
    ]


def _paths(tree, prefix=()):
    """Every path to a leaf or to an entry of a dict or list."""
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, list):
        items = enumerate(tree)
    else:
        return
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def _replacement(value):
    """Values of another kind or another value than ``value``."""
    return st.one_of(
        st.integers(-3, 3),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        st.text(max_size=4),
        st.none(),
        st.just([]),
        st.just({}),
    ).filter(lambda new: new != value or type(new) is not type(value))


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_edit_of_a_kept_file_is_refused_or_harmless(tmp_path, data):
    folder = tmp_path / data.draw(st.uuids()).hex
    kept = ResultsFile(folder, "latent", IDENTITY, resume=False, owner="test")
    for draw in DRAWS:
        kept.save(draw, _rows(draw), {"n_train": 100})
    tree = json.loads(kept.path.read_text())
    chunk_paths = [p for p in _paths(tree) if p[0] == "chunks" and len(p) > 2]
    path = data.draw(st.sampled_from(chunk_paths))
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans(), label="remove the entry"):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(_replacement(parent[path[-1]]), label="value")
    kept.path.write_text(json.dumps(tree))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = ResultsFile(folder, "latent", IDENTITY, resume=True, owner="test")
        loaded = {draw: resumed.load(draw) for draw in DRAWS}
    damaged = [str(w.message) for w in caught if "is damaged" in str(w.message)]
    for draw, got in loaded.items():
        assert got is None or got == (_rows(draw), {"n_train": 100})
    refused = [draw for draw, got in loaded.items() if got is None]
    assert len(damaged) == len(refused)  # every refused chunk is named
    assert len(refused) <= 1  # one edit damages at most its own chunk


def test_a_file_of_another_run_is_never_read(tmp_path):
    kept = ResultsFile(tmp_path, "latent", IDENTITY, resume=False, owner="test")
    kept.save(DRAWS[0], _rows(DRAWS[0]), {})
    other = ResultsFile(
        tmp_path, "latent", {**IDENTITY, "n_train": 101}, resume=True, owner="test"
    )
    assert other.path != kept.path and other.load(DRAWS[0]) is None
