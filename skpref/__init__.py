"""skpref: causal preference learning with scikit-learn reward models.

Every component shares one data layout, the pair contract: ``X`` of shape
``(n_pairs, 2 * d)`` holds ``[features of response a | features of response b]``,
multi-objective models take one more, last column with the objective id, ``y = 1``
means response a is preferred and ``predict_proba(X)[:, 1] = P(a > b)``.

The main names are importable from here; torch and transformers are imported only
when a name that needs them is first used.
"""

import importlib

from skpref._version import __version__

_LAZY = {
    "BTLRewardRegressor": "skpref.models",
    "MultiheadRewardModel": "skpref.models",
    "AdversarialRewardModel": "skpref.models",
    "RewardEnsemble": "skpref.models",
    "LLMEmbeddingTransformer": "skpref.embeddings",
    "RhoStratifiedSplitter": "skpref.model_selection",
    "AMCEEstimator": "skpref.causal",
    "predict_text_reward": "skpref._reward_function",
    "reward_function": "skpref._reward_function",
    "save": "skpref._persistence",
    "load": "skpref._persistence",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skpref' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
