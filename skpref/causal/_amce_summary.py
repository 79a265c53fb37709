"""Inference results of effects: intervals, tables, a printed summary (EconML's words).

:class:`EffectResultsMixin` gives an estimator with ``effects_`` and ``stderr_``
(and, after a fit by subgroup, ``groups_``, ``group_effects_``,
``group_stderr_``) the methods ``effect_interval``, ``summary_frame`` and
``summary``.
"""

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.utils.validation import check_is_fitted

__all__ = ["EffectResultsMixin", "EffectSummary"]

_POOLED = "pooled"


class EffectSummary:
    """Printable table of effects with the settings that define them.

    Returned by :meth:`AMCEEstimator.summary`; ``print(summary)`` shows the
    estimand's settings, then one row per effect.

    Parameters
    ----------
    title : str
        What the effects are.
    info : dict of str to object
        The settings and sizes that define the estimates (shown above the table).
    frame : pandas.DataFrame
        The effects, with the columns ``point_estimate, stderr, zstat, pvalue,
        ci_lower, ci_upper``.

    Attributes
    ----------
    title : str
    info : dict
    frame : pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.causal import EffectSummary
    >>> frame = pd.DataFrame({"point_estimate": [0.6]}, index=["length"])
    >>> print(EffectSummary("AMCE", {"n_pairs": 10}, frame))
    AMCE
    ====
    n_pairs  10
    <BLANKLINE>
            point_estimate
    length             0.6
    """

    def __init__(self, title, info, frame):
        self.title = title
        self.info = dict(info)
        self.frame = frame

    def __str__(self):
        width = max((len(key) for key in self.info), default=0)
        lines = [self.title, "=" * len(self.title)]
        lines += [f"{key:<{width}}  {value}" for key, value in self.info.items()]
        with pd.option_context("display.float_format", "{:.4g}".format):
            lines += ["", self.frame.to_string()]
        return "\n".join(lines)

    def __repr__(self):
        return f"EffectSummary({self.title!r}, {len(self.frame)} effects)"


class EffectResultsMixin:
    """Intervals, tables and a printed summary of ``effects_`` and ``stderr_``.

    The estimator provides ``factor_names_`` and ``_summary_info(alpha,
    null_value)``, the settings shown above the table.
    """

    def _estimates(self, group):
        """Effects and standard errors over all pairs, or of one subgroup."""
        if group is None:
            return self.effects_, self.stderr_
        known = getattr(self, "groups_", np.array([]))
        matches = np.flatnonzero(known.astype(object) == group)
        if matches.size != 1:
            raise ValueError(
                f"{type(self).__name__}: group={group!r} is not a subgroup of the "
                f"by= given to fit; the subgroups are {known.tolist()}."
            )
        return self.group_effects_[matches[0]], self.group_stderr_[matches[0]]

    def effect_interval(self, alpha=0.05, *, group=None):
        """Two-sided normal confidence intervals of the effects.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the confidence level.
        group : object, default=None
            A subgroup of ``by`` (see :meth:`fit`); ``None`` for all pairs.

        Returns
        -------
        lower, upper : ndarray of shape (n_factors,)
            ``effects -/+ z_{1 - alpha/2} * stderr``.
        """
        check_is_fitted(self)
        if not 0 < alpha < 1:
            raise ValueError(
                f"{type(self).__name__}.effect_interval expects alpha in (0, 1), "
                f"e.g. 0.05 for 95% intervals; got alpha={alpha!r}."
            )
        effects, stderr = self._estimates(group)
        half = norm.ppf(1 - alpha / 2) * stderr
        return effects - half, effects + half

    def summary_frame(self, alpha=0.05, null_value=0.5):
        """Table of the effects: estimate, stderr, z, p-value and interval.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the confidence level of the interval.
        null_value : float, default=0.5
            The AMCE under "no effect" that ``zstat`` and ``pvalue`` test.

        Returns
        -------
        frame : pandas.DataFrame
            One row per factor, indexed by ``factor``; after a fit with ``by``,
            one row per (``group``, ``factor``), the effects over all pairs
            first under the group ``"pooled"``. Columns ``point_estimate,
            stderr, zstat, pvalue, ci_lower, ci_upper``.
        """
        check_is_fitted(self)
        groups = [None] + list(getattr(self, "groups_", []))
        frames = []
        for group in groups:
            effects, stderr = self._estimates(group)
            lower, upper = self.effect_interval(alpha, group=group)
            zstat = (effects - null_value) / stderr
            frames.append(
                pd.DataFrame(
                    {
                        "point_estimate": effects,
                        "stderr": stderr,
                        "zstat": zstat,
                        "pvalue": 2 * norm.sf(np.abs(zstat)),
                        "ci_lower": lower,
                        "ci_upper": upper,
                    },
                    index=pd.Index(self.factor_names_, name="factor"),
                )
            )
        if len(frames) == 1:
            return frames[0]
        keys = [_POOLED, *groups[1:]]
        return pd.concat(frames, keys=keys, names=["group", "factor"])

    def summary(self, alpha=0.05, null_value=0.5):
        """Printable summary: the estimand's settings, then :meth:`summary_frame`.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the confidence level of the intervals.
        null_value : float, default=0.5
            The AMCE under "no effect" that ``zstat`` and ``pvalue`` test.

        Returns
        -------
        summary : EffectSummary
            ``print(summary)`` shows it; ``summary.frame`` is the table.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from skpref.causal import AMCEEstimator
        >>> rng = np.random.default_rng(0)
        >>> length = rng.normal(size=(500, 2))
        >>> y = rng.random(500) < 1 / (1 + np.exp(length[:, 1] - length[:, 0]))
        >>> Z = pd.DataFrame(length, columns=["length_a", "length_b"])
        >>> summary = AMCEEstimator().fit(Z, y).summary()
        >>> summary.info["continuous step"]  # one standard deviation
        {'length': 0.9768}
        >>> summary.frame.index.tolist()
        ['length']
        """
        frame = self.summary_frame(alpha, null_value)
        title, info = self._summary_info(alpha, null_value)
        return EffectSummary(title, info, frame)
