"""Linear concept erasure of pair features, as a Pipeline step (LEACE)."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from skpref.preprocessing._concepts import response_concept
from skpref.preprocessing._leace import fit_leace
from skpref.utils import (
    Interval,
    StrOptions,
    check_objective_ids,
    check_pair_width,
    fit_context,
)

__all__ = ["LinearConceptEraser"]

_OWNER = "LinearConceptEraser"


class LinearConceptEraser(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Remove what is linearly predictable of a concept from response embeddings.

    Least-squares concept erasure (LEACE): one affine map ``r``, fitted on the
    responses of the training pairs (both halves of ``X = [a | b]`` stacked),
    after which no linear regressor predicts the concept from a response's
    features better than a constant (on the training data: the covariance of
    ``r(e)`` with the concept is zero); among all affine maps that do so it moves
    the features least. The same map is applied to both halves, so the pair
    contract holds: swapping a and b swaps the output halves, and the objective
    column (``with_objective=True``) passes through unchanged.

    Use it before a reward model to stop it reading a spurious factor off the
    embeddings: the length of a response, or the prompt type that stands in for
    the labeller's objective (section 4 of the paper). It removes linear
    information only: a non-linear reward model can still find what is left.

    Parameters
    ----------
    with_objective : bool, default=False
        Whether the last column of ``X`` is the objective id, passed through.
        Without a ``concept`` in :meth:`fit`, the objective is the concept.
    concept_type : {"auto", "continuous", "categorical"}, default="auto"
        How to read the concept: ``"auto"`` takes numbers as continuous (a
        length), whatever their dtype (an object or nullable column of numbers
        too), and anything else (strings, booleans, Categoricals) as
        categories, one-hot encoded. Integer-coded categories with more than
        two values need ``"categorical"``.
    tol : float, default=1e-8
        Relative cut-off below which eigenvalues of the features' covariance,
        and singular values of the whitened cross-covariance, count as zero.

    Attributes
    ----------
    mean_ : ndarray of shape (`n_pair_features_`,)
        Mean of the training responses.
    components_ : ndarray of shape (`rank_`, `n_pair_features_`)
        Whitened directions read off ``e - mean_``.
    directions_ : ndarray of shape (`n_pair_features_`, `rank_`)
        The feature-space directions removed; a response becomes ``e - ((e -
        mean_) @ components_.T) @ directions_.T``.
    rank_ : int
        Dimension of the erased subspace (at most the number of concept columns,
        one-hot columns included).
    n_pair_features_ : int
        Features of one response, ``d``.
    n_features_in_ : int
        Columns of ``X``: ``2 * d``, plus one with an objective.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame ``X`` with string column names.

    See Also
    --------
    skpref.covariates.pair_covariates : Covariates of both responses (lengths,
        politeness...), in the ``[c_a | c_b]`` form ``concept`` takes.
    skpref.AdversarialRewardModel : Non-linear removal of the objective, by an
        adversary.
    skpref.metrics.covariate_leakage : How much of the concept is left, on
        held-out pairs.

    Notes
    -----
    With ``F`` the features of a response and ``C`` the concept, centred,
    ``S = Cov(F)``, ``W = (S^1/2)^+`` and ``P`` the orthogonal projection onto
    the columns of ``W Cov(F, C)``, the map is ``r(e) = e - W^+ P W (e - mean)``
    (Belrose et al., 2023, Theorem 4.3).

    The guarantee holds on the training pairs. On held-out pairs,
    :func:`~skpref.metrics.covariate_leakage` reports the same: pass the fitted
    eraser and its ``representation_r2`` is the held-out R² of a cross-fitted
    linear probe of the concept difference from the erased features (near 0
    where the erasure carries over; ``FunctionTransformer()`` in its place gives
    that of the raw features).

    The concept is fit metadata, requested by default: inside a
    :class:`~sklearn.pipeline.Pipeline`, pass ``fit(X, y, concept=c)`` with
    ``sklearn.set_config(enable_metadata_routing=True)``, or ``fit(X, y,
    <step name>__concept=c)`` without it.

    References
    ----------
    Belrose, N., Schneider-Joseph, D., Ravfogel, S., Cotterell, R., Raff, E. and
    Biderman, S. "LEACE: Perfect linear concept erasure in closed form",
    NeurIPS 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.preprocessing import LinearConceptEraser
    >>> rng = np.random.default_rng(0)
    >>> length = rng.gamma(2.0, 50.0, size=(300, 2))  # [length_a | length_b]
    >>> E_a, E_b = rng.normal(size=(2, 300, 4))
    >>> E_a[:, 0] += length[:, 0] / 50  # the first feature encodes the length
    >>> E_b[:, 0] += length[:, 1] / 50
    >>> X = np.hstack([E_a, E_b])
    >>> eraser = LinearConceptEraser().fit(X, concept=length)
    >>> erased = eraser.transform(X)
    >>> responses = np.vstack([erased[:, :4], erased[:, 4:]])
    >>> lengths = np.r_[length[:, 0], length[:, 1]]
    >>> bool(abs(np.corrcoef(responses[:, 0], lengths)[0, 1]) < 1e-9)
    True
    >>> eraser.rank_
    1
    """

    __metadata_request__fit = {"concept": True}

    _parameter_constraints = {
        "with_objective": ["boolean"],
        "concept_type": [StrOptions({"auto", "continuous", "categorical"})],
        "tol": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, *, with_objective=False, concept_type="auto", tol=1e-8):
        self.with_objective = with_objective
        self.concept_type = concept_type
        self.tol = tol

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, concept=None):
        """Fit the eraser of ``concept`` on the responses of the pairs ``X``.

        Parameters
        ----------
        X : array-like of shape (n_pairs, 2 * d) or (n_pairs, 2 * d + 1)
            Pair features ``[a | b]`` (then the objective id).
        y : None
            Ignored; pipelines pass the labels here.
        concept : array-like or DataFrame, default=None
            What to erase: ``(n_pairs,)`` (or one column), a value per pair
            shared by its two responses (e.g. the prompt type); ``(n_pairs, 2 *
            k)``, or a DataFrame with columns ``<name>_a ... <name>_b`` (as
            :func:`~skpref.covariates.pair_covariates` returns), ``k`` values
            per response ``[c_a | c_b]`` (e.g. lengths). ``None`` with
            ``with_objective=True``: the objective column of ``X``.

        Returns
        -------
        self : LinearConceptEraser
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        d = check_pair_width(
            X.shape[1], with_objective=self.with_objective, owner=_OWNER
        )
        objective = (
            check_objective_ids(X[:, -1], owner=_OWNER) if self.with_objective else None
        )
        Z = response_concept(
            concept,
            X.shape[0],
            concept_type=self.concept_type,
            objective=objective,
            owner=_OWNER,
        )
        responses = np.vstack([X[:, :d], X[:, d : 2 * d]]).astype(np.float64)
        self.mean_, self.components_, self.directions_ = fit_leace(
            responses, Z, tol=self.tol
        )
        self.rank_ = self.components_.shape[0]
        self.n_pair_features_ = d
        return self

    def transform(self, X):
        """Erase the concept from both responses of every pair.

        Parameters
        ----------
        X : array-like of shape (n_pairs, 2 * d) or (n_pairs, 2 * d + 1)
            Pair features ``[a | b]`` (then the objective id).

        Returns
        -------
        X_erased : ndarray of the same shape and dtype
            ``[r(a) | r(b)]`` (then the objective id, unchanged).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        d = self.n_pair_features_
        if self.with_objective:
            check_objective_ids(X[:, -1], owner=_OWNER)
        halves = [self._erase(X[:, :d]), self._erase(X[:, d : 2 * d])]
        return np.hstack([*halves, X[:, 2 * d :]]).astype(X.dtype, copy=False)

    def _erase(self, E):
        coordinates = (E - self.mean_) @ self.components_.T
        return E - coordinates @ self.directions_.T

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
