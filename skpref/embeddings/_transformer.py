"""LLMEmbeddingTransformer: preference pairs of text to ``[a | b | objective]``."""

import os
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from skpref.embeddings import _inputs, _loading
from skpref.embeddings._cache import (
    FORMAT_VERSION,
    CacheWriter,
    EmbeddingCache,
    default_cache_dir,
    text_key,
)
from skpref.embeddings._encode import embed_token_ids
from skpref.utils._device import resolve_device
from skpref.utils._validation import Interval, StrOptions, _fit_context

_OWNER = _inputs.OWNER
_PROGRESS_MIN_TEXTS = 1000


class LLMEmbeddingTransformer(TransformerMixin, BaseEstimator):
    r"""Embed preference pairs of text with a frozen Hugging Face model.

    Each row of a DataFrame holds a prompt ``x`` and two responses ``a`` and
    ``b``; the output row is ``[e(x, a) | e(x, b) | c]``, the pair contract of
    :ref:`data_format`, where ``e`` is one embedding per prompt-response pair and
    ``c`` the objective id passed through from the objective column. The paper
    embeds pairs with the final layer of Llama-3-8B at the last token (Section 6).

    Every vector is cached on disk, keyed by the model and everything else that
    changes it, so cross-validation folds and re-runs never embed a text twice.
    See :doc:`/embeddings` for the pooling, truncation and chat-template rules and
    the cache guarantees.

    Parameters
    ----------
    model_name_or_path : str, default="sentence-transformers/all-MiniLM-L6-v2"
        A local folder (str or path-like) written by ``save_pretrained``, a
        ``.gguf`` file, or a
        Hugging Face model id (downloaded on first use, never at construction).
    revision : str or None, default=None
        Branch, tag or commit of a Hub model; ignored for a local folder.
    gguf_file : str or None, default=None
        Name of a GGUF file inside ``model_name_or_path`` (needs ``gguf``).
    pooling : {"auto", "mean", "last", "cls"}, default="auto"
        ``"last"``: the final hidden state at the last non-padding token (decoder
        LMs, as the paper); ``"mean"``: average over real tokens (encoders);
        ``"cls"``: the first token. ``"auto"`` is ``"last"`` for decoder models and
        ``"mean"`` otherwise.
    normalize : bool, default=False
        Scale each embedding to unit L2 norm.
    max_length : int, default=512
        Longest input in tokens; longer inputs are truncated.
    truncation_side : {"left", "right"}, default="left"
        ``"left"`` drops the beginning of a long text so the response is kept.
    prompt_column : str or None, default="prompt"
        Column of prompts. None embeds each response text alone, exactly as given
        (e.g. whole dialogues).
    response_a_column, response_b_column : str, default="response_a", "response_b"
        Columns of the two responses.
    objective_column : str or None, default="objective"
        Column passed through as the last output column (the objective id); None
        for single-objective data. Integer ids pass as they are; strings are mapped
        to their position in ``objective_categories``.
    objective_categories : array-like of str or None, default=None
        Order of string objectives (id ``k`` is ``objective_categories[k]``); None
        sorts the values seen in ``fit``.
    text_template : str, default="{prompt}\n\n{response}"
        How a prompt and a response become one text when no chat template is used.
    chat_template : "auto" or bool, default="auto"
        Use the tokenizer's chat template (``[user: prompt, assistant: response]``).
        ``"auto"``: for decoder models whose tokenizer has one.
    batch_size : int, default=32
        Most texts per forward pass.
    max_batch_tokens : int, default=8192
        Most tokens (padding included) per forward pass.
    dtype : {"auto", "float32", "bfloat16", "float16"}, default="auto"
        Dtype the model runs in; ``"auto"`` is bfloat16 on hardware with native
        support, float32 otherwise. The output is float32 whatever the dtype.
    device : str, default="auto"
        Torch device; ``"auto"`` picks CUDA, then MPS, then the CPU.
    cache_dir : str, path-like or None, default="auto"
        Cache folder; ``"auto"`` is ``$SKPREF_CACHE_DIR/embeddings`` or
        ``~/.cache/skpref/embeddings``; None disables the cache.
    local_files_only : bool, default=False
        Never use the network (also implied by ``HF_HUB_OFFLINE=1``).
    trust_remote_code : bool, default=False
        Allow model code from the Hub to run.
    progress_bar : "auto" or bool, default="auto"
        Show a progress bar; ``"auto"`` shows one when at least 1000 texts need
        embedding.

    Attributes
    ----------
    embedding_dim_ : int
        Dimension ``d`` of one embedding; the output has ``2 * d`` columns, plus
        the objective column.
    objective_categories_ : ndarray of str or None
        String objectives in id order, or None for integer ids or no objective.
    n_features_in_ : int
        Number of columns of the DataFrame seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``.

    See Also
    --------
    skpref.MultiheadRewardModel : A reward model that takes this output.

    Notes
    -----
    Nothing is loaded at construction. ``fit`` reads the model configuration (or
    the cache) for ``d``; the weights are loaded on the first ``transform`` that
    has texts missing from the cache, once per process.

    References
    ----------
    .. [1] Kobalczyk, K. and van der Schaar, M. "Preference Learning for AI
       Alignment: a Causal Perspective", ICML 2025.

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.embeddings import LLMEmbeddingTransformer
    >>> pairs = pd.DataFrame({"prompt": ["Hi"], "response_a": ["Hello!"],
    ...                       "response_b": ["Go away."], "objective": [1]})
    >>> embed = LLMEmbeddingTransformer(model_name_or_path="/models/minilm",
    ...                                 cache_dir=None)
    >>> embed.get_params()["pooling"]
    'auto'
    >>> X = embed.fit_transform(pairs)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (1, 769)
    """

    _parameter_constraints = {
        "model_name_or_path": [str, os.PathLike],
        "revision": [str, None],
        "gguf_file": [str, None],
        "pooling": [StrOptions({"auto", "mean", "last", "cls"})],
        "normalize": ["boolean"],
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "truncation_side": [StrOptions({"left", "right"})],
        "prompt_column": [str, None],
        "response_a_column": [str],
        "response_b_column": [str],
        "objective_column": [str, None],
        "objective_categories": ["array-like", None],
        "text_template": [str],
        "chat_template": [StrOptions({"auto"}), "boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_batch_tokens": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"auto", "float32", "bfloat16", "float16"})],
        "device": [str],
        "cache_dir": [str, os.PathLike, None],
        "local_files_only": ["boolean"],
        "trust_remote_code": ["boolean"],
        "progress_bar": [StrOptions({"auto"}), "boolean"],
    }

    def __init__(
        self,
        *,
        model_name_or_path="sentence-transformers/all-MiniLM-L6-v2",
        revision=None,
        gguf_file=None,
        pooling="auto",
        normalize=False,
        max_length=512,
        truncation_side="left",
        prompt_column="prompt",
        response_a_column="response_a",
        response_b_column="response_b",
        objective_column="objective",
        objective_categories=None,
        text_template="{prompt}\n\n{response}",
        chat_template="auto",
        batch_size=32,
        max_batch_tokens=8192,
        dtype="auto",
        device="auto",
        cache_dir="auto",
        local_files_only=False,
        trust_remote_code=False,
        progress_bar="auto",
    ):
        self.model_name_or_path = model_name_or_path
        self.revision = revision
        self.gguf_file = gguf_file
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self.truncation_side = truncation_side
        self.prompt_column = prompt_column
        self.response_a_column = response_a_column
        self.response_b_column = response_b_column
        self.objective_column = objective_column
        self.objective_categories = objective_categories
        self.text_template = text_template
        self.chat_template = chat_template
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.dtype = dtype
        self.device = device
        self.cache_dir = cache_dir
        self.local_files_only = local_files_only
        self.trust_remote_code = trust_remote_code
        self.progress_bar = progress_bar

    # ------------------------------------------------------------------ input
    def _text_columns(self):
        return _inputs.text_columns(
            self.prompt_column, self.response_a_column, self.response_b_column
        )

    def _check_frame(self, X):
        _inputs.check_frame(X, self._text_columns(), self.objective_column)

    def _objective_ids(self, values):
        return _inputs.objective_ids(
            values, self.objective_categories_, self.objective_column
        )

    # ------------------------------------------------------------- settings
    def _source(self):
        return _loading.model_source(
            self.model_name_or_path, self.gguf_file, self.revision, _OWNER
        )

    def _runtime(self):
        device = resolve_device(self.device, owner=_OWNER)
        return device, _loading.resolve_dtype(self.dtype, device)

    def _cache(self, source, dtype):
        if self.cache_dir is None:
            return None
        root = default_cache_dir() if self.cache_dir == "auto" else self.cache_dir
        settings = {
            "format": FORMAT_VERSION,
            "model": source["fingerprint"],
            "pooling": self.pooling,
            "max_length": int(self.max_length),
            "truncation_side": self.truncation_side,
            "dtype": dtype,
            "trust_remote_code": bool(self.trust_remote_code),
        }
        return EmbeddingCache(root, settings)

    # ------------------------------------------------------------ estimator
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the columns, learn the objective coding and the dimension ``d``.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_pairs, n_columns)
            Text pairs with the configured columns.
        y : None
            Ignored.

        Returns
        -------
        self : LLMEmbeddingTransformer
        """
        self._check_frame(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        _inputs.check_text_template(self.text_template)
        self.objective_categories_ = None
        if self.objective_column is not None:
            values = X[self.objective_column]
            if self.objective_categories is not None:
                self.objective_categories_ = np.asarray(
                    self.objective_categories, dtype=object
                )
            elif not pd.api.types.is_numeric_dtype(values):
                self.objective_categories_ = np.asarray(
                    sorted(values.unique(), key=str), dtype=object
                )
            self._objective_ids(values)
        source = self._source()
        _, dtype = self._runtime()
        cache = self._cache(source, dtype)
        dim = cache.stored_dim() if cache is not None else None
        if dim is None:
            config = _loading.load_config(
                source,
                revision=self.revision,
                local_files_only=self.local_files_only,
                trust_remote_code=self.trust_remote_code,
                owner=_OWNER,
            )
            dim = getattr(config, "hidden_size", None) or config.d_model
        self.embedding_dim_ = int(dim)
        return self

    def transform(self, X):
        """Embed every pair as ``[e(x, a) | e(x, b)]`` (then the objective id).

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_pairs, n_columns)
            Text pairs with the columns seen in ``fit``.

        Returns
        -------
        X_out : ndarray of shape (n_pairs, 2 * d) or (n_pairs, 2 * d + 1), float32
        """
        check_is_fitted(self)
        self._check_frame(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        prompts = (
            [""] * len(X)
            if self.prompt_column is None
            else X[self.prompt_column].tolist()
        )
        specs = [
            _inputs.text_spec(
                self.prompt_column, self.chat_template, self.text_template, p, r
            )
            for column in (self.response_a_column, self.response_b_column)
            for p, r in zip(prompts, X[column].tolist(), strict=True)
        ]
        vectors = self._embed_specs(specs)
        if self.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, np.finfo(np.float32).tiny)
        n = len(X)
        parts = [vectors[:n], vectors[n:]]
        if self.objective_column is not None:
            ids = self._objective_ids(X[self.objective_column])
            parts.append(ids.astype(np.float32)[:, None])
        return np.hstack(parts).astype(np.float32, copy=False)

    def _embed_specs(self, specs):
        keys = [text_key(spec) for spec in specs]
        first_of = {}
        for index, key in enumerate(keys):
            first_of.setdefault(key, index)
        source = self._source()
        device, dtype = self._runtime()
        cache = self._cache(source, dtype)
        found = cache.lookup(first_of) if cache is not None else {}
        missing = [key for key in first_of if key not in found]
        if missing:
            found.update(
                self._compute(
                    [specs[first_of[k]] for k in missing],
                    missing,
                    source,
                    device,
                    dtype,
                    cache,
                )
            )
        out = np.empty((len(specs), self.embedding_dim_), dtype=np.float32)
        for index, key in enumerate(keys):
            out[index] = found[key]
        return out

    def _compute(self, specs, keys, source, device, dtype, cache):
        tokenizer, model = _loading.load_model_and_tokenizer(
            source,
            revision=self.revision,
            dtype=dtype,
            device=device,
            local_files_only=self.local_files_only,
            trust_remote_code=self.trust_remote_code,
            owner=_OWNER,
        )
        decoder = _loading.is_decoder_config(model.config)
        pooling = self.pooling
        if pooling == "auto":
            pooling = "last" if decoder else "mean"
        use_chat = self.chat_template is True or (
            self.chat_template == "auto"
            and decoder
            and getattr(tokenizer, "chat_template", None) is not None
        )
        ids_list = _inputs.token_ids(
            specs,
            tokenizer,
            use_chat=use_chat,
            max_length=self.max_length,
            truncation_side=self.truncation_side,
        )
        results = {}

        def on_batch(batch, vectors):
            if vectors.shape[1] != self.embedding_dim_:
                raise ValueError(
                    f"{_OWNER} was fitted for embeddings of dimension "
                    f"{self.embedding_dim_}; the model returned {vectors.shape[1]}."
                )
            batch_keys = [keys[i] for i in batch]
            results.update(zip(batch_keys, vectors, strict=True))
            writer.add(batch_keys, vectors)

        show = self.progress_bar is True or (
            self.progress_bar == "auto" and len(specs) >= _PROGRESS_MIN_TEXTS
        )
        from tqdm.auto import tqdm

        with (
            CacheWriter(cache) as writer,
            tqdm(total=len(specs), disable=not show, desc=_OWNER, unit="text") as bar,
        ):
            embed_token_ids(
                ids_list,
                model,
                pooling=pooling,
                pad_id=tokenizer.pad_token_id,
                padding_side=tokenizer.padding_side if decoder else "right",
                batch_size=self.batch_size,
                max_batch_tokens=self.max_batch_tokens,
                device=device,
                on_batch=on_batch,
                progress=bar,
            )
        return results

    def get_feature_names_out(self, input_features=None):
        """Output names: ``a_emb0 .. a_emb{d-1}, b_emb0 .. b_emb{d-1}`` (objective).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the output names do not depend on the input names.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        d = self.embedding_dim_
        names = [f"a_emb{i}" for i in range(d)] + [f"b_emb{i}" for i in range(d)]
        if self.objective_column is not None:
            names.append(self.objective_column)
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        tags.requires_fit = True
        return tags
