"""One attribute, observational and interventional effects side by side."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

__all__ = ["compare_effects", "plot_effect_comparison"]

_OWNER = "compare_effects"
_COLUMNS = ["estimate", "ci_low", "ci_high", "kind", "reward_units"]


def _amce_row(label, amce, factor, alpha):
    check_is_fitted(amce)
    names = list(amce.factor_names_)
    if factor is None:
        if len(names) != 1:
            raise ValueError(
                f"{_OWNER}: the AMCE {label!r} has the factors {names}; name the "
                "one to compare with factor=."
            )
        factor = names[0]
    if factor not in names:
        raise ValueError(
            f"{_OWNER}: the AMCE {label!r} has no factor {factor!r}; its factors "
            f"are {names}."
        )
    k = names.index(factor)
    if not amce.binary_factors_[k]:
        raise ValueError(
            f"{_OWNER}: the factor {factor!r} of the AMCE {label!r} is continuous "
            f"(its effect is of a step of {amce.factor_steps_[k]:.4g}), but the "
            "rewrite effects compare a response without the attribute and with "
            "it; fit the AMCE on a 0/1 factor for the attribute (e.g. the "
            "rewriter's has_attribute, or a threshold of the factor)."
        )
    low, high = amce.effect_interval(alpha)
    return [amce.effects_[k], low[k], high[k], "observational (AMCE)", np.nan]


def compare_effects(rewrite_effects, amce=None, *, factor=None):
    """Put one attribute's AMCEs beside a reward model's interventional effect.

    Every effect is on the AMCE's scale, the probability that the version with
    the attribute is preferred to the version without it (0.5: no effect):

    - each fitted :class:`AMCEEstimator` of ``amce`` (on human labels, on
      another labeller's, on a reward model's predictions ...) gives its effect
      of ``factor``, observational, with its interval;
    - the fitted :class:`RewriteEffectEstimator` gives the reward model's
      interventional effect, ``mean sigmoid(R(with) - R(without))`` over
      the rewritten pairs (:meth:`RewriteEffectEstimator.preference_effect`),
      and the same with the naive contrasts (original vs. rewrite), with the ATE
      in reward units beside them.

    The sigmoid puts a Bradley-Terry reward (every skpref reward model) on the
    preference scale; for another reward, read the column ``reward_units``.

    Parameters
    ----------
    rewrite_effects : RewriteEffectEstimator
        Fitted.
    amce : dict of str to AMCEEstimator, or None, default=None
        Fitted AMCE estimators by label (e.g. ``{"human labels": ...}``); the
        attribute must be one of their factors, binary like ``attribute`` of
        the rewrite effects (a continuous factor raises a ``ValueError``).
    factor : str or None, default=None
        The attribute's name among the AMCE factors; None when each AMCE has
        one factor.

    Returns
    -------
    frame : pandas.DataFrame
        One row per effect, indexed by its label; columns ``estimate, ci_low,
        ci_high, kind, reward_units`` (intervals at the rewrite effects'
        ``confidence_level``).

    See Also
    --------
    plot_effect_comparison : The figure of this table.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.causal import (AMCEEstimator, RewriteEffectEstimator,
    ...                            compare_effects)
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.integers(0, 2, (2000, 2))  # [has "!" in a | has "!" in b]
    >>> y = rng.random(2000) < 1 / (1 + np.exp(-(Z[:, 0] - Z[:, 1])))
    >>> amce = AMCEEstimator(factor_names=["exclaims"]).fit(Z, y)
    >>> reward = lambda prompts, texts: [t.count("!") for t in texts]
    >>> rewriter = lambda prompts, texts, target: [
    ...     t.rstrip("!") + "!" * int(w) for t, w in zip(texts, target)]
    >>> rate = RewriteEffectEstimator(reward, rewriter, n_bootstrap=50,
    ...                               random_state=0)
    >>> rate = rate.fit(None, ["Hi!", "Yes", "No!", "Go"], [1, 0, 1, 0])
    >>> compare_effects(rate, {"labels": amce})["estimate"].round(2)
    labels                         0.74
    reward model, RATE             0.73
    reward model, naive rewrite    0.73
    Name: estimate, dtype: float64
    """
    check_is_fitted(rewrite_effects)
    alpha = 1 - rewrite_effects.confidence_level
    rows, labels = [], []
    for label, fitted in (amce or {}).items():
        rows.append(_amce_row(label, fitted, factor, alpha))
        labels.append(label)
    ate = rewrite_effects.effects_.loc["ATE"]
    estimate, low, high = rewrite_effects.preference_effect()
    rows.append([estimate, low, high, "interventional", ate["estimate"]])
    labels.append("reward model, RATE")
    naive = rewrite_effects.preference_effect(naive=True)
    rows.append([*naive, "interventional, naive", ate["naive"]])
    labels.append("reward model, naive rewrite")
    return pd.DataFrame(rows, index=labels, columns=_COLUMNS)


def plot_effect_comparison(frame, ax=None, *, title=None):
    """Plot :func:`compare_effects`'s table: one interval per effect.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`compare_effects`.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; None makes a new figure.
    title : str or None, default=None
        The axes' title.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    missing = [c for c in ("estimate", "ci_low", "ci_high", "kind") if c not in frame]
    if missing:
        raise ValueError(
            f"plot_effect_comparison expects the table compare_effects returns; it "
            f"lacks the columns {missing}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.5 + 0.55 * len(frame)))
    positions = np.arange(len(frame))[::-1]
    markers = {"observational (AMCE)": "o", "interventional": "s"}
    for pos, (_, row) in zip(positions, frame.iterrows(), strict=True):
        ax.errorbar(
            row["estimate"],
            pos,
            xerr=[
                [row["estimate"] - row["ci_low"]],
                [row["ci_high"] - row["estimate"]],
            ],
            fmt=markers.get(row["kind"], "x"),
            color="C0" if row["kind"].startswith("observational") else "C1",
            capsize=3,
        )
    ax.axvline(0.5, color="0.6", lw=1)
    ax.set_yticks(positions, [str(label) for label in frame.index])
    ax.set_xlabel("P(with the attribute ≻ without)   (0.5: no effect)")
    if title is not None:
        ax.set_title(title)
    return ax
