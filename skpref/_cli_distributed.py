"""The command line on a Dask cluster: ``--scheduler``/``--workers`` and ``embed``.

``skpref reproduce ... --workers N`` (or ``--scheduler ADDRESS``) runs the fit
groups on a cluster; ``skpref embed FILE --column C`` embeds a column of texts in
shards into the embedding cache, on a cluster or in this process.
"""

import contextlib
import tempfile
import time
from pathlib import Path

from skpref._cli_args import COUNT, device, torch_threads

__all__ = ["add_cluster_options", "add_embed_command", "cluster_executor", "embed"]


def add_cluster_options(parser):
    """Add ``--scheduler`` and ``--workers`` (one or the other) to a command."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster whose scheduler is at ADDRESS "
        "(tcp://host:8786); needs skpref[distributed]",
    )
    group.add_argument(
        "--workers",
        type=COUNT,
        metavar="N",
        help="run on a local Dask cluster of N worker processes, one GPU each "
        "where there are GPUs; needs skpref[distributed]",
    )


@contextlib.contextmanager
def cluster_client(args):
    """Yield a Dask client for ``--scheduler``/``--workers``, or None without them.

    The workers run ``--threads`` torch threads each. A missing extra or an
    unreachable scheduler stops through argparse, before any work.
    """
    if args.scheduler is None and args.workers is None:
        yield None
        return
    from skpref.distributed import dask_client

    parser = args.command_parser
    flag = "--scheduler" if args.scheduler is not None else "--workers"
    with contextlib.ExitStack() as stack:
        try:
            client = stack.enter_context(
                dask_client(
                    args.scheduler, n_workers=args.workers, torch_threads=args.threads
                )
            )
        except ModuleNotFoundError as err:  # the extra is missing
            parser.error(f"argument {flag}: {err}")
        except OSError as err:  # distributed: no scheduler at that address
            what = (
                f"cannot reach the Dask scheduler {args.scheduler!r} ({err}). Start "
                "one (`dask scheduler`) or check the address."
                if args.scheduler is not None
                else f"cannot start a local Dask cluster ({err})."
            )
            parser.error(f"argument {flag}: {what}")
        yield client


@contextlib.contextmanager
def cluster_executor(args):
    """Yield the runner's executor for ``--scheduler``/``--workers``, or None."""
    with cluster_client(args) as client:
        if client is None:
            yield None
        else:
            from skpref.distributed import DaskExecutor

            yield DaskExecutor(client)


def add_embed_command(commands):
    """Add the ``embed`` command to the ``skpref`` sub-commands."""
    embed_parser = commands.add_parser(
        "embed",
        help="embed a column of texts into the embedding cache, in shards, "
        "here or on a Dask cluster",
    )
    add = embed_parser.add_argument
    add("data", metavar="FILE", help="a .jsonl, .csv, .tsv or .parquet file")
    add("--column", required=True, help="the column of texts to embed")
    add(
        "--prompt-column",
        metavar="COLUMN",
        help="a column of prompts, each embedded with its text (as a text "
        "pipeline's pairs are)",
    )
    add(
        "--embedding-model",
        metavar="PATH",
        help="model folder, .gguf file or Hub id (default: the offline "
        "all-MiniLM-L6-v2)",
    )
    add(
        "--embedding-cache",
        metavar="DIR",
        default="auto",
        help="cache folder, shared by every worker (default: skpref's default "
        "cache, $SKPREF_CACHE_DIR/embeddings or ~/.cache/skpref/embeddings)",
    )
    add("--max-length", type=COUNT, default=256, metavar="N", help="default 256")
    add("--batch-size", type=COUNT, default=32, metavar="N", help="default 32")
    add(
        "--dtype",
        choices=["auto", "float32", "bfloat16", "float16"],
        default="auto",
        help="dtype the model runs in (default auto: bfloat16 where native)",
    )
    add(
        "--device",
        type=device,
        default="auto",
        help="torch device of each worker: auto, cpu, cuda ... (default auto)",
    )
    add("--shard-size", type=COUNT, default=1024, metavar="N", help="default 1024")
    add_cluster_options(embed_parser)
    add(
        "--threads",
        type=COUNT,
        default=1,
        metavar="T",
        help="torch CPU threads of each process that embeds (default 1)",
    )
    add("--output", metavar="FILE.npy", help="also save the vectors in this file")
    add("--no-progress", action="store_true", help="hide the progress bar")
    embed_parser.set_defaults(command_parser=embed_parser)


def _check_vectors_file(parser, output):
    """Refuse an --output the vectors could not be written to, before any work."""
    if output.is_dir():
        parser.error(
            f"argument --output: {str(output)!r} is a folder; expected a .npy file, "
            f"e.g. {str(output / 'vectors.npy')!r}."
        )
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=output.parent):
            pass
    except OSError as err:
        parser.error(
            f"argument --output: cannot write to {str(output.parent)!r} "
            f"({err.strerror or err}); choose a writable folder."
        )


def embed(args, out):
    """Run ``skpref embed``; print what was done; return the exit status."""
    from skpref.distributed import embed_corpus
    from skpref.experiments import default_embedder

    parser = args.command_parser
    output = None if args.output is None else Path(args.output).expanduser()
    if output is not None and output.suffix != ".npy":
        parser.error(
            f"argument --output: expected a .npy file; got {args.output!r}. "
            f"Did you mean {str(output.with_suffix('.npy'))!r}?"
        )
    if output is not None:
        _check_vectors_file(parser, output)
    start = time.perf_counter()
    try:
        embedder = default_embedder(
            args.embedding_model,
            max_length=args.max_length,
            batch_size=args.batch_size,
            cache_dir=args.embedding_cache,
        ).set_params(dtype=args.dtype, device=args.device)
        with cluster_client(args) as client, torch_threads(args.threads):
            result = embed_corpus(
                args.data,
                embedder,
                column=args.column,
                prompt_column=args.prompt_column,
                client=client,
                shard_size=args.shard_size,
                return_vectors=output is not None,
                progress_bar=not args.no_progress,
            )
    except (ValueError, OSError, ModuleNotFoundError) as err:
        parser.error(str(err))
    if output is not None:
        import numpy as np

        output.parent.mkdir(parents=True, exist_ok=True)
        np.save(output, result.vectors)
    print(
        f"embedded {result.n_texts} texts ({result.n_unique} unique) in "
        f"{result.n_shards} shards: {result.n_computed} computed, "
        f"{result.n_unique - result.n_computed} already cached; "
        f"{time.perf_counter() - start:.1f} s",
        file=out,
    )
    print(f"cache: {result.cache}", file=out)
    if output is not None:
        print(f"vectors: {output}", file=out)
    return 0
