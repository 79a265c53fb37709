"""Benchmark LLMEmbeddingTransformer against sentence-transformers and a bare loop.

One model object, loaded or built once, is embedded over the same real texts
(whole HH-RLHF test dialogues, ``chosen`` and ``rejected``) by:

- skpref's defaults (``batch_size``, ``max_batch_tokens`` and ``padding_free``
  all ``"auto"``), and skpref with ``padding_free`` set the other way;
- sentence-transformers ``encode`` (batch size 32) wrapping the same model;
- a bare length-sorted transformers loop (same model, no cache,
  ``inference_mode``, results copied back once at the end).

Rounds alternate the tools so that other load hits them alike; each figure is a
median. Then a cold pass into an empty cache and a fully cached pass are timed.
FLOPs are counted as 2 x (parameters outside the input embedding) x tokens, and
compared with the device's dense peak in the model's dtype, measured in the same
run with a large matmul. A short table comes last; ``--out`` also gets a JSON
file of every figure.

Model shapes: ``minilm`` (the offline all-MiniLM-L6-v2: mean pooling,
normalised, the settings of the reference-vector test), ``llama-3-8b`` (random
weights in the paper's embedder's shape, bf16 on a GPU, last-token pooling),
``llama-1b`` and ``tiny`` (a CPU smoke test).

Run::

    python benchmarks/bench_embeddings.py --device cpu          # MiniLM, 200 texts
    python benchmarks/bench_embeddings.py --device cuda --model-shape llama-3-8b \\
        --data-home .gpu-data --out $OUT                        # 1200 texts
    python benchmarks/bench_embeddings.py --device cpu --model-shape tiny \\
        --texts 64 --rounds 1                                   # smoke test

Not a test: it prints figures and asserts nothing.
"""

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from embedding_models import bare_loop, build_model, load_texts, sentence_transformer

from skpref.embeddings import LLMEmbeddingTransformer, _loading, _packing, _run
from skpref.embeddings._batching import resolve_batch_limits
from skpref.utils import resolve_device


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--model-shape",
        default="minilm",
        choices=["minilm", "llama-3-8b", "llama-1b", "tiny"],
    )
    parser.add_argument("--dtype", default="auto")
    parser.add_argument(
        "--data-home",
        default=os.environ.get(
            "SKPREF_DATA_HOME", Path(__file__).resolve().parents[2] / "shared" / "data"
        ),
    )
    parser.add_argument("--texts", type=int, default=None, help="1200 GPU, 200 CPU")
    parser.add_argument("--max-length", type=int, default=None, help="512; 256 MiniLM")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bare-batch", type=int, default=None, help="64 GPU, 32 CPU")
    parser.add_argument("--out", default=None, help="folder for the JSON figures")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    return parser.parse_args()


def synchronize(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def dense_peak(device, dtype):
    """FLOP/s of a large square matmul in ``dtype`` on ``device``."""
    n = 8192 if device.startswith("cuda") else 1024
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    repeats = 20 if device.startswith("cuda") else 3
    a @ b
    synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    synchronize(device)
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def cosine(x, y):
    return (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))


class Setup:
    """The model, texts and settings shared by every tool."""

    def __init__(self, args):
        self.device = resolve_device(args.device, owner="bench")
        self.dtype = _loading.resolve_dtype(args.dtype, self.device)
        gpu = self.device.startswith("cuda")
        self.shape = args.model_shape
        self.minilm = self.shape == "minilm"
        self.max_length = args.max_length or (256 if self.minilm else 512)
        self.pooling = "mean" if self.minilm else "last"
        self.normalize = self.minilm
        self.bare_batch = args.bare_batch or (64 if gpu else 32)
        self.tmp = tempfile.TemporaryDirectory()
        folder = Path(self.tmp.name) / "model"
        self.tokenizer, self.model, self.folder, self.build_seconds = build_model(
            self.shape,
            folder,
            data_home=args.data_home,
            device=self.device,
            dtype=self.dtype,
        )
        self.texts = load_texts(args.data_home, args.texts or (1200 if gpu else 200))
        half = len(self.texts) // 2
        self.frame = pd.DataFrame(
            {"a": self.texts[:half], "b": self.texts[half : 2 * half]}
        )
        self.texts = self.texts[: 2 * half]
        self.tokenizer.truncation_side = "left"
        ids = self.tokenizer(self.texts, truncation=True, max_length=self.max_length)
        self.tokens = sum(len(i) for i in ids["input_ids"])
        embedding = self.model.get_input_embeddings().weight.numel()
        self.params = sum(p.numel() for p in self.model.parameters()) - embedding

    def embedder(self, **params):
        embed = LLMEmbeddingTransformer(
            model_name_or_path=str(self.folder),
            prompt_column=None,
            response_a_column="a",
            response_b_column="b",
            objective_column=None,
            pooling=self.pooling,
            normalize=self.normalize,
            max_length=self.max_length,
            dtype=self.dtype,
            device=self.device,
            progress_bar=False,
            **{"cache_dir": None, **params},
        )
        # skpref runs this very model object instead of loading the folder
        _loading.keep_loaded(
            _run.model_source(embed),
            self.tokenizer,
            self.model,
            dtype=self.dtype,
            device=self.device,
        )
        return embed

    def skpref(self, frame, **params):
        X = self.embedder(**params).fit_transform(frame)
        d = X.shape[1] // 2
        return np.vstack([X[:, :d], X[:, d:]])


def tools(setup):
    """The embedders to compare, each a function of a list of texts."""
    auto = _packing.padding_free_by_default(setup.device)

    def frame_of(texts):
        half = len(texts) // 2
        return pd.DataFrame({"a": texts[:half], "b": texts[half : 2 * half]})

    runners = {
        "skpref": lambda texts: setup.skpref(frame_of(texts)),
        f"skpref padding_free={not auto}": lambda texts: setup.skpref(
            frame_of(texts), padding_free=not auto
        ),
        "bare loop": lambda texts: bare_loop(
            setup.model,
            setup.tokenizer,
            texts,
            pooling=setup.pooling,
            normalize=setup.normalize,
            max_length=setup.max_length,
            batch_size=setup.bare_batch,
            device=setup.device,
        ),
    }
    try:
        st = sentence_transformer(
            setup.model,
            setup.tokenizer,
            Path(setup.tmp.name) / "st-shell",
            pooling=setup.pooling,
            normalize=setup.normalize,
            device=setup.device,
            max_length=setup.max_length,
        )
    except Exception as exc:  # noqa: BLE001 - report the other figures anyway
        print(f"sentence-transformers left out: {exc!r}", flush=True)
        return runners

    def encode(texts):
        vectors = st.encode(texts, batch_size=32, convert_to_tensor=True)
        return vectors.float().cpu().numpy()

    runners["sentence-transformers"] = encode
    return runners


def warm_up(runners, texts):
    """First-call overheads out of the timings; a tool that fails is left out."""
    for name, run in list(runners.items()):
        try:
            run(texts)
        except Exception as exc:  # noqa: BLE001 - report the other figures anyway
            if name == "bare loop":  # the reference of every ratio
                raise
            print(f"{name} left out: {exc!r}", flush=True)
            del runners[name]


def measure(setup, runners, rounds):
    """Median seconds and the last vectors of each tool, rounds interleaved."""
    times = {name: [] for name in runners}
    vectors = {}
    for round_ in range(rounds):
        for name, run in runners.items():
            synchronize(setup.device)
            start = time.perf_counter()
            vectors[name] = run(setup.texts)
            times[name].append(time.perf_counter() - start)
        print(
            f"round {round_}: "
            + ", ".join(f"{name} {t[-1]:.2f} s" for name, t in times.items()),
            flush=True,
        )
    return {name: statistics.median(t) for name, t in times.items()}, vectors


def tool_rows(setup, seconds, vectors, peak):
    rows = {}
    reference = seconds.get("sentence-transformers")
    for name, took in seconds.items():
        rows[name] = {
            "seconds": took,
            "tokens_per_s": setup.tokens / took,
            "fraction_of_peak": 2 * setup.params * setup.tokens / took / peak,
            "vs_sentence_transformers": reference / took if reference else None,
            "vs_bare_loop": seconds["bare loop"] / took,
            "min_cosine_to_bare_loop": float(
                cosine(vectors[name], vectors["bare loop"]).min()
            ),
        }
    return rows


def cache_passes(setup):
    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        cold = setup.embedder(cache_dir=cache_dir).fit_transform(setup.frame)
        cold_seconds = time.perf_counter() - start
        warm_times = []
        for _ in range(3):
            start = time.perf_counter()
            embed = setup.embedder(cache_dir=cache_dir)
            _loading.clear_loaded_models()  # a re-run: no model in memory
            warm = embed.fit_transform(setup.frame)
            warm_times.append(time.perf_counter() - start)
        assert np.array_equal(cold, warm)
    return cold_seconds, statistics.median(warm_times)


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    setup = Setup(args)
    limits = resolve_batch_limits(
        "auto",
        "auto",
        model=setup.model,
        device=setup.device,
        max_length=setup.max_length,
        packed=_packing.padding_free_by_default(setup.device),
    )
    device_name = (
        torch.cuda.get_device_name(setup.device)
        if setup.device.startswith("cuda")
        else f"{platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads"
    )
    print(
        f"{setup.shape} ({setup.params / 1e9:.3f} B parameters outside the input "
        f"embedding, {setup.dtype}) on {setup.device} ({device_name}), built in "
        f"{setup.build_seconds:.1f} s; {len(setup.texts)} texts, {setup.tokens} "
        f"tokens at max_length {setup.max_length}; skpref auto sizes: "
        f"{limits.batch_size} texts, {limits.max_batch_tokens} tokens, "
        f"padding_free={_packing.padding_free_by_default(setup.device)}",
        flush=True,
    )
    runners = tools(setup)
    warm_up(runners, setup.texts[:16])
    seconds, vectors = measure(setup, runners, args.rounds)
    cold, warm = cache_passes(setup)
    peak = dense_peak(setup.device, getattr(torch, setup.dtype))
    rows = tool_rows(setup, seconds, vectors, peak)
    figures = {
        "model_shape": setup.shape,
        "device": setup.device,
        "device_name": device_name,
        "dtype": setup.dtype,
        "parameters_outside_input_embedding": setup.params,
        "texts": len(setup.texts),
        "tokens": setup.tokens,
        "max_length": setup.max_length,
        "rounds": args.rounds,
        "auto_batch_size": limits.batch_size,
        "auto_max_batch_tokens": limits.max_batch_tokens,
        "padding_free_auto": _packing.padding_free_by_default(setup.device),
        "model_build_seconds": setup.build_seconds,
        "dense_peak_flops": peak,
        "cold_cached_pass_seconds": cold,
        "fully_cached_pass_seconds": warm,
        "tools": rows,
        "versions": {
            "torch": torch.__version__,
            "transformers": __import__("transformers").__version__,
            "sentence_transformers": __import__("sentence_transformers").__version__,
        },
    }
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"bench_embeddings-{setup.shape}-{setup.device.split(':')[0]}.json"
        path.write_text(json.dumps(figures, indent=2))
        print(f"figures written to {path}")
    print(
        f"\ncached: cold pass {cold:.2f} s, fully cached pass {warm * 1000:.1f} ms "
        f"({cold / warm:.0f}x); dense {setup.dtype} peak {peak / 1e12:.1f} TFLOP/s"
    )
    print(
        f"{'tool':<30}{'tokens/s':>11}{'x s-t':>8}{'x bare':>8}{'peak':>7}"
        f"{'min cos':>10}"
    )
    for name, row in rows.items():
        versus_st = row["vs_sentence_transformers"]
        print(
            f"{name:<30}{row['tokens_per_s']:>11.0f}"
            + (f"{versus_st:>8.2f}" if versus_st else f"{'n/a':>8}")
            + f"{row['vs_bare_loop']:>8.2f}{row['fraction_of_peak']:>7.2f}"
            f"{row['min_cosine_to_bare_loop']:>10.6f}"
        )


if __name__ == "__main__":
    main()
