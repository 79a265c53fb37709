"""What a saved file from an untrusted source can and cannot do (issue 25, 1-3).

1. Options that run code or reach the network load with safe values unless the
   caller allows them at load.
2. A class named by a file is looked up among known estimator classes; nothing the
   file names is imported.
3. Every entry is checked against the file format before anything is built; every
   violation is one ``ValueError`` naming the file and the entry, and no entry can
   make the loader allocate more than the file holds.
Plus the optional keyed digest.
"""

import copy
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from safetensors import safe_open
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import all_estimators

import skpref
from skpref import BTLRewardRegressor, LLMEmbeddingTransformer, MultiheadRewardModel
from skpref._persistence import GUARDED_PARAMETERS
from skpref._persistence._decode import Decoder
from skpref._persistence._encode import Encoder
from skpref._persistence._registry import (
    _estimator_classes,
    class_path,
    constructor_params,
    known_class,
)
from skpref._persistence._schema import MAX_DEPTH, TAGS
from skpref.causal import AMCEEstimator
from skpref.embeddings import ModelNotAvailableError
from tests.test_persistence import QUICK, forge, saved_tree

INVALID = r"^skpref\.load: not a valid skpref file: "
FIXTURES = Path(__file__).parent / "fixtures" / "persistence"


def invalid_at(path, entry):
    """The start of the message for an invalid entry of the file at ``path``."""
    return f"{INVALID}{re.escape(str(path))}, at {re.escape(entry)}"


@pytest.fixture(scope="module")
def small_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 6))
    y = (X[:, 0] > X[:, 3]).astype(int)
    return X, y


@pytest.fixture(scope="module")
def fitted_btl(small_data):
    return BTLRewardRegressor(**{**QUICK, "hidden_dim": 8, "latent_dim": 4}).fit(
        *small_data
    )


@pytest.fixture(scope="module")
def valid_trees(fitted_btl, small_data, tmp_path_factory):
    """Valid (tree, tensors) pairs covering every tag of the format."""
    folder = tmp_path_factory.mktemp("trees")
    scaler = StandardScaler().fit(small_data[0])
    scaler.extras_ = {
        "frame": pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}),
        "pair": (np.int16(3), np.float32(np.nan), -np.inf),
        "kinds": [np.dtype("float32"), np.int64, Path("some/where")],
        "names": np.array(["one", "two"]),
        "rng": np.random.RandomState(1),
    }
    pipe = Pipeline([("scale", StandardScaler()), ("model", fitted_btl)])
    unfitted = MultiheadRewardModel(n_objectives=2, random_state=3)
    trees = []
    for i, estimator in enumerate([scaler, pipe, unfitted]):
        trees.append(saved_tree(skpref.save(estimator, folder / f"{i}.safetensors")))
    return trees


# -- 1. code and network -------------------------------------------------------


def embedders_in(value):
    """Every LLMEmbeddingTransformer inside ``value``, however deep."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, LLMEmbeddingTransformer):
            found.append(item)
        if isinstance(item, BaseEstimator):
            stack.extend(vars(item).values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def reckless_embedder():
    return LLMEmbeddingTransformer(
        model_name_or_path="someorg/some-model",
        revision="abc123",
        trust_remote_code=True,
        local_files_only=False,
        cache_dir=None,
    )


def with_an_attribute(value):
    scaler = StandardScaler().fit([[0.0], [1.0]])
    scaler.kept_ = {"inside": [value]}
    return scaler


@pytest.mark.parametrize(
    "wrap",
    [
        lambda e: e,
        lambda e: Pipeline([("embed", e), ("model", BTLRewardRegressor())]),
        lambda e: AMCEEstimator(estimator=Pipeline([("embed", e)])),
        with_an_attribute,
    ],
    ids=["alone", "pipeline", "nested", "attribute"],
)
def test_code_and_network_options_load_safe_unless_allowed(wrap, tmp_path):
    path = skpref.save(wrap(reckless_embedder()), tmp_path / "e.safetensors")
    (safe,) = embedders_in(skpref.load(path))
    assert safe.trust_remote_code is False and safe.local_files_only is True
    assert safe.model_name_or_path == "someorg/some-model"  # the rest is restored
    (code,) = embedders_in(skpref.load(path, trust_remote_code=True))
    assert code.trust_remote_code is True and code.local_files_only is True
    (net,) = embedders_in(skpref.load(path, allow_network=True))
    assert net.trust_remote_code is False and net.local_files_only is False


def test_a_pipeline_cache_folder_is_dropped_unless_allowed(tmp_path):
    # joblib's Memory unpickles the files it finds in its folder
    pipe = Pipeline([("scale", StandardScaler())], memory=str(tmp_path / "joblib"))
    path = skpref.save(pipe, tmp_path / "p.safetensors")
    assert skpref.load(path).memory is None
    assert skpref.load(path, trust_remote_code=True).memory == str(tmp_path / "joblib")


@pytest.mark.parametrize(
    "make, name",
    [
        (reckless_embedder, "trust_remote_code"),
        (reckless_embedder, "local_files_only"),
        (lambda: Pipeline([("scale", StandardScaler())]), "memory"),
    ],
)
def test_a_guarded_option_cannot_come_back_as_an_attribute(make, name, tmp_path):
    estimator = make()
    tree, tensors = saved_tree(skpref.save(estimator, tmp_path / "e.safetensors"))
    tree["attributes"]["__dict__"][name] = True
    path = forge(tmp_path / "f.safetensors", tree, tensors)
    entry = f"object({type(estimator).__name__}).attributes: {name!r} cannot be"
    with pytest.raises(ValueError, match=invalid_at(path, entry)):
        skpref.load(path)


# Parameters of skpref's estimators whose names suggest code, files or the
# network, and why loading them as saved is safe (or which guard covers them).
REVIEWED = {
    "model_name_or_path": "read from a local folder or the local HF cache only: "
    "local_files_only is guarded",
    "revision": "picks a cached revision only: local_files_only is guarded",
    "gguf_file": "a file inside the model folder, parsed as data",
    "cache_dir": "embedding vectors read with allow_pickle=False (documented)",
    "max_batch_tokens": "a batch size",
    "module": "RewardNet's torch module class, which JSON cannot hold",
}
SUSPECT = re.compile(
    "code|remote|network|url|hub|token|download|local|revision|memory|path|dir|"
    "file|client|address|endpoint|host|cache|func|callable|module|import"
)


def test_every_suspect_parameter_of_an_estimator_is_guarded_or_reviewed():
    # a tripwire: a new parameter that may reach code or the network needs a
    # decision here (a guard in GUARDED_PARAMETERS, or a reason)
    known_class("skpref.models:X")  # imports the public subpackages below
    for sub in ("embeddings", "preprocessing", "active", "causal", "model_selection"):
        known_class(f"skpref.{sub}:X")
    all_estimators()  # every scikit-learn estimator too
    names = {
        param
        for name, cls in _estimator_classes().items()
        if name.startswith("skpref.") or not cls.__name__.startswith("_")
        for param in constructor_params(cls)
        if name.startswith("skpref.") or param in ("memory", "trust_remote_code")
    }
    suspects = {name for name in names if SUSPECT.search(name)}
    assert "trust_remote_code" in suspects and "memory" in suspects
    assert suspects <= set(GUARDED_PARAMETERS) | set(REVIEWED), suspects


def test_a_model_folder_s_own_code_never_runs_unless_allowed(
    tiny_models, tmp_path, monkeypatch
):
    import transformers.dynamic_module_utils as dynamic

    folder, marker = tmp_path / "model", tmp_path / "code-ran"
    (folder).mkdir()
    for file in Path(tiny_models["bert"]).iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {
        "AutoConfig": "configuration_own.OwnConfig",
        "AutoModel": "configuration_own.OwnModel",
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "configuration_own.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(marker)!r}).write_text('ran')\n"
        "from transformers import BertConfig, BertModel\n"
        "class OwnConfig(BertConfig):\n    pass\n"
        "class OwnModel(BertModel):\n    config_class = OwnConfig\n"
    )
    frame = pd.DataFrame({"prompt": ["p"], "response_a": ["a"], "response_b": ["b"]})
    embed = LLMEmbeddingTransformer(
        model_name_or_path=folder, cache_dir=None, device="cpu", dtype="float32"
    ).fit(frame)
    embed.trust_remote_code = True  # what an edited file would say
    path = skpref.save(embed, tmp_path / "embed.safetensors")

    assert skpref.load(path).transform(frame).shape == (1, 2 * embed.embedding_dim_)
    assert not marker.exists()
    # the control: allowed, the folder's code runs (its module cache kept here)
    monkeypatch.setattr(dynamic, "HF_MODULES_CACHE", str(tmp_path / "modules"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    try:
        skpref.load(path, trust_remote_code=True).transform(frame)
    finally:
        for name in set(sys.modules) - before:
            if name.startswith("transformers_modules"):
                del sys.modules[name]
    assert marker.read_text() == "ran"


def test_a_hub_model_is_never_downloaded_unless_allowed(
    tiny_models, tmp_path, monkeypatch
):
    frame = pd.DataFrame({"prompt": ["p"], "response_a": ["a"], "response_b": ["b"]})
    embed = LLMEmbeddingTransformer(
        model_name_or_path=tiny_models["bert"], cache_dir=None, device="cpu"
    ).fit(frame)
    tree, tensors = saved_tree(skpref.save(embed, tmp_path / "e.safetensors"))
    tree["params"]["__dict__"]["model_name_or_path"] = "someorg/some-model"
    path = forge(tmp_path / "hub.safetensors", tree, tensors)
    asked = []

    def from_pretrained(name, **kwargs):
        asked.append(kwargs.get("local_files_only"))
        raise OSError("this test has no network")

    for auto in ("AutoConfig", "AutoTokenizer", "AutoModel"):
        monkeypatch.setattr(
            getattr(transformers, auto), "from_pretrained", from_pretrained
        )
    monkeypatch.setattr("skpref.embeddings._loading.offline_mode", lambda: False)
    with pytest.raises(ModelNotAvailableError, match="someorg/some-model"):
        skpref.load(path).transform(frame)
    assert asked and all(asked)  # every request: local files only
    asked.clear()
    with pytest.raises(ModelNotAvailableError):
        skpref.load(path, allow_network=True).transform(frame)
    assert asked and not any(asked)


# -- 2. no import of what a file names -------------------------------------------


@pytest.fixture(scope="module")
def side_effect_module(tmp_path_factory):
    """A module on sys.path that writes a marker file when it is imported."""
    name = f"skpref_marker_{uuid.uuid4().hex[:8]}"
    folder = tmp_path_factory.mktemp("side_effect")
    marker = folder / "imported"
    (folder / "lib").mkdir()
    (folder / "lib" / f"{name}.py").write_text(
        "from pathlib import Path\n"
        "from sklearn.base import BaseEstimator\n"
        f"Path({str(marker)!r}).write_text('imported')\n"
        "class Evil(BaseEstimator):\n    pass\n"
    )
    sys.path.insert(0, str(folder / "lib"))
    try:
        yield name, marker
    finally:
        sys.path.remove(str(folder / "lib"))
    assert name not in sys.modules and not marker.exists()


def estimator_tree(name):
    return {
        "__estimator__": name,
        "params": {"__dict__": {}},
        "attributes": {"__dict__": {}},
        "torch": {},
        "requests": {},
    }


def test_a_refused_class_s_module_is_never_imported(side_effect_module, tmp_path):
    name, marker = side_effect_module
    for spelled in [f"{name}:Evil", f"{name}.sub:Evil", f"sklearn.{name}:Evil"]:
        path = forge(tmp_path / "f.safetensors", estimator_tree(spelled))
        with pytest.raises(ValueError, match=f"the class {spelled} is refused"):
            skpref.load(path)
    # nested anywhere: in a pipeline's steps, in an attribute
    inner = {"__tuple__": ["evil", estimator_tree(f"{name}:Evil")]}
    tree = estimator_tree("sklearn.pipeline:Pipeline")
    tree["params"]["__dict__"]["steps"] = [inner]
    path = forge(tmp_path / "g.safetensors", tree)
    with pytest.raises(ValueError, match=r"at object\(Pipeline\)\.params\['steps'\]"):
        skpref.load(path)
    assert not marker.exists()


MODULE_PARTS = ["os", "subprocess", "sklearn", "skpref", "tests", "models", "svm"]


@given(
    st.lists(st.sampled_from([*MODULE_PARTS, "MARKER", "__init__", "_x"]), min_size=1),
    st.sampled_from(["Evil", "system", "SVC", "StandardScaler", "a.b", "__class__"]),
)
def test_no_name_a_file_gives_imports_a_module_of_its_own(
    side_effect_module, parts, qualname
):
    module, marker = side_effect_module
    name = ".".join(module if p == "MARKER" else p for p in parts) + ":" + qualname
    cls = known_class(name)
    assert cls is None or (
        issubclass(cls, BaseEstimator) and cls.__module__.split(".")[0] in MODULE_PARTS
    )
    assert module not in sys.modules and not marker.exists()


def test_every_estimator_of_skpref_and_scikit_learn_is_known():
    for _, cls in all_estimators():
        assert known_class(class_path(cls)) is cls
    for cls in (BTLRewardRegressor, LLMEmbeddingTransformer, AMCEEstimator):
        assert known_class(class_path(cls)) is cls


@pytest.mark.slow
def test_classes_are_known_in_a_fresh_process():
    # a subpackage nobody imported yet is imported by its public name only
    code = (
        "import sys\n"
        "from skpref._persistence._registry import known_class\n"
        "assert 'sklearn.svm' not in sys.modules\n"
        "assert known_class('sklearn.svm._classes:SVC').__name__ == 'SVC'\n"
        "name = 'skpref.causal._amce:AMCEEstimator'\n"
        "assert known_class(name).__name__ == 'AMCEEstimator'\n"
        "assert known_class('sklearn.svm._classes:_fit_liblinear') is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- 3. the schema ------------------------------------------------------------------


def decode(tree, tensors, **kwargs):
    return Decoder(tensors, path="file", **kwargs).decode(tree)


def node_paths(tree):
    """Paths to every node of a JSON tree, as lists of keys and indices."""
    paths, stack = [], [((), tree)]
    while stack:
        path, node = stack.pop()
        paths.append(path)
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, child in items:
            stack.append(((*path, key), child))
    return paths


def replaced(tree, path, value):
    tree = copy.deepcopy(tree)
    if not path:
        return value
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return tree


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.sampled_from(
        ["t0", "t999", "<U99999999", "O", "V8", "bfloat16", "nan", "os:system"]
    )
    | st.text(max_size=4)
)
json_keys = st.sampled_from(
    [*TAGS, "dtype", "shape", "params", "attributes"]
) | st.text(max_size=3)
json_trees = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(json_keys, children, max_size=3)
    ),
    max_leaves=10,
)


def assert_valid_or_refused(tree, tensors):
    try:
        decode(tree, tensors)
    except ValueError as error:
        message = str(error)
        assert re.match(INVALID + "file, at object", message) or (
            "pass device='auto'" in message
        ), message


@given(json_trees)
def test_any_json_tree_is_loaded_or_refused_in_one_sentence(tree):
    assert_valid_or_refused(tree, {"t0": torch.zeros(3)})


@settings(max_examples=60)
@given(st.data())
def test_a_tampered_entry_is_refused_naming_the_entry(valid_trees, data):
    tree, tensors = data.draw(st.sampled_from(valid_trees))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(node_paths(tree)))
        tree = replaced(tree, path, data.draw(json_trees))
    assert_valid_or_refused(tree, tensors)


KINDS_OF_JSON = [
    None,
    True,
    0,
    -1,
    2**70,
    1.5,
    float("nan"),
    "",
    "t0",
    [],
    [1, "a"],
    {},
    {"__dict__": {}},
    {"__array__": "t0"},
]


@pytest.mark.parametrize(
    "which",
    [0, 2, pytest.param(1, marks=pytest.mark.slow)],
    ids=["every-tag", "unfitted-model", "fitted-pipeline"],
)
def test_every_entry_replaced_by_every_kind_of_json_is_loaded_or_refused(
    valid_trees, which
):
    # systematic, not sampled: each value of each object of the tree
    tree, tensors = valid_trees[which]
    for path in node_paths(tree):
        if not path or not isinstance(_at(tree, path[:-1]), dict):
            continue
        for value in KINDS_OF_JSON:
            assert_valid_or_refused(replaced(tree, path, value), tensors)


@settings(max_examples=30)
@given(st.data())
def test_a_removed_or_added_key_is_refused(valid_trees, data):
    tree, tensors = data.draw(st.sampled_from(valid_trees))
    dicts = [p for p in node_paths(tree) if isinstance(_at(tree, p), dict)]
    path = data.draw(st.sampled_from(dicts))
    node = copy.deepcopy(_at(tree, path))
    if node and data.draw(st.booleans()):
        del node[data.draw(st.sampled_from(sorted(node)))]
    else:
        node[data.draw(json_keys)] = data.draw(json_trees)
    assert_valid_or_refused(replaced(tree, path, node), tensors)


def _at(tree, path):
    for key in path:
        tree = tree[key]
    return tree


@pytest.mark.parametrize(
    "tree, match",
    [
        ({"__array__": "t9"}, "no tensor 't9' in the file"),
        ({"__array__": "bf"}, "the tensor 'bf' has dtype torch.bfloat16"),
        ({"__float__": "1e400"}, "__float__ holds '1e400'"),
        ({"__scalar__": 1, "dtype": "O"}, "the dtype 'O' is not allowed here"),
        ({"__scalar__": 300, "dtype": "i1"}, "OverflowError"),
        ({"__dtype__": "not-a-dtype"}, "'not-a-dtype' is not a NumPy dtype"),
        ({"__list_array__": [], "dtype": "f8", "shape": [0]}, "'f8' is not allowed"),
        ({"__list_array__": ["a"], "dtype": "<U1", "shape": [-1]}, "not a shape"),
        ({"__list_array__": ["a"], "dtype": "<U1", "shape": [2]}, "cannot reshape"),
        ({"__path__": 3}, "__path__ holds a int"),
        ({"__dict__": {}, "__tuple__": []}, "an object with the keys"),
        ({"plain": 1}, "an object with the keys"),
        ({"__scalar__": 1}, r"__scalar__ needs the keys \['__scalar__', 'dtype'\]"),
        ({"__random_state__": {"__tuple__": ["MT19937"]}}, "IndexError"),
        ({"__dataframe__": {"columns": []}}, "needs columns, index and data"),
        (float("nan"), "a bare non-finite number"),
    ],
)
def test_each_malformed_entry_is_named(tree, match):
    tensors = {"t0": torch.zeros(2), "bf": torch.zeros(2, dtype=torch.bfloat16)}
    with pytest.raises(ValueError, match=INVALID + "file, at object.*" + match):
        decode(tree, tensors)


def test_an_estimator_entry_is_checked_against_its_class():
    tree = estimator_tree("sklearn.preprocessing._data:StandardScaler")
    tree["params"]["__dict__"]["no_such"] = 1
    with pytest.raises(ValueError, match="StandardScaler has no parameter 'no_such'"):
        decode(tree, {})
    tree = estimator_tree("sklearn.preprocessing._data:StandardScaler")
    tree["requests"] = {"fly": {}}
    with pytest.raises(ValueError, match="takes no requests for 'fly'"):
        decode(tree, {})
    tree = estimator_tree("sklearn.preprocessing._data:StandardScaler")
    tree["torch"] = {"net_": {"w": "t7"}}
    with pytest.raises(ValueError, match=r"torch\['net_'\]\['w'\]: no tensor 't7'"):
        decode(tree, {})
    for name in ["__class__", "_metadata_request", "with_mean", "not a name"]:
        tree = estimator_tree("sklearn.preprocessing._data:StandardScaler")
        tree["attributes"]["__dict__"][name] = 1
        with pytest.raises(ValueError, match=r"\(StandardScaler\)\.attributes: "):
            decode(tree, {})


def test_nesting_is_bounded_in_the_tree_and_in_the_json(tmp_path):
    deep = []
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValueError, match=f"nested more than {MAX_DEPTH} levels"):
        decode(deep, {})
    path = tmp_path / "deep.safetensors"
    text = "[" * 200_000 + "]" * 200_000
    forge(path, {})  # then replace its JSON, keeping a valid digest
    header = _header(path)
    header["object"] = text
    header["digest"] = skpref._persistence._digest(text, {})
    _write(path, header, {})
    with pytest.raises(ValueError, match=invalid_at(path, "object") + ": nested too"):
        skpref.load(path)


def _header(path):
    with safe_open(path, framework="pt") as file:
        return dict(file.metadata())


def _write(path, header, tensors):
    from safetensors.torch import save_file

    save_file(tensors, path, metadata=header)


@pytest.mark.parametrize(
    "shape, items, dtype",
    [
        ([10**12], [], "<U1000"),  # the shape claims what the JSON does not hold
        ([2000], ["a"] * 2000, "<U100000"),  # a wide dtype for short strings
        ([10**6, 10**6], [], "O"),
    ],
)
def test_arrays_built_from_the_json_are_bounded_by_its_size(shape, items, dtype):
    tree = {"__list_array__": items, "dtype": dtype, "shape": shape}
    with pytest.raises(ValueError, match="larger than the file could hold"):
        decode(tree, {})


@pytest.mark.parametrize(
    "param, value, match",
    [
        ("hidden_dim", 10**9, r"hidden_dim=1000000000, more than its \d+ saved"),
        ("hidden_dim", 100, r"saved weight .* has shape .* expects"),
        ("n_layers", 10**9, r"n_layers=1000000000, more than its \d+ saved"),
        ("hidden_dim", "wide", "hidden_dim"),
        ("n_layers", -1, "n_layers"),
    ],
)
def test_edited_sizes_are_refused_before_anything_is_allocated(
    fitted_btl, tmp_path, param, value, match
):
    tree, tensors = saved_tree(fitted_btl.save(tmp_path / "m.safetensors"))
    tree["params"]["__dict__"][param] = value
    path = forge(tmp_path / "edited.safetensors", tree, tensors)
    with pytest.raises(ValueError, match=invalid_at(path, "object(BTL") + ".*" + match):
        skpref.load(path)


def test_the_header_is_bounded_before_it_is_read(fitted_btl, tmp_path, monkeypatch):
    path = fitted_btl.save(tmp_path / "m.safetensors")
    raw = path.read_bytes()
    lying = tmp_path / "lying.safetensors"
    lying.write_bytes((10**15).to_bytes(8, "little") + raw[8:])
    with pytest.raises(ValueError, match=invalid_at(lying, "header") + ": a header"):
        skpref.load(lying)
    tiny = tmp_path / "tiny.safetensors"
    tiny.write_bytes(b"abc")
    with pytest.raises(ValueError, match=invalid_at(tiny, "header")):
        skpref.load(tiny)
    monkeypatch.setattr("skpref._persistence.MAX_HEADER_BYTES", 100)
    with pytest.raises(ValueError, match=r"\(at most 100\)"):
        skpref.load(path)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"format_version": "abc"}, "at format_version: 'abc' is not a version"),
        ({"format_version": "\u0663"}, "is not a version number"),
        ({"format_version": "2"}, "at digest_kind: None in format version 2"),
        ({"digest_kind": "hmac-sha256"}, "at digest_kind: 'hmac-sha256' in format"),
    ],
)
def test_the_format_entries_are_checked(fitted_btl, tmp_path, changes, match):
    tree, tensors = saved_tree(fitted_btl.save(tmp_path / "m.safetensors"))
    path = forge(tmp_path / "f.safetensors", tree, tensors, **changes)
    with pytest.raises(ValueError, match=INVALID + ".*" + match):
        skpref.load(path)


@settings(max_examples=40)
@given(position=st.floats(0, 1), flip=st.integers(1, 255))
def test_a_flipped_byte_anywhere_is_refused_or_harmless(
    fitted_btl, small_data, tmp_path_factory, position, flip
):
    folder = tmp_path_factory.mktemp("flip")
    raw = bytearray(fitted_btl.save(folder / "m.safetensors").read_bytes())
    raw[int(position * (len(raw) - 1))] ^= flip
    path = folder / "flipped.safetensors"
    path.write_bytes(bytes(raw))
    try:
        restored = skpref.load(path)
    except ValueError as error:
        assert str(error).startswith("skpref.load: "), error
    else:  # a flip that changes nothing saved (JSON whitespace, header padding)
        X = small_data[0]
        assert_array_equal(restored.predict_proba(X), fitted_btl.predict_proba(X))


# -- the keyed digest --------------------------------------------------------------


@pytest.mark.parametrize("key", [b"\x00secret", "a passphrase"])
def test_a_keyed_file_loads_with_its_key_only(fitted_btl, small_data, tmp_path, key):
    path = skpref.save(fitted_btl, tmp_path / "m.safetensors", key=key)
    X = small_data[0]
    restored = skpref.load(path, key=key)
    assert_array_equal(restored.predict_proba(X), fitted_btl.predict_proba(X))
    with pytest.raises(ValueError, match="was saved with a key .* pass the same key"):
        skpref.load(path)
    with pytest.raises(ValueError, match="at digest: the file does not match the key"):
        skpref.load(path, key=b"another")


def test_an_unkeyed_file_is_refused_when_a_key_is_given(fitted_btl, tmp_path):
    path = fitted_btl.save(tmp_path / "m.safetensors")
    assert _header(path)["format_version"] == "1"  # older skpref reads it
    with pytest.raises(ValueError, match="saved without a key, so anyone could"):
        skpref.load(path, key=b"k")


def test_an_edit_without_the_key_is_refused(fitted_btl, tmp_path):
    path = skpref.save(fitted_btl, tmp_path / "m.safetensors", key=b"k")
    header = _header(path)
    with safe_open(path, framework="pt") as file:
        tensors = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118
    tree = json.loads(header["object"])
    tree["params"]["__dict__"]["max_epochs"] = 99
    edited = {**header, "object": json.dumps(tree)}
    for forged in [
        edited,  # the old digest kept
        {**header, "skpref_version": "0.0.1"},  # the header is covered too
        # a downgrade to the plain digest, which anyone can compute
        {
            **{k: v for k, v in edited.items() if k != "digest_kind"},
            "format_version": "1",
            "digest": skpref._persistence._digest(edited["object"], tensors),
        },
    ]:
        _write(tmp_path / "f.safetensors", forged, tensors)
        with pytest.raises(ValueError, match="does not match the key|without a key"):
            skpref.load(tmp_path / "f.safetensors", key=b"k")


@pytest.mark.parametrize(
    "key, error, match", [(b"", ValueError, "key is empty"), (3, TypeError, "bytes")]
)
def test_a_key_must_be_bytes_or_text(fitted_btl, tmp_path, key, error, match):
    with pytest.raises(error, match=match):
        skpref.save(fitted_btl, tmp_path / "m.safetensors", key=key)
    with pytest.raises(error, match=match):
        skpref.load(tmp_path / "any.safetensors", key=key)


# -- files of the first format ------------------------------------------------------


def test_a_file_of_the_first_format_still_loads():
    # written by skpref before this change (format version 1, plain digest)
    path = FIXTURES / "format1-pipeline.safetensors"
    expected = np.load(FIXTURES / "format1-expected.npz", allow_pickle=False)
    restored = skpref.load(path, check_version=False)
    assert _header(path)["format_version"] == "1"
    assert_allclose(restored.predict_proba(expected["X"]), expected["proba"], rtol=1e-6)
    assert_array_equal(restored[0].extras_["names"], ["one", "two"])
    assert restored[0].extras_["pair"][0] == np.int16(3)


def test_encoder_and_decoder_agree_on_the_tags():
    # every tag the encoder writes is one the schema knows
    encoder = Encoder()
    value = {
        "a": (np.float32(1), float("inf"), np.dtype("i2"), np.int8, Path("p")),
        "b": [np.array(["x"]), np.zeros(2), pd.DataFrame({"c": [1]})],
        "r": np.random.RandomState(0),
        "e": StandardScaler(),
    }
    tree = encoder.encode(value, "v")
    tags = {p[-1] for p in node_paths(tree) if p and p[-1] in TAGS}
    assert tags == set(TAGS)
