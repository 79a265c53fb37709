"""The pair-contract check of transformers of pair features ``[a | b] -> [a' | b']``."""

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from skpref.utils._pair_data import make_pair_data, swap_halves, takes_objective

__all__ = ["check_pair_transformer_halves"]


def check_pair_transformer_halves(
    name, transformer_orig, *, with_objective=None, fit_params=None
):
    """Check that a pair transformer maps each response alone, by one map.

    A transformer of pair features keeps the pair contract when response a's
    output depends on response a only, by the same map as response b's: then
    swapping a and b swaps the two output halves, and a reward model after it
    stays antisymmetric. The objective column must pass through unchanged.

    Parameters
    ----------
    name : str
        Name of the transformer, used in failure messages.
    transformer_orig : transformer instance
        An unfitted transformer of ``[a | b]`` (then the objective id); the
        check fits a clone of it on synthetic pairs.
    with_objective : bool or None, default=None
        Whether ``X`` ends with the objective id; None reads the transformer.
    fit_params : dict, callable or None, default=None
        Extra arguments of ``fit``, or ``fit_params(X, y)`` returning them (for
        metadata that must follow the rows, such as a concept to erase).

    Raises
    ------
    AssertionError
        If the transformer breaks the contract.

    Examples
    --------
    >>> from skpref.preprocessing import LinearConceptEraser
    >>> from skpref.utils.estimator_checks import check_pair_transformer_halves
    >>> check_pair_transformer_halves(
    ...     "LinearConceptEraser", LinearConceptEraser(with_objective=True))
    """
    takes = takes_objective(transformer_orig, with_objective)
    X, y = make_pair_data(with_objective=takes)
    extra = fit_params(X, y) if callable(fit_params) else dict(fit_params or {})
    transformer = clone(transformer_orig).fit(X, y, **extra)
    out = np.asarray(transformer.transform(X))
    tolerance = {"rtol": 1e-10, "atol": 1e-12}
    assert_allclose(
        np.asarray(transformer.transform(swap_halves(X, takes))),
        swap_halves(out, takes),
        err_msg=f"{name}: swapping a and b must swap the output halves",
        **tolerance,
    )
    d = (X.shape[1] - int(takes)) // 2
    d_out = (out.shape[1] - int(takes)) // 2
    other_b = X.copy()
    other_b[:, d : 2 * d] = X[::-1, d : 2 * d]
    assert_allclose(
        np.asarray(transformer.transform(other_b))[:, :d_out],
        out[:, :d_out],
        err_msg=f"{name}: response a's output must not depend on response b",
        **tolerance,
    )
    if takes:
        assert_array_equal(
            out[:, -1],
            X[:, -1],
            err_msg=f"{name}: the objective column must pass through unchanged",
        )
