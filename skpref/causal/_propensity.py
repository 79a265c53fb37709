"""The propensity model of the overlap diagnostic, and whether it can be trusted.

A propensity model predicts the labeller's objective from the pair features. On
embeddings it has hundreds of features for a few hundred pairs; left to itself a
logistic regression then separates the training folds and gives confident,
meaningless out-of-fold propensities (an AUC near 0.5 with half of them extreme).
The default model therefore keeps about one principal component per ten pairs of
the rarest objective (the "ten events per variable" rule of thumb of Peduzzi et
al., 1996) and chooses its L2 penalty by cross-validated log-loss; and any model,
the default or the user's, is judged by its out-of-fold log-loss against that of
knowing only each objective's share.
"""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["default_propensity_model", "propensity_trust_problems"]

EVENTS_PER_FEATURE = 10
# More components barely move the AUC on sentence embeddings and cost time.
# Measured (benchmarks-style script, one CPU thread of a busy 2-core machine) on
# the 4,043 relabelled HH-RLHF pairs with MiniLM embeddings, objective replaced by
# the prompt type: AUC 0.926 with at most 16 components, 0.940 with 64, 0.945 with
# 128; a whole report takes 3 to 4 s at 64.
MAX_COMPONENTS = 64
# The model is not trusted when its out-of-fold log-loss exceeds that of the
# constant prediction (each objective's share) by more than this fraction.
LOG_LOSS_MARGIN = 0.05
_PENALTIES = np.logspace(-4, 2, 7)


def default_propensity_model(n_features, n_rarest, random_state=None):
    """Build a logistic propensity model sized to the number of pairs.

    With at least 10 pairs of the rarest objective per feature, a standardised
    logistic regression. With more features than that supports, the features are
    standardised and reduced to ``k = n_rarest // 10`` principal components (at
    least 1, at most 64), and the logistic regression's penalty ``C`` is chosen
    among ``1e-4 .. 1e2`` by cross-validated log-loss.

    Parameters
    ----------
    n_features : int
        Number of pair features.
    n_rarest : int
        Pairs of the rarest objective in the smallest training fold.
    random_state : int, RandomState instance or None, default=None
        Seed of the randomised PCA.

    Returns
    -------
    model : sklearn.pipeline.Pipeline

    Examples
    --------
    >>> from skpref.causal._propensity import default_propensity_model
    >>> model = default_propensity_model(768, n_rarest=80, random_state=0)
    >>> model.named_steps["pca"].n_components
    8
    >>> list(default_propensity_model(6, n_rarest=80).named_steps)
    ['standardscaler', 'logisticregression']
    """
    n_components = n_rarest // EVENTS_PER_FEATURE
    if n_features <= n_components:
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    n_components = int(np.clip(n_components, 1, MAX_COMPONENTS))
    tuned = GridSearchCV(
        LogisticRegression(max_iter=1000),
        {"C": _PENALTIES},
        scoring="neg_log_loss",
        cv=StratifiedKFold(min(3, n_rarest)),
    )
    return make_pipeline(
        StandardScaler(), PCA(n_components, random_state=random_state), tuned
    )


def propensity_trust_problems(codes, proba, n_rarest, n_features):
    """Say why out-of-fold propensities cannot be trusted; empty when they can.

    Parameters
    ----------
    codes : ndarray of shape (n_pairs,)
        Objective of each pair as ``0..K-1``.
    proba : ndarray of shape (n_pairs, K)
        Out-of-fold propensities.
    n_rarest : int
        Pairs of the rarest objective in the smallest training fold.
    n_features : int
        Number of pair features.

    Returns
    -------
    problems : list of str
    model_log_loss : float
        Out-of-fold log-loss of the propensities.
    constant_log_loss : float
        Log-loss of predicting each pair's objective by the objectives' shares.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.causal._propensity import propensity_trust_problems
    >>> codes = np.array([0, 1] * 50)
    >>> overconfident = np.tile([[0.99, 0.01], [0.01, 0.99]], (50, 1))[::-1]
    >>> problems, model, constant = propensity_trust_problems(
    ...     codes, overconfident, n_rarest=40, n_features=768)
    >>> len(problems), round(constant, 3)
    (1, 0.693)
    """
    n_classes = proba.shape[1]
    labels = np.arange(n_classes)
    model_loss = float(log_loss(codes, proba, labels=labels))
    shares = np.bincount(codes, minlength=n_classes) / codes.size
    constant = float(log_loss(codes, np.tile(shares, (codes.size, 1)), labels=labels))
    problems = []
    if n_rarest < EVENTS_PER_FEATURE:
        problems.append(
            f"the propensity model cannot be trusted at this sample size: a "
            f"training fold holds only {n_rarest} pairs of the rarest objective, "
            f"fewer than {EVENTS_PER_FEATURE} per feature even for one feature, so "
            "its ROC AUC says little about overlap. Add pairs or lower cv."
        )
    if model_loss > (1 + LOG_LOSS_MARGIN) * constant:
        problems.append(
            f"the propensity model cannot be trusted at this sample size: its "
            f"out-of-fold log-loss, {model_loss:.3f}, is more than "
            f"{LOG_LOSS_MARGIN:.0%} above {constant:.3f}, that of predicting each "
            "pair's objective by the objectives' shares. It overfits "
            f"{codes.size} pairs of {n_features} features, so its ROC AUC says "
            "nothing about overlap. Use more pairs, fewer features (e.g. PCA), or "
            "a more regularised estimator (the default one is)."
        )
    return problems, model_loss, constant
