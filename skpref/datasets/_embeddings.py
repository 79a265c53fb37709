"""Precomputed embeddings: attach them to a pair table, build pair-contract arrays."""

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from skpref.datasets._home import _describe_home, get_data_home
from skpref.utils import encode_objectives, objective_coding

__all__ = ["attach_embeddings", "pair_features"]


def attach_embeddings(frame, chosen, rejected):
    """Attach per-row embeddings of the chosen and rejected texts to a pair table.

    Embedding files made from a preference file hold one row per line: row ``i``
    embeds the ``chosen`` (and ``rejected``) text of line ``i``. The loaders
    index their tables by that line (``frame.index``) and record which side is
    the chosen text (``a_is_chosen``), so the vectors land on the right side
    after the side shuffle and after any filtering of rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table from a ``load_*`` function: integer index of file rows and a
        boolean column ``a_is_chosen``.
    chosen : array-like of shape (n_file_rows, d)
        Embeddings of the file's ``chosen`` texts, row ``i`` for line ``i``.
    rejected : array-like of shape (n_file_rows, d)
        Embeddings of the ``rejected`` texts, same layout.

    Returns
    -------
    frame : pandas.DataFrame
        A copy with two more columns, ``embedding_a`` and ``embedding_b``, each
        cell a float32 vector of length ``d``.

    See Also
    --------
    pair_features : Stack the attached vectors into the pair-contract array.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skpref.datasets import attach_embeddings
    >>> frame = pd.DataFrame({"a_is_chosen": [True, False]}, index=[1, 0])
    >>> chosen = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> rejected = -chosen - 5
    >>> out = attach_embeddings(frame, chosen, rejected)
    >>> out["embedding_a"].tolist()[0].tolist(), out["embedding_b"].tolist()[1].tolist()
    ([1.0, 1.0], [0.0, 0.0])
    """
    owner = "attach_embeddings"
    chosen = np.asarray(chosen, dtype=np.float32)
    rejected = np.asarray(rejected, dtype=np.float32)
    if chosen.ndim != 2 or chosen.shape != rejected.shape:
        raise ValueError(
            f"{owner} expects chosen and rejected embeddings of the same shape "
            f"(n_file_rows, d); got {chosen.shape} and {rejected.shape}."
        )
    if "a_is_chosen" not in frame.columns:
        raise ValueError(
            f"{owner} needs the column 'a_is_chosen' that the skpref loaders add "
            "to say which response is the file's chosen text; got the columns "
            f"{list(frame.columns)}."
        )
    rows = np.asarray(frame.index)
    if rows.size and (
        not np.issubdtype(rows.dtype, np.integer)
        or rows.min() < 0
        or rows.max() >= len(chosen)
    ):
        raise ValueError(
            f"{owner}: the frame's index must hold file rows 0..{len(chosen) - 1} "
            f"to match {len(chosen)} embedding rows; got an index from "
            f"{rows.min()!r} to {rows.max()!r}. Were the embeddings made from "
            "another file, or was the index reset?"
        )
    a_is_chosen = frame["a_is_chosen"].to_numpy(dtype=bool)[:, None]
    emb_a = np.where(a_is_chosen, chosen[rows], rejected[rows])
    emb_b = np.where(a_is_chosen, rejected[rows], chosen[rows])
    out = frame.copy()
    out["embedding_a"] = list(emb_a)
    out["embedding_b"] = list(emb_b)
    return out


def pair_features(frame, *, with_objective=False, objective_column="objective_id"):
    """Stack attached embeddings into the pair-contract array ``[a | b (| c)]``.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table with ``embedding_a`` and ``embedding_b`` columns (see
        :func:`attach_embeddings` or the loaders' ``embeddings`` argument).
    with_objective : bool, default=False
        Append the objective id as a last column, the layout of the
        multi-objective reward models.
    objective_column : str, default="objective_id"
        Column holding the integer objective id, or the objective names as a
        coded ``Categorical`` (such as the loaders' ``objective``), whose codes
        are the ids.

    Returns
    -------
    X : ndarray of shape (n_pairs, 2 * d) or (n_pairs, 2 * d + 1), dtype float32
        ``[embedding of (x, a) | embedding of (x, b)]`` (then the objective id),
        see :ref:`data_format`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skpref.datasets import pair_features
    >>> frame = pd.DataFrame({"embedding_a": [np.ones(2)], "embedding_b": [np.zeros(2)],
    ...                       "objective_id": [1]})
    >>> pair_features(frame, with_objective=True).tolist()
    [[1.0, 1.0, 0.0, 0.0, 1.0]]
    """
    owner = "pair_features"
    missing = [c for c in ("embedding_a", "embedding_b") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{owner} needs the columns 'embedding_a' and 'embedding_b'; {missing} "
            "are missing. Load with embeddings='all-MiniLM-L6-v2' (or another "
            "model) or call attach_embeddings first."
        )
    if len(frame) == 0:
        raise ValueError(f"{owner} got an empty frame; there are no pairs to stack.")
    columns = [_stack_vectors(frame, c, owner) for c in ("embedding_a", "embedding_b")]
    if columns[0].shape[1] != columns[1].shape[1]:
        raise ValueError(
            f"{owner}: the vectors in 'embedding_a' have length "
            f"{columns[0].shape[1]} but those in 'embedding_b' {columns[1].shape[1]}; "
            "both sides must come from the same embedding model."
        )
    if with_objective:
        if objective_column not in frame.columns:
            raise ValueError(
                f"{owner}(with_objective=True) needs the objective column "
                f"{objective_column!r}; got the columns {list(frame.columns)}."
            )
        values = frame[objective_column]
        coded = isinstance(values.dtype, pd.CategoricalDtype)
        if not coded and not pd.api.types.is_numeric_dtype(values):
            raise ValueError(
                f"{owner}: the objective column {objective_column!r} holds names "
                "with no coding, which would be numbered by sorting; pass the "
                "integer ids (objective_column='objective_id') or a Categorical "
                "whose categories fix the order."
            )
        ids = encode_objectives(
            values,
            objective_coding(values, owner=owner),
            owner=owner,
            argument=f"column {objective_column!r}",
        )
        columns.append(ids.astype(np.float32)[:, None])
    return np.hstack(columns)


def _stack_vectors(frame, column, owner):
    """Stack one column of vectors into a float32 matrix, naming a bad row."""
    missing = [row for row, v in zip(frame.index, frame[column], strict=True)
               if v is None or (np.ndim(v) == 0 and pd.isna(v))]  # fmt: skip
    if missing:
        raise ValueError(
            f"{owner}: column {column!r} has no vector at row {missing[0]!r} "
            f"({len(missing)} rows without one, e.g. pairs added by "
            "augment_pairs); embed those rows' texts first."
        )
    vectors = [np.ravel(np.asarray(v, dtype=np.float32)) for v in frame[column]]
    lengths = np.array([len(v) for v in vectors])
    odd = np.flatnonzero(lengths != lengths[0])
    if odd.size:
        rows = frame.index.tolist()
        raise ValueError(
            f"{owner}: the vectors in column {column!r} have different lengths: "
            f"{lengths[0]} at row {rows[0]!r} but {lengths[odd[0]]} at row "
            f"{rows[odd[0]]!r}. Every vector must come from the same embedding "
            "model."
        )
    return np.stack(vectors)


def _reference_embedding_path(embeddings, relative, data_home):
    """Path of the npz for ``relative`` (``"hh_rlhf/helpful-base/test"``)."""
    candidate = Path(embeddings)
    if candidate.suffix == ".npz":
        return candidate
    name = relative.replace("/", "__") + ".npz"
    return get_data_home(data_home) / "embeddings" / str(embeddings) / name


def _read_embedding_file(path, *, owner):
    """Read the numeric ``chosen`` and ``rejected`` arrays of an ``.npz``, or say why.

    The file is opened with ``allow_pickle=False``: an array of Python objects
    (which would run code when unpickled) is refused, naming the file.
    """
    try:
        # open the file ourselves: np.load leaks the handle of a broken zip
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as arrays:
            if not {"chosen", "rejected"} <= set(arrays.files):
                raise ValueError(
                    f"{owner}: the embeddings file {path} must hold the arrays "
                    f"'chosen' and 'rejected'; got {sorted(arrays.files)}."
                )
            chosen, rejected = arrays["chosen"], arrays["rejected"]
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise
        raise ValueError(
            f"{owner}: the embeddings file {path} holds arrays of Python objects, "
            "which skpref never unpickles (that could run code). Save numeric "
            "arrays: np.savez(path, chosen=np.asarray(chosen, dtype=np.float32), "
            "rejected=...)."
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(
            f"{owner}: the embeddings file {path} is not a readable .npz file "
            f"({type(exc).__name__}: {exc}); make it again or download it again."
        ) from exc
    return chosen, rejected


def _attach_reference_embeddings(frame, embeddings, relative, data_home, *, owner):
    path = _reference_embedding_path(embeddings, relative, data_home)
    if not path.is_file():
        raise FileNotFoundError(
            f"{owner} could not find the embeddings file {path} (for "
            f"embeddings={str(embeddings)!r}, looked in "
            f"{_describe_home(data_home)}). Reference embeddings are named "
            f"embeddings/<model>/{relative.replace('/', '__')}.npz with arrays "
            "'chosen' and 'rejected'; compute them with LLMEmbeddingTransformer "
            "or pass embeddings=None."
        )
    chosen, rejected = _read_embedding_file(path, owner=owner)
    n_rows = frame.index.max() + 1 if len(frame) else 0
    if len(chosen) != n_rows:
        raise ValueError(
            f"{owner}: the embeddings file {path} has {len(chosen)} rows but the "
            f"data file has {n_rows} pairs; it was made from another file."
        )
    return attach_embeddings(frame, chosen, rejected)
