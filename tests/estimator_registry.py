"""The one registry of test-time parameters and expected check failures.

Estimators are found through the ``__all__`` of skpref and of its public
subpackages, so a new public estimator is tested the day it lands: with the
parameters registered in ``TEST_PARAMS`` if any, else with its defaults, seeded
and on the CPU (``PINNED``) where it takes those parameters.
``tests/test_common.py`` runs scikit-learn's checks (tier 1) over every one of them
and skpref's pair-contract checks (tier 2,
:mod:`skpref.utils.estimator_checks`) over every reward model among them, i.e.
every classifier with ``predict_proba`` and ``decision_function``. The checks an
estimator is known to fail are listed once, below, each with its reason.

Networks of the paper's size (width 512, lr 1e-4, 10 epochs) are needlessly slow in
the checks and can miss ``check_classifiers_train``'s accuracy bar, so the reward
models use small but still learning configurations, pinned to the CPU so that the
suite means the same numerics on a machine with a GPU.
"""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator, is_classifier

import skpref
from skpref import (
    AdversarialRewardModel,
    AMCEEstimator,
    BTLRewardRegressor,
    LLMEmbeddingTransformer,
    MultiheadRewardModel,
    RewardEnsemble,
)
from skpref.active import ActiveLearner
from skpref.causal import RewriteEffectEstimator, RuleBasedRewriter
from skpref.preprocessing import LinearConceptEraser

SMALL_NET = {
    "hidden_dim": 32,
    "latent_dim": 16,
    "max_epochs": 30,
    "lr": 1e-2,
    "batch_size": 32,
    "device": "cpu",
    "random_state": 0,
}
SMALL_HEADS = {**SMALL_NET, "head_hidden_dim": 16}
SMALL_ADVERSARY = {
    **SMALL_HEADS,
    "discriminator_hidden_dim": 16,
    "adversary_weight": 0.5,
}


# Estimators missing here are tested with their default parameters, pinned.
def _word_count_reward(prompts, responses):
    return [len(response.split()) for response in responses]


TEST_PARAMS = {
    RewriteEffectEstimator: [
        {
            "reward": _word_count_reward,
            "rewriter": RuleBasedRewriter(),
            "n_bootstrap": 10,
            "random_state": 0,
        }
    ],
    BTLRewardRegressor: [SMALL_NET, {**SMALL_NET, "with_objective": True}],
    MultiheadRewardModel: [SMALL_HEADS],
    # A covariate adversary (with_objective=False included) needs covariates=
    # at fit, which neither tier passes; tests/models/test_adversary_covariates.py
    # and test_adversary_without_objective.py test its contract (swap, clone,
    # pickle, save/load, seeded refits, pipelines, the engine).
    AdversarialRewardModel: [SMALL_ADVERSARY],
    RewardEnsemble: [
        {"estimator": BTLRewardRegressor(**SMALL_NET), "n_members": 2},
        # multi-objective: tier 1 fails at the data anyway; tier 2 needs no accuracy
        {
            "estimator": AdversarialRewardModel(**{**SMALL_ADVERSARY, "max_epochs": 8}),
            "n_members": 2,
        },
    ],
    LinearConceptEraser: [{}, {"with_objective": True}],
    # Without a pool the learner is its estimator fitted on (X, y); its rounds are
    # tested in tests/active.
    ActiveLearner: [
        {
            "estimator": BTLRewardRegressor(**SMALL_NET),
            "n_rounds": 2,
            "query_size": 5,
            "random_state": 0,
        }
    ],
}


def public_estimator_classes():
    """Every estimator class in ``__all__`` of skpref and its public subpackages.

    An estimator is a ``BaseEstimator`` with ``fit``: the query strategies of
    ``skpref.active`` inherit ``BaseEstimator`` for their parameters only.
    """
    modules = [skpref] + [
        importlib.import_module(f"skpref.{info.name}")
        for info in pkgutil.iter_modules(skpref.__path__)
        if info.ispkg and not info.name.startswith("_")
    ]
    found = [
        getattr(module, name)
        for module in modules
        for name in getattr(module, "__all__", [])
    ]
    classes = {
        obj
        for obj in found
        if inspect.isclass(obj)
        and issubclass(obj, BaseEstimator)
        and hasattr(obj, "fit")
        and not inspect.isabstract(obj)
    }
    return sorted(classes, key=lambda cls: cls.__name__)


# What the suite fixes for an unregistered estimator: the model tests compare
# seeded refits, and mean the same numerics on a machine with a GPU.
PINNED = {"random_state": 0, "device": "cpu"}


def _pinned_defaults(cls):
    params = inspect.signature(cls).parameters
    return {key: value for key, value in PINNED.items() if key in params}


def estimator_instances():
    """One instance per registered configuration (or the pinned defaults) of each."""
    return [
        cls(**params)
        for cls in public_estimator_classes()
        for params in TEST_PARAMS.get(cls, [_pinned_defaults(cls)])
    ]


def is_reward_model(estimator):
    """Whether tier 2 applies: a pair classifier with probabilities and margins."""
    return (
        is_classifier(estimator)
        and hasattr(estimator, "predict_proba")
        and hasattr(estimator, "decision_function")
    )


def reward_model_instances():
    """The registered instances that tier 2 checks."""
    return [e for e in estimator_instances() if is_reward_model(e)]


def single_reward_model_instances():
    """The registered reward models that are one model (not wrapping another).

    The model tests (tests/models, tests/test_persistence.py) run over these;
    meta-estimators (RewardEnsemble, ActiveLearner) have tests of their own.
    """
    return [
        e
        for e in reward_model_instances()
        if "estimator" not in e.get_params(deep=False)
    ]


def takes_objective(estimator):
    """Whether the last column of ``X`` holds the objective id."""
    default = getattr(estimator, "_with_objective", False)
    return bool(getattr(estimator, "with_objective", default))


# -- tier 1: scikit-learn's checks ------------------------------------------------
#
# Why each check fails. The generic checks draw X with 3 (or 1) columns, labels such
# as {1, 2} or strings, and continuous values in every column; the pair contract
# rejects each of these with a clear error, and tier 2 runs the same properties
# (pickling, subset and order invariance, seeded refits, sample weights...) on data
# shaped as the contract asks.
_ODD = (
    "X = [a | b] needs an even width; the check's data has {} columns, which the "
    "estimator rejects with a ValueError"
)
_ODD_3 = _ODD.format(3)
_LABELS = (
    "pair labels must be 0/1 (1 means response a is preferred); the check uses "
    "the labels {}"
)
_LABELS_12 = _LABELS.format("{1, 2}")
_OBJ_CONT = (
    "the last column must hold integer objective ids; the check's random data has "
    "a continuous last column"
)
_OBJ_WIDTH = (
    "X = [a | b | objective] needs an odd width; the check's data has {} columns"
)
_MINIBATCH_WEIGHTS = (
    "minibatch SGD draws batches over the rows, so an integer weight is not the "
    "same as repeating the row; tier 2 checks the weights' scale invariance"
)

_SINGLE_OBJECTIVE_FAILURES = {
    "check_classifier_data_not_an_array": _LABELS_12,
    "check_classifiers_classes": _LABELS.format("'one'/'two' (strings)"),
    "check_dict_unchanged": _ODD_3,
    "check_dont_overwrite_parameters": _ODD_3,
    "check_estimators_dtypes": _LABELS_12,
    "check_estimators_nan_inf": _ODD_3,
    "check_estimators_pickle": _ODD_3,
    "check_f_contiguous_array_estimator": _ODD_3,
    "check_fit2d_1feature": _ODD.format(1),
    "check_fit2d_predict1d": _ODD_3,
    "check_fit_score_takes_y": _ODD_3,
    "check_methods_sample_order_invariance": _ODD_3,
    "check_methods_subset_invariance": _ODD_3,
    "check_pipeline_consistency": _ODD_3,
    "check_supervised_y_2d": _ODD_3,
    "check_sample_weights_pandas_series": _LABELS_12,
    "check_sample_weights_not_an_array": _LABELS_12,
    "check_sample_weights_list": _ODD_3,
    "check_sample_weights_shape": _LABELS_12,
    "check_sample_weights_not_overwritten": _LABELS_12,
    "check_sample_weight_equivalence_on_dense_data": _MINIBATCH_WEIGHTS,
}

_MULTI_OBJECTIVE_FAILURES = {
    "check_classifier_data_not_an_array": _LABELS_12,
    "check_classifiers_classes": _LABELS.format("'one'/'two' (strings)"),
    "check_classifiers_train": _OBJ_WIDTH.format(2),
    "check_decision_proba_consistency": _OBJ_WIDTH.format(2),
    "check_dict_unchanged": _OBJ_CONT,
    "check_dont_overwrite_parameters": _OBJ_CONT,
    "check_dtype_object": _OBJ_WIDTH.format(10),
    "check_estimators_dtypes": _LABELS_12,
    "check_estimators_fit_returns_self": _OBJ_WIDTH.format(2),
    "check_estimators_nan_inf": _OBJ_CONT,
    "check_estimators_overwrite_params": _OBJ_WIDTH.format(2),
    "check_estimators_pickle": _OBJ_CONT,
    "check_f_contiguous_array_estimator": _OBJ_CONT,
    "check_fit2d_1feature": _OBJ_WIDTH.format(1) + " (or fewer than 3)",
    "check_fit2d_predict1d": _OBJ_CONT,
    "check_fit_check_is_fitted": _OBJ_WIDTH.format(2),
    "check_fit_idempotent": _OBJ_WIDTH.format(2),
    "check_fit_score_takes_y": _OBJ_CONT,
    "check_methods_sample_order_invariance": _OBJ_CONT,
    "check_methods_subset_invariance": _OBJ_CONT,
    "check_n_features_in": _OBJ_WIDTH.format(2),
    "check_n_features_in_after_fitting": _OBJ_WIDTH.format(4),
    "check_pipeline_consistency": _OBJ_CONT,
    "check_positive_only_tag_during_fit": _OBJ_CONT,
    "check_readonly_memmap_input": _OBJ_WIDTH.format(2),
    "check_supervised_y_2d": _OBJ_CONT,
    "check_sample_weights_pandas_series": _LABELS_12,
    "check_sample_weights_not_an_array": _LABELS_12,
    "check_sample_weights_list": _OBJ_CONT,
    "check_sample_weights_shape": _LABELS_12,
    "check_sample_weights_not_overwritten": _LABELS_12,
    "check_sample_weight_equivalence_on_dense_data": _OBJ_WIDTH.format(30),
}

_AMCE_MULTICLASS = (
    "AMCEEstimator takes 0/1 pair labels; the check's labels are multiclass"
)
_AMCE_FAILURES = {
    **dict.fromkeys(
        [
            "check_dict_unchanged",
            "check_dont_overwrite_parameters",
            "check_dtype_object",
            "check_estimators_fit_returns_self",
            "check_estimators_overwrite_params",
            "check_f_contiguous_array_estimator",
            "check_fit2d_predict1d",
            "check_fit_score_takes_y",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_n_features_in_after_fitting",
            "check_readonly_memmap_input",
            "check_positive_only_tag_during_fit",
        ],
        _AMCE_MULTICLASS,
    ),
    **dict.fromkeys(
        [
            "check_estimators_nan_inf",
            "check_estimators_pickle",
            "check_pipeline_consistency",
        ],
        _ODD_3,
    ),
    "check_estimators_dtypes": _LABELS_12,
    "check_fit2d_1feature": _ODD.format(1),
}

# LinearConceptEraser needs a concept to erase, which is fit metadata (it must
# follow the rows through cross-validation); scikit-learn's checks fit with (X, y)
# only. The configuration with_objective=True erases the objective column instead,
# which the checks' continuous data do not hold. tests/preprocessing runs the same
# properties (clone, pickle, dtypes, sample order and subsets, refits, NaN,
# read-only input, pandas output) with a concept.
_NO_CONCEPT = (
    "fit needs the concept to erase as metadata, fit(X, y, concept=...), which "
    "the check does not pass"
)
# the checks whose data have an even number of columns
_EVEN_WIDTH_CHECKS = [
    "check_dtype_object",
    "check_estimators_fit_returns_self",
    "check_estimators_overwrite_params",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
]
_ERASER_FAILURES = {
    **dict.fromkeys(
        [
            "check_dict_unchanged",
            "check_dont_overwrite_parameters",
            "check_estimators_dtypes",
            "check_estimators_nan_inf",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_fit2d_predict1d",
            "check_fit_score_takes_y",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_pipeline_consistency",
            "check_transformer_data_not_an_array",
            "check_transformer_general",
            "check_transformer_preserve_dtypes",
        ],
        _ODD_3,
    ),
    **dict.fromkeys(_EVEN_WIDTH_CHECKS, _NO_CONCEPT),
    "check_fit2d_1sample": _NO_CONCEPT,
    "check_fit2d_1feature": _ODD.format(1),
}
_ERASER_OBJECTIVE_FAILURES = {
    **dict.fromkeys(_ERASER_FAILURES, _OBJ_CONT),
    **dict.fromkeys(_EVEN_WIDTH_CHECKS, _OBJ_WIDTH.format("an even number of")),
    "check_fit2d_1sample": _OBJ_CONT,
    "check_fit2d_1feature": _OBJ_WIDTH.format(1),
}

# Estimators scikit-learn's numeric checks cannot feed at all, with the reason; they
# are tested by their own files instead.
NOT_CHECKABLE = {
    LLMEmbeddingTransformer: (
        "takes a DataFrame of prompt and response texts and needs a language model; "
        "its estimator contract is tested in tests/embeddings"
    ),
    RewriteEffectEstimator: (
        "fits on prompts, response texts and a 0/1 attribute, through a reward "
        "and a rewriter, not on arrays X, y; clone, parameters and seeding are "
        "tested in tests/causal/test_rewrite_effects.py"
    ),
}


def expected_failed_checks(estimator):
    """Return the scikit-learn checks an estimator is known to fail, with reasons."""
    if isinstance(estimator, AMCEEstimator):
        return dict(_AMCE_FAILURES)
    if isinstance(estimator, ActiveLearner):
        # It fails where its estimator does, except the sample-weight checks,
        # which it skips: fit takes no sample_weight.
        inner = expected_failed_checks(estimator.estimator)
        return {k: v for k, v in inner.items() if "sample_weight" not in k}
    if isinstance(estimator, LinearConceptEraser):
        if estimator.with_objective:
            return dict(_ERASER_OBJECTIVE_FAILURES)
        return dict(_ERASER_FAILURES)
    if not is_reward_model(estimator):
        return {}
    if takes_objective(estimator):
        return dict(_MULTI_OBJECTIVE_FAILURES)
    return dict(_SINGLE_OBJECTIVE_FAILURES)


# -- tier 2: skpref's pair-contract checks ----------------------------------------


_ENSEMBLE_REWARDS = (
    "an ensemble's decision_function is the logit of the members' mean probability, "
    "not the difference of their mean rewards (the two differ where members "
    "disagree); tests/models/test_ensemble.py checks both"
)


def expected_failed_pair_checks(estimator):
    """Return the pair-contract checks a reward model is known to fail."""
    if isinstance(estimator, RewardEnsemble):
        return {"check_pair_btl_outputs": _ENSEMBLE_REWARDS}
    return {}


# Transformers of pair features [a | b] -> [a' | b'], with the fit arguments the
# pair-transformer check needs: a per-response concept, unless the objective
# column is the concept.
def _first_feature_concept(X, y):
    d = X.shape[1] // 2
    return {"concept": X[:, [0, d]]}


PAIR_TRANSFORMER_FIT_PARAMS = {LinearConceptEraser: _first_feature_concept}


def pair_transformer_instances():
    """The registered instances of pair transformers, with their fit params."""
    return [
        (e, None if takes_objective(e) else PAIR_TRANSFORMER_FIT_PARAMS[type(e)])
        for e in estimator_instances()
        if type(e) in PAIR_TRANSFORMER_FIT_PARAMS
    ]


def pair_data_for(estimator, n_pairs=400, random_state=0):
    """Synthetic pairs an estimator trains on: confounded if it takes objectives."""
    from skpref.datasets import make_confounded_preferences, make_latent_preferences

    if takes_objective(estimator):
        return make_confounded_preferences(
            n_pairs=n_pairs, n_features=8, rho=0.7, random_state=random_state
        )
    return make_latent_preferences(
        n_pairs=n_pairs, n_features=8, random_state=random_state
    )
