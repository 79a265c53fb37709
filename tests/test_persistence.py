"""skpref.save and skpref.load: round trips, pipelines, every way a file is bad."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal
from safetensors.torch import save_file
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import skpref
from skpref import BTLRewardRegressor, LLMEmbeddingTransformer, MultiheadRewardModel
from skpref._persistence import _digest
from skpref._persistence._decode import Decoder
from skpref._persistence._encode import Encoder
from tests.estimator_registry import (
    SMALL_NET,
    pair_data_for,
    single_reward_model_instances,
)

QUICK = {**SMALL_NET, "max_epochs": 3}
MODELS = {
    type(m).__name__ + str(i): m for i, m in enumerate(single_reward_model_instances())
}


@pytest.fixture(scope="module")
def latent():
    return pair_data_for(BTLRewardRegressor(), n_pairs=150)


@pytest.fixture(scope="module")
def fitted_btl(latent):
    return BTLRewardRegressor(**QUICK).fit(latent.X, latent.y)


def forge(path, tree, tensors=None, **metadata):
    """Write a file the way save does, with a valid digest, from a JSON tree."""
    tensors = tensors or {}
    text = json.dumps(tree)
    header = {
        "format": "skpref",
        "format_version": "1",
        "skpref_version": skpref.__version__,
        "sklearn_version": __import__("sklearn").__version__,
        "object": text,
        "digest": _digest(text, tensors),
        **metadata,
    }
    save_file(tensors, path, metadata=header)
    return path


def saved_tree(path):
    from safetensors import safe_open

    with safe_open(path, framework="pt") as file:
        return json.loads(file.metadata()["object"]), {
            key: file.get_tensor(key)
            for key in file.keys()  # noqa: SIM118
        }


# -- round trips --------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
def test_every_reward_model_round_trips_identically(name, tmp_path):
    model = clone(MODELS[name]).set_params(max_epochs=3)
    data = pair_data_for(model, n_pairs=150)
    model.fit(data.X, data.y)
    restored = skpref.load(model.save(tmp_path / "model.safetensors"))
    assert type(restored) is type(model)
    assert restored.get_params() == model.get_params()
    assert_array_equal(restored.predict_proba(data.X), model.predict_proba(data.X))
    pd.testing.assert_frame_equal(restored.history_, model.history_)
    assert restored.best_epoch_ == model.best_epoch_
    d = model.n_pair_features_
    E = data.X[:, [*range(d), *range(2 * d, data.X.shape[1])]]
    assert_array_equal(restored.predict_reward(E), model.predict_reward(E))


def test_a_pipeline_with_a_scaler_round_trips(latent, tmp_path):
    pipe = Pipeline(
        [("scale", StandardScaler()), ("model", BTLRewardRegressor(**QUICK))]
    )
    pipe.fit(latent.X, latent.y)
    restored = skpref.load(skpref.save(pipe, tmp_path / "pipe.safetensors"))
    assert_array_equal(restored[0].mean_, pipe[0].mean_)
    assert_array_equal(restored.predict_proba(latent.X), pipe.predict_proba(latent.X))


def text_pairs(n_pairs, seed):
    """Text pairs whose preferred response depends on the objective."""
    rng = np.random.RandomState(seed)
    objective = rng.randint(2, size=n_pairs)
    a_is_long = rng.randint(2, size=n_pairs).astype(bool)
    long = [
        f"Here is a detailed answer about topic {i}, with steps."
        for i in range(n_pairs)
    ]
    short = ["I would rather not say."] * n_pairs
    return pd.DataFrame(
        {
            "prompt": [f"Tell me about topic {i}" for i in range(n_pairs)],
            "response_a": np.where(a_is_long, long, short),
            "response_b": np.where(a_is_long, short, long),
            "objective": objective,
            "y": (a_is_long == (objective == 0)).astype(int),
        }
    )


def test_a_text_pipeline_round_trips(tiny_models, tmp_path):
    train, test = text_pairs(48, seed=0), text_pairs(16, seed=1)
    embed = LLMEmbeddingTransformer(
        model_name_or_path=tiny_models["bert"],
        cache_dir=tmp_path / "cache",
        max_length=64,
        device="cpu",
        dtype="float32",
    ).set_output(transform="pandas")
    model = MultiheadRewardModel(**{**QUICK, "head_hidden_dim": 16, "max_epochs": 10})
    pipe = Pipeline([("embed", embed), ("reward", model)])
    pipe.fit(train.drop(columns="y"), train["y"])
    path = skpref.save(pipe, tmp_path / "text.safetensors")
    restored = skpref.load(path)
    assert restored[0].model_name_or_path == tiny_models["bert"]
    assert_array_equal(
        restored.predict_proba(test.drop(columns="y")),
        pipe.predict_proba(test.drop(columns="y")),
    )


def test_an_unfitted_estimator_round_trips(tmp_path):
    model = MultiheadRewardModel(
        n_objectives=3, lr=0.5, random_state=np.random.RandomState(4)
    )
    restored = skpref.load(skpref.save(model, tmp_path / "m.safetensors"))
    params = restored.get_params()
    assert params.pop("random_state").randint(1000) == np.random.RandomState(4).randint(
        1000
    )
    assert params == {
        k: v for k, v in model.get_params().items() if k != "random_state"
    }
    assert not hasattr(restored, "net_")


def test_load_picks_the_device_and_leaves_global_random_state_alone(
    fitted_btl, latent, tmp_path
):
    path = fitted_btl.save(tmp_path / "m.safetensors")
    torch.manual_seed(7)
    state = torch.get_rng_state()
    restored = skpref.load(path, device="cpu")
    assert torch.equal(torch.get_rng_state(), state)
    assert restored.device == "cpu" and restored.device_ == "cpu"


def test_save_replaces_a_file_only_once_complete(fitted_btl, tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_text("old")
    fitted_btl.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    assert isinstance(skpref.load(path), BTLRewardRegressor)


def test_metadata_routing_requests_survive(fitted_btl, tmp_path):
    from sklearn import config_context

    with config_context(enable_metadata_routing=True):
        model = clone(fitted_btl).set_fit_request(sample_weight=True)
        restored = skpref.load(skpref.save(model, tmp_path / "m.safetensors"))
        requests = restored.get_metadata_routing().fit.requests
    assert requests["sample_weight"] is True


class Doubler(BaseEstimator):
    """An estimator from outside skpref and sklearn."""

    def __init__(self, factor=2.0):
        self.factor = factor


def test_other_classes_load_only_when_trusted(tmp_path):
    path = skpref.save(Doubler(3.0), tmp_path / "d.safetensors")
    refused = "the class tests.test_persistence:Doubler is refused"
    with pytest.raises(ValueError, match=refused):
        skpref.load(path)
    assert skpref.load(path, trusted_classes=[Doubler]).factor == 3.0


# -- the codec --------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.sampled_from([math.inf, -math.inf])
    | st.text(max_size=5)
    | hnp.arrays(
        st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_]),
        hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3),
    )
    | st.lists(st.text(max_size=3), max_size=3).map(
        lambda v: np.array(v, dtype=object)
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=8,
)


def assert_same(decoded, original):
    assert type(decoded) is type(original)
    if isinstance(original, np.ndarray):
        assert decoded.dtype == original.dtype and decoded.shape == original.shape
        assert_array_equal(decoded, original)
    elif isinstance(original, list | tuple):
        assert len(decoded) == len(original)
        for d, o in zip(decoded, original, strict=True):
            assert_same(d, o)
    elif isinstance(original, dict):
        assert list(decoded) == list(original)
        for key in original:
            assert_same(decoded[key], original[key])
    else:
        assert decoded == original


@given(json_values)
def test_the_codec_round_trips_values_exactly(value):
    encoder = Encoder()
    tree = json.loads(json.dumps(encoder.encode(value, "value")))
    assert_same(Decoder(encoder.tensors).decode(tree), value)


def test_nan_and_numpy_scalars_round_trip():
    encoder = Encoder()
    value = {"nan": math.nan, "scalar": np.float32(1.5), "dtype": np.dtype("int16")}
    decoded = Decoder(encoder.tensors).decode(
        json.loads(json.dumps(encoder.encode(value, "v")))
    )
    assert math.isnan(decoded["nan"])
    assert (
        decoded["scalar"] == np.float32(1.5) and type(decoded["scalar"]) is np.float32
    )
    assert decoded["dtype"] == np.dtype("int16")


def test_empty_arrays_round_trip_through_a_file(tmp_path):
    # torch views an empty numpy array with stride 0, which safetensors refused
    scaler = StandardScaler().fit([[0.0], [2.0]])
    scaler.empty_ints_ = np.empty(0, dtype=np.int64)
    scaler.empty_rows_ = np.empty((0, 3))
    restored = skpref.load(skpref.save(scaler, tmp_path / "scaler.safetensors"))
    assert restored.empty_ints_.dtype == np.int64
    assert restored.empty_rows_.shape == (0, 3)


def test_scikit_learn_fits_load_back_predicting_exactly(tmp_path):
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import KBinsDiscretizer

    X = np.random.default_rng(0).normal(size=(50, 8))
    # PCA's components_ are column-major: products round by the layout
    pca = PCA(n_components=3).fit(X)
    restored = skpref.load(skpref.save(pca, tmp_path / "pca.safetensors"))
    assert restored.components_.flags.f_contiguous
    assert_array_equal(restored.transform(X), pca.transform(X))
    # bin_edges_ is an object array of equal-length arrays
    bins = KBinsDiscretizer(n_bins=3, encode="ordinal").fit(X[:, :4])
    restored = skpref.load(skpref.save(bins, tmp_path / "bins.safetensors"))
    assert restored.bin_edges_.shape == (4,) and restored.bin_edges_.dtype == object
    assert_array_equal(restored.transform(X[:, :4]), bins.transform(X[:, :4]))


# -- bad files and bad objects ------------------------------------------------------


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(
        FileNotFoundError, match="there is no file .*nothing.safetensors"
    ):
        skpref.load(tmp_path / "nothing.safetensors")


def test_a_folder_or_a_missing_parent_is_rejected_by_save(fitted_btl, tmp_path):
    with pytest.raises(ValueError, match="needs a file path; .* is a folder"):
        skpref.save(fitted_btl, tmp_path)
    with pytest.raises(FileNotFoundError, match="the folder .*absent does not exist"):
        skpref.save(fitted_btl, tmp_path / "absent" / "m.safetensors")


def test_saving_something_else_than_an_estimator_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="saves scikit-learn estimators .*got a dict"):
        skpref.save({"a": 1}, tmp_path / "d.safetensors")


def test_an_unstorable_attribute_is_named(latent, tmp_path):
    pipe = Pipeline([("squash", FunctionTransformer(np.tanh))]).fit(latent.X)
    with pytest.raises(
        TypeError, match=r"cannot store .*FunctionTransformer\)\.params\['func'\]"
    ):
        skpref.save(pipe, tmp_path / "p.safetensors")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda raw: raw[: len(raw) // 2], "at tensors: safetensors cannot read"),
        (lambda raw: b"garbage" * 10, "at header: a header of .* in a file of 70"),
        (lambda raw: raw[:-1] + bytes([raw[-1] ^ 0xFF]), "at digest: the content"),
    ],
)
def test_a_corrupt_file_is_a_clear_error(fitted_btl, tmp_path, damage, match):
    path = fitted_btl.save(tmp_path / "m.safetensors")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=match):
        skpref.load(path)


def test_a_plain_safetensors_file_is_not_taken_for_a_model(tmp_path):
    path = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="without the skpref header, not one"):
        skpref.load(path)


def test_another_version_is_refused_unless_asked(fitted_btl, latent, tmp_path):
    tree, tensors = saved_tree(fitted_btl.save(tmp_path / "m.safetensors"))
    path = forge(tmp_path / "old.safetensors", tree, tensors, skpref_version="0.0.1")
    with pytest.raises(
        ValueError, match="saved with skpref 0.0.1 .* check_version=False"
    ):
        skpref.load(path)
    restored = skpref.load(path, check_version=False)
    assert_array_equal(restored.predict(latent.X), fitted_btl.predict(latent.X))
    newer = forge(tmp_path / "new.safetensors", tree, tensors, format_version="3")
    with pytest.raises(ValueError, match="newer file format; upgrade skpref"):
        skpref.load(newer)


@pytest.mark.parametrize(
    "name, match",
    [
        ("os:system", "the class os:system is refused: it is not an estimator"),
        ("sklearn.utils:Bunch", "the class sklearn.utils:Bunch is refused"),
        ("sklearn.__init__:BaseEstimator", "class sklearn.__init__:BaseEstimator is"),
        ("skpref.models:NoSuchModel", "the class skpref.models:NoSuchModel is re"),
    ],
)
def test_classes_outside_the_allow_list_are_refused(tmp_path, name, match):
    tree = {
        "__estimator__": name,
        "params": {"__dict__": {}},
        "attributes": {"__dict__": {}},
        "torch": {},
        "requests": {},
    }
    with pytest.raises(ValueError, match=match):
        skpref.load(forge(tmp_path / "f.safetensors", tree))


def test_weights_that_do_not_fit_the_parameters_are_refused(fitted_btl, tmp_path):
    tree, tensors = saved_tree(fitted_btl.save(tmp_path / "m.safetensors"))
    tree["params"]["__dict__"]["hidden_dim"] = 8
    with pytest.raises(
        ValueError, match=r"saved weight 'encoder.0.weight' has shape \(32, 8\)"
    ):
        skpref.load(forge(tmp_path / "edited.safetensors", tree, tensors))
    del tree["torch"]["net_"]["head.bias"]
    tree["params"]["__dict__"]["hidden_dim"] = 32
    with pytest.raises(ValueError, match=r"missing \['head.bias'\]"):
        skpref.load(forge(tmp_path / "cut.safetensors", tree, tensors))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_a_model_saved_for_cuda_loads_here_only_when_asked(
    fitted_btl, latent, tmp_path
):
    tree, tensors = saved_tree(fitted_btl.save(tmp_path / "m.safetensors"))
    tree["params"]["__dict__"]["device"] = "cuda"
    path = forge(tmp_path / "cuda.safetensors", tree, tensors)
    with pytest.raises(ValueError, match="device='cuda' but .* pass device='auto'"):
        skpref.load(path)
    restored = skpref.load(path, device="cpu")
    assert_array_equal(restored.predict(latent.X), fitted_btl.predict(latent.X))
