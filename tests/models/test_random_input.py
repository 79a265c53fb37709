"""Random input: the reward models fit, or fail cleanly and fast, on anything.

Hypothesis draws the model, the widths, the objective ids (huge, negative,
fractional, NaN, with gaps), the labels (hard, soft, out of range, NaN), the sample
weights and the feature scale. Every draw must either fit and predict, or raise a
``ValueError``/``TypeError`` from skpref's (or scikit-learn's input) validation whose
message names the argument, within seconds: no hang, and nothing from inside torch
or NumPy.
"""

import re
import signal
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import sklearn
from hypothesis import event, given
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

import skpref
from skpref import AdversarialRewardModel, BTLRewardRegressor, MultiheadRewardModel

TINY = {"hidden_dim": 8, "latent_dim": 4, "max_epochs": 2, "device": "cpu"}
MODELS = {
    "btl": lambda n_objectives: BTLRewardRegressor(**TINY),
    "base": lambda n_objectives: BTLRewardRegressor(
        with_objective=True, n_objectives=n_objectives, **TINY
    ),
    "multihead": lambda n_objectives: MultiheadRewardModel(
        n_objectives=n_objectives, head_hidden_dim=4, **TINY
    ),
    "adversarial": lambda n_objectives: AdversarialRewardModel(
        n_objectives=n_objectives,
        head_hidden_dim=4,
        discriminator_hidden_dim=4,
        **TINY,
    ),
}
# Where a clean error may come from: skpref, or scikit-learn's input validation.
ALLOWED_SOURCES = (
    str(Path(skpref.__file__).parent),
    str(Path(sklearn.__file__).parent / "utils" / "validation.py"),
    str(Path(sklearn.__file__).parent / "utils" / "multiclass.py"),
    str(Path(sklearn.__file__).parent / "utils" / "_param_validation.py"),
)
# scikit-learn's wording for an empty X ("Found array with 0 feature(s)...") is kept
# as its estimator checks require; it names the array by its shape.
NAMES_AN_ARGUMENT = re.compile(
    r"\b(X|y|sample_weight|objective|n_objectives)\b|^Found array with 0"
)
SECONDS = 30

# Each input is well formed half of the time, so that fits run too, and otherwise
# holds the values users get wrong.
objective_ids = st.one_of(
    st.lists(st.integers(0, 1), min_size=1, max_size=30),
    st.lists(
        st.one_of(
            st.integers(0, 3),
            st.sampled_from([-1, 7, 99_999, 2**40, 0.5, np.nan, np.inf]),
        ),
        min_size=1,
        max_size=30,
    ),
)
labels = st.one_of(
    st.lists(st.integers(0, 1), min_size=1, max_size=30),
    st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=1, max_size=30),
    st.lists(st.sampled_from([0, 1, 0.5, -1, 2, 1.5, np.nan]), min_size=1, max_size=30),
)
weights = st.one_of(
    st.none(),
    st.lists(st.floats(0.1, 10), min_size=30, max_size=30),
    st.lists(
        st.one_of(st.floats(0, 10), st.sampled_from([0.0, -1.0, np.inf, np.nan])),
        min_size=1,
        max_size=31,
    ),
)


@contextmanager
def time_limit(seconds):
    def hang(signum, frame):
        raise TimeoutError(f"no result after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@given(
    kind=st.sampled_from(list(MODELS)),
    n_objectives=st.one_of(st.none(), st.integers(1, 4)),
    n_pairs=st.integers(1, 30),
    width=st.integers(0, 3),
    extra_columns=st.sampled_from([0, 0, 0, 1, 2]),
    scale=st.sampled_from([1.0, 1.0, 1e30, 1e40]),
    ids=objective_ids,
    y=labels,
    sample_weight=weights,
    seed=st.integers(0, 2**16),
)
def test_random_input_fits_or_fails_cleanly(
    kind,
    n_objectives,
    n_pairs,
    width,
    extra_columns,
    scale,
    ids,
    y,
    sample_weight,
    seed,
):
    rng = np.random.RandomState(seed)
    features = scale * rng.normal(size=(n_pairs, 2 * width + extra_columns))
    objective = np.resize(np.asarray(ids, dtype=np.float64), n_pairs)[:, None]
    X = np.hstack([features, objective]) if kind != "btl" else features
    y = np.resize(np.asarray(y, dtype=np.float64), n_pairs)
    if sample_weight is not None and len(sample_weight) == 30:
        sample_weight = sample_weight[:n_pairs]  # the well-formed draw
    model = MODELS[kind](n_objectives)
    with warnings.catch_warnings(), time_limit(SECONDS):
        # skpref's own ConvergenceWarning is a legitimate outcome of wild data;
        # any other warning (an overflow inside NumPy or torch) stays an error.
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            model.fit(X, y, sample_weight=sample_weight)
            proba = model.predict_proba(X)
        except (ValueError, TypeError) as error:
            frame = error.__traceback__
            while frame.tb_next is not None:
                frame = frame.tb_next
            source = frame.tb_frame.f_code.co_filename
            assert source.startswith(ALLOWED_SOURCES), (source, error)
            assert NAMES_AN_ARGUMENT.search(str(error)), error
            event("clean error")
            return
    event("fitted")
    assert proba.shape == (n_pairs, 2)
    assert np.all((proba >= 0) & (proba <= 1))


@given(
    kind=st.sampled_from(list(MODELS)),
    n_objectives=st.integers(1, 4),
    declare=st.booleans(),
    n_pairs=st.integers(4, 40),
    width=st.integers(1, 3),
    soft=st.booleans(),
    weighted=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_well_formed_random_input_always_fits(
    kind, n_objectives, declare, n_pairs, width, soft, weighted, seed
):
    rng = np.random.RandomState(seed)
    if kind == "adversarial":
        n_objectives = max(n_objectives, 2)
    ids = np.arange(n_pairs) % min(n_objectives, n_pairs)
    X = rng.normal(size=(n_pairs, 2 * width))
    if kind != "btl":
        X = np.hstack([X, ids[:, None]])
    y = np.arange(n_pairs) % 2
    y = np.where(y == 1, 0.8, 0.3) if soft else y
    weight = rng.uniform(0.1, 3, size=n_pairs) if weighted else None
    model = MODELS[kind](n_objectives if declare else None)
    with warnings.catch_warnings(), time_limit(SECONDS):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, sample_weight=weight)
        proba = model.predict_proba(X)
    assert proba.shape == (n_pairs, 2)
    assert 0 <= model.score(X, y, sample_weight=weight) <= 1
