"""Least-squares concept erasure in closed form (LEACE, Belrose et al., 2023).

For features ``x`` with mean ``mu`` and covariance ``S``, and a concept ``z`` with
cross-covariance ``S_xz = Cov(x, z)``, the affine map

    r(x) = x - W^+ P W (x - mu),    W = (S^1/2)^+,   P = orthogonal projection
                                                     onto the columns of W S_xz,

makes ``Cov(r(x), z) = 0``, so that no linear (affine) predictor of ``z`` from
``r(x)`` beats a constant in squared error, and among all such affine maps it moves
``x`` least in expected squared distance. Proof sketch: ``W^+ W`` projects onto
the range of ``S``, which holds the columns of ``S_xz``, so ``W^+ P W S_xz =
W^+ W S_xz = S_xz``.
"""

import numpy as np

__all__ = ["fit_leace"]


def fit_leace(X, Z, *, tol=1e-8):
    """Fit the LEACE eraser of concept ``Z`` from features ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features, float64.
    Z : ndarray of shape (n_samples, n_concept_columns)
        The concept: numeric columns, one-hot columns for categories.
    tol : float, default=1e-8
        Eigenvalues of the covariance below ``tol`` times the largest, and
        singular values of ``W S_xz`` below ``tol`` times the largest, count as
        zero.

    Returns
    -------
    mean : ndarray of shape (n_features,)
    components : ndarray of shape (rank, n_features)
        ``U^T W``: the whitened coordinates of ``x - mean`` along the erased
        directions.
    directions : ndarray of shape (n_features, rank)
        ``W^+ U``: what those coordinates are mapped back to, and subtracted.
        The eraser is ``x - ((x - mean) @ components.T) @ directions.T``.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.preprocessing._leace import fit_leace
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(500, 1))
    >>> X = np.hstack([z + rng.normal(size=(500, 1)), rng.normal(size=(500, 2))])
    >>> mean, components, directions = fit_leace(X, z)
    >>> erased = X - ((X - mean) @ components.T) @ directions.T
    >>> bool(np.abs((erased - erased.mean(0)).T @ (z - z.mean())).max() < 1e-9)
    True
    """
    mean = X.mean(axis=0)
    centred = X - mean
    n_samples = X.shape[0]
    covariance = centred.T @ centred / n_samples
    cross = centred.T @ (Z - Z.mean(axis=0)) / n_samples
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    kept = eigenvalues > tol * max(eigenvalues.max(), 0.0)
    basis, roots = eigenvectors[:, kept], np.sqrt(eigenvalues[kept])
    whiten = (basis / roots) @ basis.T
    unwhiten = (basis * roots) @ basis.T
    left, singular, _ = np.linalg.svd(whiten @ cross, full_matrices=False)
    if singular.size == 0 or singular.max() == 0:
        rank = 0
    else:
        rank = int(np.sum(singular > tol * singular.max()))
    span = left[:, :rank]
    return mean, span.T @ whiten, unwhiten @ span
