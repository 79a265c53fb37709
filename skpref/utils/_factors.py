"""The two latent factors a positivity measure or a splitter compares."""

import numbers

__all__ = ["check_factor_pair"]


def check_factor_pair(factors, n_columns, *, owner):
    """Check ``factors``: two different column indices of ``delta``.

    Parameters
    ----------
    factors : sequence
        The two columns of ``delta`` to compare.
    n_columns : int
        Number of columns of ``delta``.
    owner : str
        Name used in the error message.

    Returns
    -------
    j, k : int

    Raises
    ------
    ValueError
        If ``factors`` is not two different integers in ``0..n_columns - 1``.

    Examples
    --------
    >>> from skpref.utils import check_factor_pair
    >>> check_factor_pair((1, 0), 3, owner="demo")
    (1, 0)
    """
    factors = tuple(factors)
    if (
        len(factors) != 2
        or len(set(factors)) != 2
        or not all(
            isinstance(j, numbers.Integral) and not isinstance(j, bool) for j in factors
        )
        or not all(0 <= j < n_columns for j in factors)
    ):
        raise ValueError(
            f"{owner} expects factors to be two different columns of delta "
            f"(0..{n_columns - 1}); got factors={factors!r}."
        )
    return int(factors[0]), int(factors[1])
