"""What a data source gives the runners, and the synthetic source.

A *source* holds the data of one experiment: a small dataclass whose fields are
its parameters. ``prepare(protocol, seeds)`` checks them and loads or generates
what is fixed for the whole run; ``draw(rho, seed, draw_seeds)`` then gives, for
each repetition and each ``rho``, a :class:`Draw` (a training set with its side
information, and the test sets to score on); ``pool(...)`` gives the active
protocols an unlabelled pool. The command line finds sources by name in
:data:`~skpref.experiments.SOURCES`.
"""

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils import Bunch

from skpref.experiments._protocols import seeds_from

__all__ = ["Draw", "Synthetic"]

#: ``dataclasses.field(metadata=KEYED_BY_DATA)`` marks a parameter whose whole
#: effect on a run lies in the prepared data (a file's path, an embedder): the
#: results file of a run is keyed by the data's digest in its place.
KEYED_BY_DATA = {"keyed_by": "data"}
#: Generator settings of the synthetic confounding data: limited latent overlap
#: between prompt types, the paper's reading of HH-RLHF (Example 4, section 4.2:
#: harmful prompts vary mostly in harmlessness, helpful ones in helpfulness).
SYNTHETIC_GENERATOR = {"type_latent_scale": 3.0}
#: The dependence of a fresh synthetic pool of the active protocols: uncorrelated
#: latent factors, prompts unconfounded with the objective.
POOL_RHO = {"delta": 0.0, "prompt_type": 0.5}


@dataclass
class Draw:
    """The data of one repetition at one ``rho``: a training set and its test sets.

    Attributes
    ----------
    X, y : ndarray
        Training pair features and labels.
    tests : dict of str to (ndarray, ndarray)
        ``(X, y)`` of each test group of the protocol, in its order.
    train_groups : ndarray of str or None
        Group of each training pair (consistent / inconsistent), for the
        confounding protocol, which also scores its training pairs by group.
    delta : ndarray of shape (n_train, n_factors) or None
        Latent factor differences of the training pairs (latent positivity).
    probe : tuple of (ndarray, ndarray) or None
        Single responses ``E`` of the first test group with their true latent
        factors ``Z``, for reading the weight a model gives each factor.
    """

    X: np.ndarray
    y: np.ndarray
    tests: dict
    train_groups: np.ndarray | None = None
    delta: np.ndarray | None = None
    probe: tuple | None = None


def consistency(X, prompt_type):
    """Return the group of each pair: consistent or inconsistent (confounding)."""
    consistent = np.asarray(prompt_type) == np.asarray(X)[:, -1]
    return np.where(consistent, "consistent", "inconsistent")


def check_count(owner, name, value, *, low=1, share=False, none=False):
    """Raise a ValueError naming ``name`` unless it is a count (or share, None)."""
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if (integral and value >= low) or (value is None and none):
        return value
    if share and real and not integral and 0 < value < 1:
        return value
    expected = f"an integer >= {low}" + (", a share in (0, 1)" if share else "")
    raise ValueError(
        f"{owner}: {name} must be {expected}{' or None' if none else ''}; "
        f"got {value!r}."
    )


class Source:
    """What every source shares: checks, seeds and the digest of its data."""

    name = "frame"  # the ``data`` column of the results
    title = None  # shown in the titles of the summary tables
    sides = ()  # side information the source gives
    n_source_seeds = 1  # seeds taken from the master seed for ``prepare``
    alpha = None  # true weight of the first latent factor (Figure 7), if known

    @property
    def file_suffix(self):
        """Suffix of the result files' names."""
        return f"_{self.name}"

    def params(self):
        """Return the source's parameters (the dataclass fields in its repr)."""
        fields = dataclasses.fields(self)
        return {f.name: getattr(self, f.name) for f in fields if f.repr}

    def keyed_params(self):
        """Return the parameters a results file is keyed by (not the data's)."""
        fields = dataclasses.fields(self)
        return {
            f.name: getattr(self, f.name)
            for f in fields
            if f.metadata.get("keyed_by") != "data"
        }

    def given_sides(self):
        """Return the side information this source gives."""
        return self.sides

    def prepare(self, protocol, source_seeds):
        """Check the parameters, prepare what is fixed for a run of ``protocol``."""
        import joblib

        owner = type(self).__name__
        if protocol.side not in self.given_sides():
            gives = " and ".join(self.given_sides()) or "no side information"
            raise ValueError(
                f"{owner} gives {gives}, but the {protocol.name} protocol needs the "
                f"{protocol.side} of each pair. Choose a source that gives it."
            )
        self.check_params()
        self.protocol_, self.info_, self.n_objectives_ = protocol, {}, None
        self.n_draw_seeds_ = 1
        self._prepare(protocol, list(source_seeds))
        prepared = {  # now, before a draw fills a cache the source keeps
            key: value
            for key, value in sorted(vars(self).items())
            if key.endswith("_") and key not in ("protocol_", "info_", "digest_")
        }
        self.digest_ = joblib.hash(prepared)
        return self

    def check_params(self):
        """Raise a ValueError naming a bad parameter (none here)."""

    def check_rho(self, rho):
        """Raise a ValueError if this source cannot draw training sets at ``rho``."""

    def check_draw(self, rho, seed, draw_seeds):
        """Raise a ValueError if :meth:`draw` cannot make this draw (cheaply)."""

    def pool(self, rho, draw_seeds, *, n_pool, pool_rho, seed):
        """Return the unlabelled pool of a draw of the active protocols."""
        raise ValueError(
            f"{type(self).__name__} cannot give an unlabelled pool for the active "
            "protocols; use a source of SOURCES or a PairSource, or define its pool."
        )


@dataclass
class Synthetic(Source):
    """Generated pairs with a known ground truth, a fresh draw per repetition and rho.

    Latent positivity (Table 1, appendix D.1): each draw at ``rho`` is
    ``n_train`` fresh pairs of :func:`~skpref.datasets.make_latent_preferences`
    with ``corr(delta_1, delta_2) = rho``, the ID test set ``n_test`` fresh pairs
    with the same ``rho`` and noise-free labels, and the OOD test set ``n_test``
    pairs of the disagreement quadrants, one per repetition. Confounding (Table
    2): each draw is ``n_train`` fresh pairs of
    :func:`~skpref.datasets.make_confounded_preferences` with ``P(type =
    objective) = rho``; the test sets are ``n_test`` consistent and ``n_test``
    inconsistent pairs with noise-free labels, drawn once for the run. One
    feature map (the "LLM") serves the whole run.

    Parameters
    ----------
    n_train, n_test : int, default=2000
        Pairs per training set and per test set.
    n_features : int, default=32
        Embedding width ``d`` of the features.
    label_noise : float, default=0.0
        BTL label noise of the training labels (latent positivity).
    generator_params : dict or None, default=None
        Further arguments of ``make_confounded_preferences`` (confounding); None
        means ``{"type_latent_scale": 3.0}``, ``{}`` the generator's defaults.

    Examples
    --------
    >>> from skpref.experiments import PROTOCOLS, SOURCES
    >>> source = SOURCES["synthetic"](n_train=50, n_test=20, n_features=4)
    >>> draw = source.prepare(PROTOCOLS["latent-positivity"], [0]).draw(0.6, 1, [2, 3])
    >>> draw.X.shape, {name: len(y) for name, (X, y) in draw.tests.items()}
    ((50, 8), {'ID': 20, 'OOD': 20})
    """

    n_train: int = 2000
    n_test: int = 2000
    n_features: int = 32
    label_noise: float = 0.0
    generator_params: dict | None = None

    name = "synthetic"
    sides = ("delta", "prompt_type")
    file_suffix = ""

    def check_params(self):
        """Raise a ValueError naming the first bad parameter."""
        owner = type(self).__name__
        for name in ("n_train", "n_test", "n_features"):
            check_count(owner, name, getattr(self, name), low=2)
        noise = self.label_noise
        if not isinstance(noise, numbers.Real) or isinstance(noise, bool) or noise < 0:
            raise ValueError(f"{owner}: label_noise must be >= 0; got {noise!r}.")
        if not isinstance(self.generator_params, dict | None):
            raise ValueError(
                f"{owner}: generator_params must be a dict or None; got "
                f"{self.generator_params!r}."
            )

    def _prepare(self, protocol, source_seeds):
        self.alpha = 0.25 if protocol.side == "delta" else None
        if protocol.side == "delta":
            self.n_draw_seeds_ = 2
            self.feature_map_seed_, self.ood_ = source_seeds[0], {}
            return
        feature_map_seed, *test_seeds = seeds_from(source_seeds[0], 3)
        params = self.generator_params
        self.generator_ = {
            "n_features": self.n_features,
            "feature_map_seed": feature_map_seed,
            **(SYNTHETIC_GENERATOR if params is None else params),
        }
        kinds = dict(zip(("consistent", "inconsistent"), test_seeds, strict=True))
        rhos = {"consistent": 1.0, "inconsistent": 0.0}
        self.tests_ = {}
        for group, kind in protocol.tests:
            data = self._confounded(self.n_test, rhos[kind], kinds[kind])
            self.tests_[group] = (data.X, data.y_true)
        self.n_objectives_ = 2

    def check_rho(self, rho):
        """Reject ``|rho| = 1`` for latent factors, which the generator cannot draw."""
        if self.protocol_.side == "delta" and not -1 < rho < 1:
            raise ValueError(
                "Synthetic draws latent factors with correlation in (-1, 1); got "
                f"rho={rho}."
            )

    def _latent(self, n_pairs, rho, seed, label_noise=0.0):
        from skpref.datasets import make_latent_preferences

        return make_latent_preferences(
            n_pairs=n_pairs,
            n_features=self.n_features,
            rho=rho,
            label_noise=label_noise,
            feature_map_seed=self.feature_map_seed_,
            random_state=seed,
        )

    def _confounded(self, n_pairs, rho, seed):
        from skpref.datasets import make_confounded_preferences

        return make_confounded_preferences(
            n_pairs=n_pairs, rho=rho, random_state=seed, **self.generator_
        )

    def _ood_pairs(self, seed):
        """``n_test`` pairs with ``delta_1 * delta_2 < 0`` (quadrants 2 and 4)."""
        if seed not in self.ood_:
            # about half of the pairs at rho = 0 fall there: three times n_test
            # nearly always hold enough, and a larger draw serves when not
            size = 3 * self.n_test
            while True:
                pool = self._latent(size, 0.0, seed)
                keep = (pool.delta[:, 0] * pool.delta[:, 1] < 0).nonzero()[0]
                if len(keep) >= self.n_test:
                    break
                size *= 2
            keep = keep[: self.n_test]
            self.ood_[seed] = (pool.X[keep], pool.y_true[keep])
        return self.ood_[seed]

    def draw(self, rho, seed, draw_seeds):
        """Fresh training pairs at ``rho`` and their test sets."""
        if self.protocol_.side == "prompt_type":
            data = self._confounded(self.n_train, rho, draw_seeds[0])
            groups = consistency(data.X, data.prompt_type)
            return Draw(X=data.X, y=data.y, tests=self.tests_, train_groups=groups)
        data_seed, test_seed = draw_seeds
        train = self._latent(self.n_train, rho, data_seed, self.label_noise)
        test = self._latent(self.n_test, rho, test_seed)
        sets = {
            "in_distribution": (test.X, test.y_true),
            "out_of_distribution": self._ood_pairs(seed),
        }
        return Draw(
            X=train.X,
            y=train.y,
            tests={group: sets[kind] for group, kind in self.protocol_.tests},
            delta=train.delta,
            probe=(test.X[:, : self.n_features], test.Z_a),
        )

    def pool(self, rho, draw_seeds, *, n_pool, pool_rho, seed):
        """Return a fresh unlabelled pool at ``pool_rho``: ``Bunch(X, y, side)``."""
        size = self.n_train if n_pool is None else n_pool
        side = self.protocol_.side
        pool_rho = POOL_RHO[side] if pool_rho is None else pool_rho
        if side == "delta":
            data = self._latent(size, pool_rho, seed, self.label_noise)
            return Bunch(X=data.X, y=data.y, side=data.delta)
        data = self._confounded(size, pool_rho, seed)
        return Bunch(X=data.X, y=data.y, side=data.prompt_type)
