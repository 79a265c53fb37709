"""Columns of tables: unique names, and the ``<name>_a ... <name>_b`` layout.

Covariates of pairs come as every covariate of response a, then the same of b.
"""

__all__ = ["check_unique_columns", "pair_column_stems"]


def check_unique_columns(frame, names, *, owner, argument="data"):
    """Refuse a table where a column the caller reads appears more than once.

    ``frame[name]`` of a duplicated name is a table, not a column, and every
    reader would fail later with an error about tables; this names the column.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame([[1, 2, 3]], columns=["a", "b", "b"])
    >>> check_unique_columns(frame, ["a"], owner="f")
    >>> check_unique_columns(frame, ["a", "b"], owner="f")
    Traceback (most recent call last):
    ...
    ValueError: f: the column 'b' appears 2 times in data; rename or drop the \
copies so that each column name is unique.
    """
    counts = frame.columns.value_counts()
    for name in names:
        if counts.get(name, 0) > 1:
            raise ValueError(
                f"{owner}: the column {name!r} appears {counts[name]} times in "
                f"{argument}; rename or drop the copies so that each column name "
                "is unique."
            )


def pair_column_stems(columns, *, owner, argument="Z_pairs"):
    """Return the covariate names of pair columns: all ``<name>_a``, then ``<name>_b``.

    Parameters
    ----------
    columns : sequence of str
        Column names, ``2 * K`` of them.
    owner : str
        Name used in error messages.
    argument : str, default="Z_pairs"
        The argument the columns belong to, for error messages.

    Returns
    -------
    names : list of str or None
        The ``K`` names; ``None`` if no column ends in ``_a`` or ``_b`` (the
        columns carry no pair layout, e.g. integer labels).

    Raises
    ------
    ValueError
        If some columns follow the layout but not all, or in another order (such
        as ``x_a, x_b, y_a, y_b``): the halves would be misread.

    Examples
    --------
    >>> pair_column_stems(["len_a", "polite_a", "len_b", "polite_b"], owner="f")
    ['len', 'polite']
    >>> pair_column_stems([0, 1], owner="f") is None
    True
    """
    columns = list(columns)
    suffixed = [isinstance(c, str) and c.endswith(("_a", "_b")) for c in columns]
    if not any(suffixed):
        return None
    half = len(columns) // 2
    stems = [c[:-2] if s else None for c, s in zip(columns, suffixed, strict=True)]
    expected = [f"{s}_a" for s in stems[:half]] + [f"{s}_b" for s in stems[:half]]
    if len(columns) % 2 or not all(suffixed) or columns != expected:
        a_side = [c for c in columns if isinstance(c, str) and c.endswith("_a")]
        order = a_side + [c[:-2] + "_b" for c in a_side]
        hint = (
            f" Reorder them: {argument}[{order!r}]."
            if sorted(map(str, order)) == sorted(map(str, columns))
            else ""
        )
        raise ValueError(
            f"{owner} expects the columns of {argument} laid out as "
            "[<name>_a ... | <name>_b ...], every covariate of response a, then "
            f"the same covariates of response b in the same order; got "
            f"{columns}.{hint}"
        )
    return stems[:half]
