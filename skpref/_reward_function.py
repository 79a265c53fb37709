"""Rewards out: score raw text with a fitted text pipeline, for RL trainers.

A *text pipeline* is a fitted :class:`~sklearn.pipeline.Pipeline` whose first step
is an :class:`~skpref.LLMEmbeddingTransformer` and whose last step is a reward model
with ``predict_reward``. The embedder turns each prompt-response pair into
``[e(x, r) | c]`` (:meth:`~skpref.LLMEmbeddingTransformer.transform_responses`) and
the model's ``predict_reward`` scores it.
"""

import warnings
from numbers import Real

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from skpref.utils import (
    Interval,
    StrOptions,
    encode_objectives,
    objective_from_columns,
    validate_params,
)

__all__ = ["predict_text_reward", "reward_function"]


def _text_pipeline(pipeline, owner):
    """Return ``(embedder, reward_model)`` of a fitted text pipeline, or say why not."""
    from skpref.embeddings import LLMEmbeddingTransformer

    expected = (
        "a fitted Pipeline([('embed', LLMEmbeddingTransformer(...)), "
        "('reward', <a reward model>)])"
    )
    if not isinstance(pipeline, Pipeline):
        raise ValueError(f"{owner} expects {expected}; got {type(pipeline).__name__}.")
    steps = [step for _, step in pipeline.steps if step not in (None, "passthrough")]
    if len(steps) != 2 or not isinstance(steps[0], LLMEmbeddingTransformer):
        names = [type(step).__name__ for step in steps]
        raise ValueError(
            f"{owner} expects {expected}: the embedder first, the reward model "
            f"last and nothing between them; got the steps {names}."
        )
    embedder, model = steps
    if not hasattr(model, "predict_reward"):
        raise ValueError(
            f"{owner}: the last step, {type(model).__name__}, has no predict_reward; "
            "use a skpref reward model (BTLRewardRegressor, MultiheadRewardModel, "
            "AdversarialRewardModel)."
        )
    check_is_fitted(embedder)
    check_is_fitted(model)
    model_coding = getattr(model, "objective_categories_", None)
    coding = embedder.objective_categories_
    if model_coding is not None and coding is not None:
        model_coding, coding = [str(c) for c in model_coding], [str(c) for c in coding]
        if model_coding != coding:
            raise ValueError(
                f"{owner}: the embedder codes objectives as {coding} but the "
                f"reward model as {model_coding}; the same name would pick "
                "another head. Refit the pipeline with one objective_categories."
            )
    return embedder, model


def _check_aggregate(model, aggregate, owner):
    """Fail when the function is made if ``aggregate`` needs what the model lacks."""
    if aggregate is not None and not hasattr(model, "predict_reward_members"):
        raise ValueError(
            f"{owner}: aggregate={aggregate!r} combines the rewards of the members "
            f"of an ensemble, but the reward model is a single "
            f"{type(model).__name__}. Fit a skpref.RewardEnsemble of it, or leave "
            "aggregate=None."
        )


def _score(model, E, aggregate, k, normalize=False, clip=None):
    """Return the rewards of ``E``: the model's, or its members' aggregated."""
    if aggregate is None:
        reward = model.predict_reward(E, normalize=normalize)
    else:
        members = model.predict_reward_members(E, normalize=normalize)
        if aggregate == "mean":
            reward = members.mean(0)
        elif aggregate == "min":
            reward = members.min(0)
        else:  # "mean_minus_std"
            reward = members.mean(0) - k * members.std(0)
    return reward if clip is None else np.clip(reward, -clip, clip)


def _check_scale(model, normalize, clip, owner):
    """Fail when the function is made if the scale asked for cannot be given."""
    if clip is not None and not normalize:
        raise ValueError(
            f"{owner}: clip={clip!r} bounds z-scores, which only normalize=True "
            "gives; pass normalize=True, or drop clip."
        )
    if normalize and not hasattr(model, "reward_std_"):
        raise ValueError(
            f"{owner}: normalize=True needs the scale of the training rewards, "
            f"which this {type(model).__name__} does not have: it was fitted or "
            "saved before skpref recorded it. Refit the pipeline."
        )


def _rewards(
    embedder,
    model,
    prompts,
    responses,
    objective,
    *,
    write_cache,
    warn,
    aggregate=None,
    k=1.0,
    normalize=False,
    clip=None,
):
    """Rewards of texts of any form, brought to the form the embedder was fitted on.

    ``warn(problems)`` is called with what could not be told or carried over.
    """
    no_prompts = prompts is None or (hasattr(prompts, "__len__") and not len(prompts))
    if isinstance(responses, list | tuple | np.ndarray) and no_prompts:
        if len(responses) == 0:  # the rewards of no responses: nothing to embed
            return np.empty(0, dtype=np.float64)
    prompts, responses, problems = embedder._in_fitted_format(prompts, responses)
    if problems:
        warn(problems)
    E = embedder._transform_responses(
        prompts, responses, objective, write_cache=write_cache
    )
    return _score(model, E, aggregate, k, normalize, clip)


def warn_unfitted_form(owner, problems, *, stacklevel=4):
    """Warn that texts could not all be brought to the form the embedder was fitted on.

    ``problems`` are what the embedder could not tell or carry over; the reward
    function, :func:`predict_text_reward` and the reward server say it alike.
    """
    warnings.warn(
        f"{owner}: {'; '.join(sorted(problems))}. Check that the texts reach the "
        "reward model in the form it was trained on.",
        UserWarning,
        stacklevel=stacklevel,
    )


_AGGREGATE = {
    "aggregate": [StrOptions({"mean", "min", "mean_minus_std"}), None],
    "k": [Interval(Real, 0, None, closed="left")],
    "normalize": ["boolean"],
    "clip": [Interval(Real, 0, None, closed="neither"), None],
}


@validate_params(
    {
        "pipeline": "no_validation",
        "prompts": "no_validation",
        "responses": "no_validation",
        "objective": "no_validation",
        **_AGGREGATE,
    },
    prefer_skip_nested_validation=True,
)
def predict_text_reward(
    pipeline,
    prompts,
    responses,
    *,
    objective=None,
    aggregate=None,
    k=1.0,
    normalize=False,
    clip=None,
):
    """Reward of raw prompt-response texts under a fitted text pipeline.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted; an :class:`~skpref.LLMEmbeddingTransformer` first, a reward model
        with ``predict_reward`` last, nothing between them.
    prompts : sequence of str or conversations, or None
        One prompt per response (None if the embedder has ``prompt_column=None``).
    responses : sequence of str or conversations
        The responses to score.
    objective : str, int, sequence or None, default=None
        The objective (a name of the embedder's coding, or an id), one for all
        responses or one each; required for multi-objective pipelines.
    aggregate : {"mean", "min", "mean_minus_std"} or None, default=None
        For a pipeline ending in a :class:`~skpref.RewardEnsemble`: how its
        members' rewards are combined (see :func:`reward_function`). None: the
        model's ``predict_reward``.
    k : float, default=1.0
        The weight of the members' spread for ``aggregate="mean_minus_std"``.
    normalize : bool, default=False
        Z-scores on the scale of the training rewards (see
        :func:`reward_function`).
    clip : float or None, default=None
        With ``normalize=True``, bound the z-scores to ``[-clip, clip]``.

    Returns
    -------
    reward : ndarray of shape (n_responses,)
        ``r(x, response)`` (under ``objective``). Rewards are identified up to
        an additive constant per prompt: compare them, do not read them alone.
        Prompts and responses are brought to the form of the training texts
        first, as :func:`reward_function` does.

    See Also
    --------
    reward_function : The same as a reward function for RL trainers.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from skpref import LLMEmbeddingTransformer, predict_text_reward
    >>> pipe = Pipeline([("embed", LLMEmbeddingTransformer()), ("reward", None)])
    >>> predict_text_reward(pipe, ["Hi"], ["Hello!"])
    Traceback (most recent call last):
    ...
    ValueError: predict_text_reward expects a fitted Pipeline([('embed', \
LLMEmbeddingTransformer(...)), ('reward', <a reward model>)]): the embedder first, \
the reward model last and nothing between them; got the steps \
['LLMEmbeddingTransformer'].
    """
    embedder, model = _text_pipeline(pipeline, "predict_text_reward")
    _check_aggregate(model, aggregate, "predict_text_reward")
    _check_scale(model, normalize, clip, "predict_text_reward")
    return _rewards(
        embedder,
        model,
        prompts,
        responses,
        objective,
        write_cache=True,
        warn=lambda problems: warn_unfitted_form("predict_text_reward", problems),
        aggregate=aggregate,
        k=k,
        normalize=normalize,
        clip=clip,
    )


class _TextRewardFunction:
    """A picklable reward function ``(prompts, completions, **kwargs) -> rewards``."""

    def __init__(self, pipeline, objective, aggregate, k, normalize, clip):
        embedder, model = _text_pipeline(pipeline, "reward_function")
        _check_aggregate(model, aggregate, "reward_function")
        _check_scale(model, normalize, clip, "reward_function")
        self.aggregate, self.k = aggregate, k
        self.normalize, self.clip = normalize, clip
        if objective is not None:
            if embedder.objective_column_ is None:
                raise ValueError(
                    "reward_function: the pipeline was fitted without an objective "
                    f"column, so it takes no objective; got objective={objective!r}."
                )
            # an unknown name fails now, not in the middle of a training run
            encode_objectives(
                np.atleast_1d(objective),
                embedder.objective_categories_,
                owner="reward_function",
            )
        self.pipeline = pipeline
        self.objective = objective
        self._warned = False  # about texts it could not bring to the fitted form
        # TRL logs each reward function under its __name__
        suffix = "" if objective is None else f"_{objective}"
        self.__name__ = f"skpref_reward{suffix}"

    def __call__(self, prompts, completions, **kwargs):
        embedder, model = _text_pipeline(self.pipeline, "reward_function")
        column = embedder.objective_column_
        objective = objective_from_columns(
            self.objective,
            column,
            kwargs,
            owner="reward_function",
            pipeline="pipeline",
        )
        rewards = _rewards(
            embedder,
            model,
            prompts,
            completions,
            objective,
            write_cache=False,
            warn=self._warn_once,
            aggregate=self.aggregate,
            k=self.k,
            normalize=self.normalize,
            clip=self.clip,
        )
        return [float(reward) for reward in rewards]

    def _warn_once(self, problems):
        if not self._warned:
            self._warned = True
            warn_unfitted_form("reward_function", problems)


@validate_params(
    {"pipeline": "no_validation", "objective": "no_validation", **_AGGREGATE},
    prefer_skip_nested_validation=True,
)
def reward_function(
    pipeline, objective=None, *, aggregate=None, k=1.0, normalize=False, clip=None
):
    """Return a reward function of raw text for RL trainers (TRL's ``reward_funcs``).

    The function has the signature of TRL's GRPO reward functions,
    ``reward(prompts, completions, **kwargs) -> list[float]``: prompts and
    completions are strings, or conversations (lists of ``{"role", "content"}``
    messages; the embedder renders them with the model's chat template when it
    uses one, else in its plain format); other dataset columns arrive as
    keyword arguments, and the ones it does not use are ignored. Each call embeds
    all completions in batches on the embedder's device and scores them on the
    reward model's device.

    Prompts and completions are first brought to the form of the texts the
    pipeline was trained on (the embedder's ``text_format_``): for a pipeline
    trained on HH-RLHF prompts (``"Human: q"``), the bare question ``"q"``, the
    prompt with the assistant's label ``Assistant:`` appended and the conversation
    ``[{"role": "user", "content": "q"}]`` are all scored as ``"Human: q"``, and
    a conversational completion as its text. What cannot be carried over (a
    system message into a text prompt, a pipeline saved before forms were
    recorded) is said once, in a ``UserWarning``.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        A fitted text pipeline: an :class:`~skpref.LLMEmbeddingTransformer`
        first, a reward model with ``predict_reward`` last.
    objective : str, int or None, default=None
        For multi-objective pipelines, the objective to reward: a name of the
        embedder's coding (``objective_categories_``) or an id. None takes it
        per completion from the keyword argument named like the embedder's
        objective column (a dataset column). A reward model whose
        ``objective_categories_`` disagrees with the embedder's is an error.
    aggregate : {"mean", "min", "mean_minus_std"} or None, default=None
        Conservative rewards from a pipeline ending in a
        :class:`~skpref.RewardEnsemble` (Coste et al., 2024): ``"mean"`` of the
        members' centred rewards (what ``predict_reward`` gives), their ``"min"``
        (worst-case optimisation), or ``"mean_minus_std"``, the mean less ``k``
        times their standard deviation (uncertainty-weighted optimisation). The
        members are scored in one pass over the embeddings. None: the model's
        ``predict_reward``; a single model with an ``aggregate`` is an error.
    k : float, default=1.0
        The weight of the members' spread for ``aggregate="mean_minus_std"``.
    normalize : bool, default=False
        Rewards on a known scale: z-scores ``(r - reward_mean_) /
        reward_std_`` of the completion's objective, the mean and standard
        deviation of the rewards of the training responses, stored by the
        reward model at fit. With ``aggregate``, the aggregate of the members'
        rewards on the ensemble's scale. A model fitted or saved before the
        scale was stored is an error when the function is made.
    clip : float or None, default=None
        With ``normalize=True``, bound the z-scores to ``[-clip, clip]``.

    Returns
    -------
    reward : callable
        ``reward(prompts, completions, **kwargs) -> list[float]``, picklable,
        with a ``__name__`` (``"skpref_reward"``, then ``"_<objective>"``) for
        the trainer's logs. It reads the embedding cache but never writes to
        it: completions are new at every step, and the cache would grow
        without bound.

    See Also
    --------
    predict_text_reward : The rewards as an array, writing to the cache.

    Notes
    -----
    Rewards are identified up to an additive constant per prompt, which is what
    group-relative methods such as GRPO use (they compare the completions of
    one prompt).

    Examples
    --------
    >>> from skpref import reward_function
    >>> reward_function("not a pipeline")
    Traceback (most recent call last):
    ...
    ValueError: reward_function expects a fitted Pipeline([('embed', \
LLMEmbeddingTransformer(...)), ('reward', <a reward model>)]); got str.
    """
    return _TextRewardFunction(pipeline, objective, aggregate, k, normalize, clip)
