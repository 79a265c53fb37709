"""LLMEmbeddingTransformer: preference pairs of text to ``[a | b | objective]``."""

import os
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from skpref.embeddings import _inputs, _run
from skpref.embeddings._formats import conform, detect_format
from skpref.embeddings._pooling import POOLING_FUNCTIONS
from skpref.utils import (
    Interval,
    StrOptions,
    encode_objectives,
    fit_context,
    objective_coding,
)

_OWNER = _inputs.OWNER
_POSITIVE = Interval(Integral, 1, None, closed="left")


class LLMEmbeddingTransformer(TransformerMixin, BaseEstimator):
    r"""Embed preference pairs of text with a frozen Hugging Face model.

    Each row of a DataFrame holds a prompt ``x`` and two responses ``a`` and
    ``b``; the output row is ``[e(x, a) | e(x, b) | c]``, the pair contract of
    :ref:`data_format`, where ``e`` is one embedding per prompt-response pair and
    ``c`` the objective id from the objective column (when X has one). The paper
    embeds pairs with the final layer of Llama-3-8B at the last token (Section 6).
    Texts may be strings or conversations (lists of ``{"role", "content"}``
    messages), as :func:`skpref.datasets.preference_pairs` returns them.

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
        Column of the objective, output as the last column (the objective id).
        Integer ids pass as they are; names are encoded by the coding learnt in
        ``fit`` (see ``objective_categories``). The default column is optional:
        a frame without it (and without a similarly named column) is
        single-objective data, and the output then has no objective column.
        None never reads one.
    objective_categories : array-like of str or None, default=None
        The coding of objective names: id ``k`` is ``objective_categories[k]``.
        None: the categories of a pandas ``Categorical`` column (what the loaders
        and ``preference_pairs`` return), else the sorted names seen in ``fit``.
        Transform encodes by name with this coding and never re-sorts.
    text_template : str, default="{prompt}\n\n{response}"
        How a prompt and a response become one text when no chat template is used
        (conversations first become ``"Role: content"`` blocks separated by blank
        lines).
    chat_template : "auto" or bool, default="auto"
        Use the tokenizer's chat template (``[user: prompt, assistant: response]``,
        or the conversation's own messages). ``"auto"``: for decoder models whose
        tokenizer has one.
    batch_size : int or "auto", default="auto"
        Most texts per forward pass. ``"auto"``: 32 on the CPU; on a GPU no
        limit but ``max_batch_tokens``.
    max_batch_tokens : int or "auto", default="auto"
        Most tokens (padding included) per forward pass. ``"auto"``: 8192 on the
        CPU; on a GPU sized from its free memory and the model (see
        :doc:`/embeddings`). A batch that runs out of GPU memory is halved and
        retried. The vectors do not depend on the batch sizes.
    padding_free : "auto" or bool, default="auto"
        Concatenate each batch's texts without padding, attention kept inside
        each text (models on transformers' attention interface that take
        ``position_ids``: Llama, Mistral, Qwen, BERT ...). ``"auto"``: where it
        was measured faster, padded batches elsewhere.
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
    objective_column_ : str or None
        The objective column read, or None when X had none.
    objective_categories_ : ndarray of str or None
        The coding of objective names (names in id order), or None for integer
        ids or no objective.
    text_format_ : dict
        The form of the training texts: ``"prompt"`` (``"dialogue"`` for text
        with role labels such as ``"Human: ..."``, ``"bare"``,
        ``"conversation"``, ``"mixed"``, or None without prompts), the ``"user"``
        and ``"assistant"`` labels, ``"assistant_tag"`` (whether prompts end
        with the assistant's label) and ``"response"`` (``"text"`` or
        ``"conversation"``). :func:`skpref.reward_function` brings the prompts
        and completions of an RL trainer to this form.
    n_features_in_ : int
        Number of columns of the DataFrame seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``.

    See Also
    --------
    skpref.MultiheadRewardModel : A reward model that takes this output.
    skpref.datasets.preference_pairs : Pairs from chosen/rejected data.
    skpref.reward_function : Score raw text with a fitted text pipeline.

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
        "pooling": [StrOptions({"auto", *POOLING_FUNCTIONS})],
        "normalize": ["boolean"],
        "max_length": [_POSITIVE],
        "truncation_side": [StrOptions({"left", "right"})],
        "prompt_column": [str, None],
        "response_a_column": [str],
        "response_b_column": [str],
        "objective_column": [str, None],
        "objective_categories": ["array-like", None],
        "text_template": [str],
        "chat_template": [StrOptions({"auto"}), "boolean"],
        "batch_size": [_POSITIVE, StrOptions({"auto"})],
        "max_batch_tokens": [_POSITIVE, StrOptions({"auto"})],
        "padding_free": [StrOptions({"auto"}), "boolean"],
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
        batch_size="auto",
        max_batch_tokens="auto",
        padding_free="auto",
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
        self.padding_free = padding_free
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

    def _objective_ids(self, values):
        return encode_objectives(
            values,
            self.objective_categories_,
            owner=_OWNER,
            argument=f"column {self.objective_column_!r}",
        )

    # ------------------------------------------------------------ estimator
    @fit_context(prefer_skip_nested_validation=True)
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
        _inputs.check_dataframe(X, self._text_columns())
        self.objective_column_ = _inputs.resolve_objective_column(
            X, self.objective_column
        )
        cells = _inputs.check_frame(X, self._text_columns(), self.objective_column_)
        validate_data(self, X, reset=True, skip_check_array=True)
        _inputs.check_text_template(self.text_template)
        self.text_format_ = detect_format(
            cells.get(self.prompt_column),
            cells[self.response_a_column] + cells[self.response_b_column],
        )
        self.objective_categories_ = None
        if self.objective_column_ is not None:
            self.objective_categories_ = objective_coding(
                X[self.objective_column_],
                self.objective_categories,
                owner=_OWNER,
                argument=f"column {self.objective_column_!r}",
            )
            self._objective_ids(X[self.objective_column_])
        elif self.objective_categories is not None:
            raise ValueError(
                f"{_OWNER} got objective_categories but X has no objective column "
                f"{self.objective_column!r}; add the column, or drop "
                "objective_categories for single-objective data."
            )
        self.embedding_dim_ = _run.embedding_dim(self)
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
        cells = _inputs.check_frame(X, self._text_columns(), self.objective_column_)
        validate_data(self, X, reset=False, skip_check_array=True)
        prompts = cells.get(self.prompt_column, [""] * len(X))
        specs = [
            _inputs.text_spec(
                self.prompt_column, self.chat_template, self.text_template, p, r
            )
            for column in (self.response_a_column, self.response_b_column)
            for p, r in zip(prompts, cells[column], strict=True)
        ]
        vectors = _run.embed_specs(self, specs)
        n = len(X)
        parts = [vectors[:n], vectors[n:]]
        if self.objective_column_ is not None:
            ids = self._objective_ids(X[self.objective_column_])
            parts.append(ids.astype(np.float32)[:, None])
        return np.hstack(parts).astype(np.float32, copy=False)

    def transform_responses(self, prompts, responses, objective=None):
        """Embed single prompt-response pairs as ``[e(x, r) | c]``.

        The rows a reward model's ``predict_reward`` takes: one half of a pair
        row, then the objective id when the transformer was fitted with an
        objective column.

        Parameters
        ----------
        prompts : sequence of str or conversations, or None
            One prompt per response; None when ``prompt_column`` is None.
        responses : sequence of str or conversations
            The responses to embed; a single string is an error (wrap it in a
            list).
        objective : str, int, sequence or None, default=None
            The objective of every response (one name or id), or one per
            response; names are encoded by ``objective_categories_``. Required
            exactly when the transformer was fitted with an objective column.

        Returns
        -------
        E : ndarray of shape (n_responses, d) or (n_responses, d + 1), float32
        """
        return self._transform_responses(prompts, responses, objective)

    def _in_fitted_format(self, prompts, responses):
        """Check prompts and responses; bring them to the form of the training texts.

        Returns ``(prompts, responses, problems)``: ``problems`` names what could
        not be told or carried over, for the caller to warn about.
        """
        check_is_fitted(self)
        prompts, responses = _inputs.check_responses(
            prompts, responses, self.prompt_column
        )
        if self.prompt_column is None:
            _, responses, problems = conform(
                getattr(self, "text_format_", None), None, responses
            )
            return None, responses, problems
        return conform(getattr(self, "text_format_", None), prompts, responses)

    def _transform_responses(self, prompts, responses, objective, write_cache=True):
        check_is_fitted(self)
        prompts, responses = _inputs.check_responses(
            prompts, responses, self.prompt_column
        )
        specs = [
            _inputs.text_spec(
                self.prompt_column, self.chat_template, self.text_template, p, r
            )
            for p, r in zip(prompts, responses, strict=True)
        ]
        vectors = _run.embed_specs(self, specs, write_cache=write_cache)
        if self.objective_column_ is None:
            if objective is not None:
                raise ValueError(
                    f"{_OWNER} was fitted without an objective column, so it takes "
                    f"no objective; got objective={objective!r}."
                )
            return vectors
        ids = _inputs.response_objective_ids(
            objective,
            len(responses),
            self.objective_column_,
            self.objective_categories_,
        )
        return np.hstack([vectors, ids.astype(np.float32)[:, None]])

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
        if self.objective_column_ is not None:
            names.append(self.objective_column_)
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        tags.requires_fit = True
        return tags
