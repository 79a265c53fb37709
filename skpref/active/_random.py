"""The baseline strategy: label pairs drawn uniformly at random from the pool."""

from skpref.active._base import BaseQueryStrategy

__all__ = ["RandomSampling"]


class RandomSampling(BaseQueryStrategy):
    """Choose pairs uniformly at random, without replacement: the baseline.

    Any other strategy has to beat this one to be worth its cost; it needs neither
    a model nor side information (``model`` may be None).

    See Also
    --------
    MarginSampling : The pairs the model is least sure of.
    BALDSampling : The pairs an ensemble disagrees on.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.active import RandomSampling
    >>> X_pool = np.zeros((10, 4))
    >>> RandomSampling().select(None, X_pool, 3, random_state=0).tolist()
    [2, 8, 4]
    """

    def _select(self, model, X_pool, n, side_information, random_state):
        return random_state.permutation(len(X_pool))[:n]
