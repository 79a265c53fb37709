"""What every pair classifier of skpref shares: the label rule, the score, saving."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from skpref._persistence import save
from skpref.metrics import pairwise_accuracy_score
from skpref.utils import (
    check_objective_ids,
    check_score_target,
    check_weights,
    float32_pairs,
)


class PairClassifierMixin(ClassifierMixin):
    """``predict``, ``score`` and ``save`` from a ``decision_function`` of pairs.

    The reward models and :class:`~skpref.RewardEnsemble` share these; each
    defines ``decision_function`` (positive where response a is preferred) and
    ``predict_proba``.
    """

    def _validated_pairs(self, X):
        """Check that the model is fitted and ``X`` holds its kind of pairs."""
        check_is_fitted(self)
        X = float32_pairs(self, X, reset=False)
        if self._with_objective:
            check_objective_ids(
                X[:, -1], n_objectives=self.n_objectives_, owner=type(self).__name__
            )
        return X

    def predict(self, X):
        """Predicted label: ``1`` where ``P(a > b) > 0.5``, i.e. the margin is positive.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_columns)
            Pairs in the layout seen in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_pairs,)
            ``1`` where response a is predicted to be preferred, else ``0``.
        """
        return (self.decision_function(X) > 0).astype(np.int64)

    def score(self, X, y, sample_weight=None):
        """Return the expected agreement of the predictions with a random annotator.

        ``mean(y * [pred = 1] + (1 - y) * [pred = 0])`` (weighted by
        ``sample_weight``): the accuracy for hard labels; with soft labels ``y``
        (the share of annotators preferring a) the chance that an annotator drawn
        at random agrees with the prediction, so a tie (``y = 0.5``) counts ½
        whatever is predicted. It is :func:`skpref.metrics.pairwise_accuracy_score`
        of the predictions.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_columns)
            Pairs in the layout seen in ``fit``.
        y : array-like of shape (n_pairs,)
            Labels ``0``/``1`` or soft labels in ``[0, 1]``.
        sample_weight : array-like of shape (n_pairs,), default=None
            Non-negative weight of each pair.

        Returns
        -------
        score : float
            In ``[0, 1]``; higher is better.
        """
        owner = type(self).__name__
        y_pred = self.predict(X)
        y = check_score_target(y, owner=owner)
        if len(y) != len(y_pred):
            raise ValueError(
                f"{owner}.score got {len(y_pred)} pairs in X but {len(y)} labels "
                "in y; pass one label per pair."
            )
        weight = check_weights(sample_weight, len(y), owner=owner, method="score")
        return pairwise_accuracy_score(
            y, y_pred.astype(np.float64), sample_weight=weight
        )

    def save(self, path):
        """Save the fitted model to one file, safely (no pickle): :func:`skpref.save`.

        Parameters
        ----------
        path : str or path-like
            File to write (conventionally ending in ``.safetensors``).

        Returns
        -------
        path : pathlib.Path
            The file written.
        """
        return save(self, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
