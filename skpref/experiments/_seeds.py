"""Reproducible seeds for the protocols, drawn from one master seed."""

import numpy as np

__all__ = ["draw_key", "seeds_from"]


def seeds_from(entropy, n):
    """Draw ``n`` reproducible 31-bit seeds from an int or a list of ints.

    The first ``k`` seeds of ``seeds_from(e, n)`` are those of ``seeds_from(e, k)``
    (numpy's ``SeedSequence`` generates its words in order).

    Examples
    --------
    >>> from skpref.experiments._seeds import seeds_from
    >>> seeds_from(0, 3)[:2] == seeds_from(0, 2)
    True
    """
    state = np.random.SeedSequence(entropy).generate_state(n, dtype=np.uint32)
    return [int(s) >> 1 for s in state]


def draw_key(seed, rho):
    """Entropy of the draw of one repetition ``seed`` at one ``rho``.

    ``rho`` counts in thousandths; negative values (latent correlations) wrap
    around to stay distinct from the positive ones, as ``SeedSequence`` takes
    non-negative integers only.

    Examples
    --------
    >>> from skpref.experiments._seeds import draw_key
    >>> draw_key(7, 0.9), draw_key(7, -0.3)[1] > 1000
    ([7, 900], True)
    """
    return [int(seed), round(1000 * float(rho)) % 2**32]
