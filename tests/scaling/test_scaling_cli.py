"""``skpref embed`` and ``skpref reproduce --workers``: the command line on Dask."""

import io
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from skpref import LLMEmbeddingTransformer
from skpref._cli import main
from skpref.distributed import embed_corpus

TINY = (
    "--n-train 200 --n-test 100 --width 8 --epochs 2 --lr 0.01 --no-progress "
    "--device cpu --rhos 0.5 1.0 --seeds 2"
).split()


@pytest.fixture
def texts_file(tmp_path):
    path = tmp_path / "texts.jsonl"
    frame = pd.DataFrame(
        {
            "prompt": [f"Question {i}?" for i in range(12)],
            "completion": [
                f"Answer number {i} " + "and more " * (i % 5) for i in range(12)
            ],
        }
    )
    frame.to_json(path, orient="records", lines=True)
    return path, frame


def embed_argv(path, model, cache, *extra):
    return [
        "embed", str(path), "--column", "completion", "--prompt-column", "prompt",
        "--embedding-model", str(model), "--embedding-cache", str(cache),
        "--dtype", "float32", "--device", "cpu", "--no-progress", *extra,
    ]  # fmt: skip


def test_embed_fills_the_cache_and_saves_the_vectors(tiny_models, texts_file, tmp_path):
    path, frame = texts_file
    model, cache = tiny_models["bert"], tmp_path / "cache"
    out = io.StringIO()
    argv = embed_argv(path, model, cache, "--shard-size", "5", "--output")
    assert main([*argv, str(tmp_path / "v.npy")], out=out) == 0
    assert "12 texts (12 unique) in 3 shards: 12 computed, 0 already cached" in (
        out.getvalue()
    )
    embedder = LLMEmbeddingTransformer(
        model_name_or_path=model, dtype="float32", device="cpu", cache_dir=cache,
        max_length=256,
    )  # fmt: skip
    expected = embed_corpus(
        frame, embedder, column="completion", prompt_column="prompt", shard_size=5,
        progress_bar=False,
    )  # fmt: skip
    assert expected.n_computed == 0  # the command's cache served every text
    np.testing.assert_array_equal(np.load(tmp_path / "v.npy"), expected.vectors)
    again = io.StringIO()
    assert main(embed_argv(path, model, cache), out=again) == 0
    assert "0 computed, 12 already cached" in again.getvalue()


def test_embed_errors_stop_through_argparse(
    tiny_models, texts_file, tmp_path, cli_error
):
    path, _ = texts_file
    model = tiny_models["bert"]
    err = cli_error(
        embed_argv(path, model, tmp_path, "--output", "v.txt"), command="embed"
    )
    assert "expected a .npy file; got 'v.txt'. Did you mean 'v.npy'?" in err
    folder = tmp_path / "vectors.npy"
    folder.mkdir()
    err = cli_error(
        embed_argv(path, model, tmp_path / "c", "--output", str(folder)),
        command="embed",
    )
    assert f"{str(folder)!r} is a folder; expected a .npy file" in err
    assert not (tmp_path / "c").exists()  # refused before any work
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    err = cli_error(
        embed_argv(path, model, tmp_path, "--output", str(blocked / "v.npy")),
        command="embed",
    )
    assert "argument --output: cannot write to" in err
    bad_column = embed_argv(path, model, tmp_path)
    bad_column[bad_column.index("completion")] = "completoin"
    err = cli_error(bad_column, command="embed")
    assert "column='completoin' is not a column" in err and "'completion'?" in err
    err = cli_error(
        embed_argv(tmp_path / "none.jsonl", model, tmp_path), command="embed"
    )
    assert "no such file" in err
    both = ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]
    err = cli_error(embed_argv(path, model, tmp_path, *both), command="embed")
    assert "not allowed with argument" in err


def test_a_missing_extra_is_named(
    monkeypatch, tmp_path, cli_error, tiny_models, capsys
):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    # in this process, the corpus embedding and `skpref embed` need no Dask
    embedder = LLMEmbeddingTransformer(
        model_name_or_path=tiny_models["bert"], cache_dir=tmp_path, device="cpu"
    )
    assert embed_corpus(["a", "b"], embedder, progress_bar=False).n_computed == 2
    capsys.readouterr()  # transformers' loading bar
    argv = ["reproduce", "confounding", "--workers", "2", "--output", str(tmp_path)]
    err = cli_error(argv, command="reproduce")
    assert "pip install 'skpref[distributed]'" in err
    from skpref.distributed import DaskExecutor, dask_client

    with pytest.raises(ModuleNotFoundError, match=r"skpref\[distributed\]"):
        DaskExecutor(object())([], None)
    with pytest.raises(ModuleNotFoundError, match=r"skpref\[distributed\]"):
        with dask_client(n_workers=1):
            pass


@pytest.mark.slow
def test_reproduce_on_workers_writes_the_local_numbers(tmp_path):
    pytest.importorskip("distributed")
    runs = {}
    for name, extra in {"local": [], "cluster": ["--workers", "2"]}.items():
        output = tmp_path / name
        argv = ["reproduce", "confounding", *TINY, "--output", str(output), *extra]
        assert main(argv, out=io.StringIO()) == 0
        runs[name] = pd.read_csv(output / "confounding_runs.csv")
        tables = (output / "confounding.md").read_text()
        runs[name + " tables"] = tables
    columns = [c for c in runs["local"].columns if c != "fit_seconds"]
    pd.testing.assert_frame_equal(runs["cluster"][columns], runs["local"][columns])
    assert runs["cluster tables"] == runs["local tables"]


@pytest.mark.slow
def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, cli_error):
    pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        argv = ["reproduce", "confounding", "--scheduler", "tcp://127.0.0.1:9",
                "--output", str(tmp_path)]  # fmt: skip
        err = cli_error(argv, command="reproduce")
    assert "cannot reach the Dask scheduler 'tcp://127.0.0.1:9'" in err


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_gpu_for_the_workers_is_not_checked_on_this_machine(tmp_path, cli_error):
    # the workers of a --scheduler cluster may have the GPU this machine lacks:
    # the command goes on to reach the scheduler instead of refusing --device
    pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        argv = ["reproduce", "confounding", "--device", "cuda", "--scheduler",
                "tcp://127.0.0.1:9", "--output", str(tmp_path)]  # fmt: skip
        err = cli_error(argv, command="reproduce")
    assert "cannot reach the Dask scheduler" in err
    assert "argument --device" not in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("workers", [[], ["--workers", "2"]])
def test_a_gpu_this_machine_lacks_is_refused_for_work_here(
    tmp_path, cli_error, workers
):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"text": "Hi"}\n', encoding="utf-8")
    argv = ["embed", str(corpus), "--column", "text", "--device", "cuda", *workers]
    err = cli_error(argv, command="embed")
    assert "argument --device: skpref: --device='cuda' but" in err
