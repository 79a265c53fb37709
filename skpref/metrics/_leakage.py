"""How much of a covariate a fitted reward model still carries, on held-out pairs.

A reward model trained to ignore the length of a response (an invariance term, a
concept eraser in front of it) can still let the length be read off its rewards or
off its latent representation. :func:`covariate_leakage` measures that on pairs the
model was not trained on: linear probes, cross-fitted so that no probe is scored on
a pair it was fitted to, predict the covariate difference ``c(a) - c(b)`` of each
pair from the reward difference and from the representation difference, and every
figure gets a percentile bootstrap interval over the pairs.
"""

from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from skpref.utils import HasMethods, Interval, num_samples, validate_params

__all__ = ["LeakageReport", "covariate_leakage"]

_OWNER = "covariate_leakage"

#: The measures in table order, each with the value a probe without information
#: gets: an R² of 0 (predicting the mean), an AUC of 0.5, no correlation.
CHANCE = {
    "reward_r2": 0.0,
    "reward_auc": 0.5,
    "reward_corr": 0.0,
    "representation_r2": 0.0,
    "representation_auc": 0.5,
}

#: Penalties searched by the ridge probes (leave-one-out, inside each training
#: fold) on standardised features.
_ALPHAS = np.logspace(-3, 3, 7)

#: Values resampled in one batch of the bootstrap (each of them a float64).
_BATCH_VALUES = 4_000_000


@dataclass(frozen=True, eq=False, repr=False)
class LeakageReport:
    """The result of :func:`covariate_leakage`: each measure with its interval.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per measure (index ``measure``), with columns ``estimate``,
        ``low`` and ``high`` (the percentile bootstrap interval at
        ``confidence_level``), ``n`` (the pairs the measure is computed on:
        all for the R²s and the correlation, those whose responses differ in
        the covariate for the AUCs) and ``chance`` (the value of a probe
        without information). A measure whose estimate is undefined (e.g. the
        correlation of constant rewards) has NaN in all three.
    covariate : str
        The covariate measured.
    confidence_level : float
        The level of the intervals.
    skipped : dict of str to str
        The measures left out of ``table``, each with why (an estimator
        without ``predict_latent`` has no representation rows).

    Examples
    --------
    >>> import pandas as pd
    >>> from skpref.metrics import LeakageReport
    >>> table = pd.DataFrame({"estimate": [0.6], "low": [0.5], "high": [0.7],
    ...                       "n": [200], "chance": [0.0]},
    ...                      index=pd.Index(["reward_r2"], name="measure"))
    >>> report = LeakageReport(table, "length", 0.95)
    >>> print(report.to_markdown())
    | measure | estimate | 95% CI | n | chance |
    |---|---|---|---|---|
    | reward_r2 | 0.600 | [0.500, 0.700] | 200 | 0.000 |
    """

    table: pd.DataFrame
    covariate: str
    confidence_level: float
    skipped: dict = field(default_factory=dict)

    def _level(self):
        return f"{100 * self.confidence_level:g}%"

    def _rows(self):
        def number(value):
            return "nan" if np.isnan(value) else f"{value:.3f}"

        return [
            [
                str(measure),
                number(row.estimate),
                f"[{number(row.low)}, {number(row.high)}]",
                str(int(row.n)),
                number(row.chance),
            ]
            for measure, row in zip(
                self.table.index, self.table.itertuples(), strict=True
            )
        ]

    def to_markdown(self):
        """Return the table as Markdown, then the skipped measures and why.

        Returns
        -------
        text : str
        """
        header = ["measure", "estimate", f"{self._level()} CI", "n", "chance"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in self._rows()]
        lines += [f"\n{name}: skipped, {why}" for name, why in self.skipped.items()]
        return "\n".join(lines)

    def __repr__(self):
        rows = [["measure", "estimate", f"{self._level()} CI", "n", "chance"]]
        rows += self._rows()
        widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
        lines = [f"LeakageReport of {self.covariate!r}"]
        lines += [
            "  ".join(
                cell.ljust(width) if j == 0 else cell.rjust(width)
                for j, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
            for row in rows
        ]
        lines += [f"{name}: skipped, {why}" for name, why in self.skipped.items()]
        return "\n".join(lines)

    def plot(self, ax=None):
        """Each measure's estimate with its interval, beside its chance level.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            None draws on a new figure.

        Returns
        -------
        ax : matplotlib Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.8 + 0.5 * len(self.table)))
        positions = np.arange(len(self.table))[::-1]
        estimate = self.table["estimate"].to_numpy(float)
        errors = np.vstack(
            [
                estimate - self.table["low"].to_numpy(float),
                self.table["high"].to_numpy(float) - estimate,
            ]
        )
        ax.errorbar(estimate, positions, xerr=np.clip(errors, 0, None), fmt="o",
                    color="tab:blue", capsize=3,
                    label=f"estimate ({self._level()} CI)")  # fmt: skip
        ax.scatter(self.table["chance"], positions, marker="|", s=200,
                   color="tab:red", zorder=3, label="chance")  # fmt: skip
        ax.set_yticks(positions, [str(name) for name in self.table.index])
        ax.set_xlabel(f"leakage of {self.covariate!r} on held-out pairs")
        ax.set_ylabel("measure")
        ax.set_title(f"How much of {self.covariate!r} can still be read")
        ax.legend(loc="best", fontsize="small")
        return ax


# Statistics of the bootstrap, along the last axis (scipy.stats.bootstrap calls
# them on a batch of resamples at once). Written here rather than sklearn's
# r2_score / roc_auc_score and scipy's pearsonr on paired samples, which take one
# sample per call. Measured (200 pairs, 1,000 resamples, one call per resample):
# the AUC's interval 1.52 s with roc_auc_score against 0.02 s here, the R²'s 0.28 s
# with r2_score against 0.008 s; the probes themselves take about 0.13 s.


def _r2(truth, prediction, axis=-1):
    """R² as ``r2_score``: of a constant truth, 1 if predicted exactly, else 0.

    A resample of a few pairs may draw one covariate difference only; -inf there
    made scipy's standard error of the resamples subtract inf from inf.
    """
    residual = np.sum((truth - prediction) ** 2, axis=axis)
    centred = truth - np.mean(truth, axis=axis, keepdims=True)
    total = np.sum(centred**2, axis=axis)
    constant = total == 0
    explained = 1.0 - residual / np.where(constant, 1.0, total)
    return np.where(constant, np.where(residual == 0, 1.0, 0.0), explained)


def _auc(positive, negative, axis=-1):
    """Mann-Whitney AUC: the share of (positive, negative) couples ranked right."""
    n_positive, n_negative = positive.shape[axis], negative.shape[axis]
    ranks = stats.rankdata(np.concatenate([positive, negative], axis=axis), axis=axis)
    rank_sum = np.sum(ranks[..., :n_positive], axis=axis)
    return (rank_sum - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)


def _pooled_correlation(reward_a, reward_b, covariate_a, covariate_b, axis=-1):
    """Pearson correlation over both responses of every pair."""
    reward = np.concatenate([reward_a, reward_b], axis=axis)
    value = np.concatenate([covariate_a, covariate_b], axis=axis)
    reward = reward - np.mean(reward, axis=axis, keepdims=True)
    value = value - np.mean(value, axis=axis, keepdims=True)
    scale = np.sqrt(np.sum(reward**2, axis=axis) * np.sum(value**2, axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(reward * value, axis=axis) / scale


def _row(statistic, data, *, paired, n, measure, level, n_resamples, seed):
    """``[estimate, low, high, n, chance]`` of one measure."""
    estimate = float(statistic(*data))
    low = high = np.nan
    if np.isfinite(estimate):
        result = stats.bootstrap(
            data,
            statistic,
            n_resamples=n_resamples,
            # resamples of a few million values at a time: bounded memory for
            # any number of pairs, one batch up to 2,000 pairs
            batch=max(1, _BATCH_VALUES // sum(np.shape(x)[-1] for x in data)),
            paired=paired,
            confidence_level=level,
            method="percentile",
            random_state=np.random.default_rng(seed),
        )
        low, high = map(float, result.confidence_interval)
    return [estimate, low, high, n, CHANCE[measure]]


def _cross_fitted(features, difference, folds, seed):
    """Out-of-fold predictions of ``difference`` and of its sign (ties left out)."""
    # The probes are small (a few thousand rows, at most a few hundred columns):
    # one BLAS thread. Measured on 2 loaded cores, latent_dim 64, 1,000
    # resamples: 0.14 s for 200 pairs and 0.73 s for 2,000, against 0.80 s and
    # 3.4 s with OpenBLAS's two threads spin-waiting.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_probes(features, difference, folds, seed)


def _fit_probes(features, difference, folds, seed):
    regressor = make_pipeline(StandardScaler(), RidgeCV(alphas=_ALPHAS))
    splits = KFold(folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(regressor, features, difference, cv=splits)
    unequal = difference != 0
    classifier = make_pipeline(StandardScaler(), LogisticRegression())
    sign = (difference[unequal] > 0).astype(np.int64)
    probability = cross_val_predict(
        classifier,
        features[unequal],
        sign,
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        method="predict_proba",
    )[:, 1]
    return predicted, probability[sign == 1], probability[sign == 0]


def _response_halves(estimator, X):
    """Return the a and b responses of the pairs, with the objective column if any."""
    X = check_array(X, ensure_all_finite=False, input_name="X")
    width = X.shape[1]
    d = getattr(estimator, "n_pair_features_", width // 2)
    if width - 2 * d not in (0, 1):
        raise ValueError(
            f"{_OWNER} expects X of shape (n_pairs, 2 * n_features) laid out as "
            "[response_a | response_b], plus an objective column for multi-"
            f"objective models; got {width} columns for responses of {d} features."
        )
    objective = X[:, 2 * d :]
    return np.hstack([X[:, :d], objective]), np.hstack([X[:, d : 2 * d], objective])


def _covariate_sides(covariates, covariate, n_pairs):
    """Return the covariate of response a and of response b, shape (n_pairs, 2)."""
    from skpref.covariates import encode_pair_covariate

    coded = encode_pair_covariate(
        covariates,
        covariate,
        kind="continuous",
        n_pairs=n_pairs,
        owner=_OWNER,
        argument="covariate",
    )
    return coded.values.astype(np.float64)


def _check_folds(difference, cv, covariate):
    more, less = int(np.sum(difference > 0)), int(np.sum(difference < 0))
    if min(more, less) < cv:
        raise ValueError(
            f"{_OWNER} cross-fits its probes with cv={cv} folds, and needs at least "
            f"cv pairs in which response a has more of the covariate {covariate!r} "
            f"and cv in which it has less; got {more} and {less} (of "
            f"{difference.size} pairs). Pass more held-out pairs or a smaller cv."
        )


@validate_params(
    {
        "estimator": [HasMethods(["decision_function"]), HasMethods(["transform"])],
        "X": ["array-like"],
        "covariates": ["array-like"],
        "covariate": [str],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "n_resamples": [Interval(Integral, 10, None, closed="left")],
        "confidence_level": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def covariate_leakage(
    estimator,
    X,
    covariates,
    *,
    covariate="length",
    cv=5,
    n_resamples=1000,
    confidence_level=0.95,
    random_state=None,
):
    """Measure how much of a covariate can still be read from a fitted model.

    On held-out pairs ``X`` (pairs the model was not trained on), linear probes
    predict the covariate difference ``c(a) - c(b)`` of each pair, and its sign,
    from what the model outputs. Each probe is cross-fitted: the pairs are cut
    into ``cv`` folds and each fold is predicted by a probe fitted on the
    others, so a probe is never scored on a pair it has seen. The measures:

    - ``reward_r2``: held-out R² of a linear regression (ridge, standardised)
      of ``c(a) - c(b)`` on the reward difference ``r(a) - r(b)``
      (``decision_function``);
    - ``reward_auc``: held-out AUC of a logistic regression of the sign of
      ``c(a) - c(b)`` on the reward difference, pairs with ``c(a) = c(b)`` left
      out;
    - ``reward_corr``: Pearson correlation of ``r`` (``predict_reward``) with
      ``c`` over both responses of every pair (no probe);
    - ``representation_r2`` and ``representation_auc``: the same probes on the
      representation difference ``z(a) - z(b)``, ``z`` from ``predict_latent``
      (the encoder's output, which the reward head reads).

    Each gets a percentile bootstrap interval (:func:`scipy.stats.bootstrap`)
    over the pairs, the probes' out-of-fold predictions held fixed: the R²s and
    the correlation resample pairs (both responses of a pair together), the
    AUCs resample the pairs of each sign separately (a stratified bootstrap,
    so that every resample has both).

    Parameters
    ----------
    estimator : fitted reward model or transformer of pairs
        A reward model (it has ``decision_function``): the reward rows come
        from ``decision_function``, ``reward_corr`` from ``predict_reward`` and
        the representation rows from ``predict_latent``, each where the
        estimator has it (a :class:`~skpref.RewardEnsemble` or a pipeline has
        no ``predict_latent``: its representation rows are left out, and so
        is ``reward_corr`` without ``predict_reward``). A transformer of pairs
        that keeps the ``[a | b]`` layout, such as
        :class:`~skpref.preprocessing.LinearConceptEraser`: only the
        representation rows, the representation being the transformed
        features of each response; an identity
        :class:`~sklearn.preprocessing.FunctionTransformer` measures the raw
        features.
    X : array-like of shape (n_pairs, 2 * d) or (n_pairs, 2 * d + 1)
        Held-out pairs ``[a | b]``, plus the objective id for multi-objective
        models (passed to ``predict_reward`` and ``predict_latent`` with each
        response).
    covariates : DataFrame or array-like
        The covariate of both responses of each pair, in a form
        :func:`~skpref.covariates.encode_pair_covariate` reads: columns
        ``<covariate>_a`` and ``<covariate>_b`` of a DataFrame (as
        :func:`~skpref.covariates.pair_covariates` returns), an array of shape
        ``(n_pairs, 2)`` ``[a | b]``, or the table of pairs itself (columns
        ``response_a`` and ``response_b``) for a built-in covariate
        (``"length"`` is ``"n_characters"``). Numbers only; every measure is
        the same in any unit.
    covariate : str, default="length"
        The covariate's name.
    cv : int, default=5
        Number of folds of the cross-fitting (shuffled, seeded by
        ``random_state``; stratified by sign for the AUCs).
    n_resamples : int, default=1000
        Number of bootstrap resamples of each interval.
    confidence_level : float, default=0.95
        Level of the intervals.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and the resamples (through
        :func:`sklearn.utils.check_random_state`): an int gives the same
        report every time.

    Returns
    -------
    report : LeakageReport
        ``report.table``: one row per measure, in the order ``reward_r2,
        reward_auc, reward_corr, representation_r2, representation_auc``
        (those that apply), with ``estimate, low, high, n, chance``.

    See Also
    --------
    reward_covariate_correlation : The correlation of the reward difference
        with the covariate difference, as a scorer for model selection.
    skpref.preprocessing.LinearConceptEraser : Linear removal of a covariate
        from the features, whose effect this measures on held-out pairs.
    skpref.invariance.Decorrelation : A penalty on the correlation of the
        rewards with a covariate, while training.

    Notes
    -----
    R² is ``1 - SSE / SST`` of the out-of-fold predictions, 0 for a probe that
    knows nothing (it may fall below 0 out of fold); an AUC of 0.5 and a
    correlation of 0 mean the same. Each probe is linear: what a non-linear
    probe could still find is not measured. The folds are the same for the
    reward and the representation probes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skpref.metrics import covariate_leakage
    >>> rng = np.random.default_rng(0)
    >>> length = rng.gamma(2.0, 50.0, size=(100, 2))  # [length_a | length_b]
    >>> E_a, E_b = rng.normal(size=(2, 100, 3))
    >>> E_a[:, 0] += length[:, 0] / 50  # the first feature carries the length
    >>> E_b[:, 0] += length[:, 1] / 50
    >>> raw = FunctionTransformer().fit(np.hstack([E_a, E_b]))
    >>> report = covariate_leakage(raw, np.hstack([E_a, E_b]), length,
    ...                            n_resamples=100, random_state=0)
    >>> report.table.index.tolist()
    ['representation_r2', 'representation_auc']
    >>> bool(report.table.loc["representation_r2", "estimate"] > 0.5)
    True
    """
    check_is_fitted(estimator)
    n_pairs = num_samples(X)
    sides = _covariate_sides(covariates, covariate, n_pairs)
    difference = sides[:, 0] - sides[:, 1]
    if not np.any(difference):
        raise ValueError(
            f"{_OWNER} reads how the covariate {covariate!r} differs between the "
            "two responses of a pair, but it is the same for both responses of "
            "every pair (one value per pair?). Pass one value per response: an "
            f"array of shape (n_pairs, 2) or the columns '{covariate}_a' and "
            f"'{covariate}_b'."
        )
    _check_folds(difference, cv, covariate)
    rng = check_random_state(random_state)
    # one seed for the folds and one per measure: a measure's interval does not
    # depend on which other measures the estimator allows
    fold_seed, *seeds = rng.randint(np.iinfo(np.int32).max, size=1 + len(CHANCE))
    seeds = dict(zip(CHANCE, seeds, strict=True))
    unequal = int(np.count_nonzero(difference))
    name = type(estimator).__name__

    def row(measure, statistic, data, paired=True):
        n = n_pairs if paired else unequal
        return _row(statistic, data, paired=paired, n=n, measure=measure,
                    level=confidence_level, n_resamples=n_resamples,
                    seed=seeds[measure])  # fmt: skip

    def probes(prefix, features):
        predicted, positive, negative = _cross_fitted(
            features, difference, cv, fold_seed
        )
        return {
            f"{prefix}_r2": row(f"{prefix}_r2", _r2, (difference, predicted)),
            f"{prefix}_auc": row(f"{prefix}_auc", _auc, (positive, negative), False),
        }

    rows, skipped = {}, {}
    if hasattr(estimator, "decision_function"):
        margin = np.asarray(estimator.decision_function(X), dtype=np.float64)
        if margin.shape != (n_pairs,) or not np.all(np.isfinite(margin)):
            raise ValueError(
                f"{_OWNER} expects {name}.decision_function(X) to give one finite "
                f"reward difference per pair, {n_pairs} of them; got shape "
                f"{margin.shape}."
            )
        rows.update(probes("reward", margin[:, None]))
        E_a, E_b = _response_halves(estimator, X)
        if hasattr(estimator, "predict_reward"):
            reward = np.asarray(estimator.predict_reward(np.vstack([E_a, E_b])))
            reward = reward.astype(np.float64).reshape(2, n_pairs)
            rows["reward_corr"] = row(
                "reward_corr", _pooled_correlation, (*reward, *sides.T)
            )
        else:
            skipped["reward_corr"] = f"{name} has no predict_reward"
        if hasattr(estimator, "predict_latent"):
            latent = np.asarray(estimator.predict_latent(np.vstack([E_a, E_b])))
            latent = latent.astype(np.float64).reshape(2, n_pairs, -1)
            rows.update(probes("representation", latent[0] - latent[1]))
        else:
            skipped["representation_r2"] = f"{name} has no predict_latent"
            skipped["representation_auc"] = f"{name} has no predict_latent"
    else:
        features = np.asarray(estimator.transform(X), dtype=np.float64)
        d = getattr(estimator, "n_pair_features_", features.shape[1] // 2)
        rows.update(probes("representation", features[:, :d] - features[:, d : 2 * d]))
        for measure in ("reward_r2", "reward_auc", "reward_corr"):
            skipped[measure] = f"{name} is a transformer, without rewards"
    table = pd.DataFrame.from_dict(
        {measure: rows[measure] for measure in CHANCE if measure in rows},
        orient="index",
        columns=["estimate", "low", "high", "n", "chance"],
    )
    table.index.name = "measure"
    table["n"] = table["n"].astype(np.int64)
    return LeakageReport(table, covariate, float(confidence_level), skipped)
