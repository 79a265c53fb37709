"""Synthetic sources: generators with a known ground truth, a fresh draw per rho."""

from dataclasses import dataclass
from numbers import Integral, Real

from skpref.experiments._seeds import seeds_from
from skpref.experiments._sources import Draw, PreferenceSource
from skpref.utils._validation import Interval

__all__ = ["SYNTHETIC_GENERATOR", "SyntheticConfounded", "SyntheticLatent"]

#: Generator settings of the synthetic confounding data: limited latent overlap
#: between prompt types, the paper's reading of HH-RLHF (Example 4, section 4.2:
#: harmful prompts vary mostly in harmlessness, helpful ones in helpfulness).
SYNTHETIC_GENERATOR = {"type_latent_scale": 3.0}

_SIZES = {
    "n_train": [Interval(Integral, 2, None, closed="left")],
    "n_test": [Interval(Integral, 2, None, closed="left")],
    "n_features": [Interval(Integral, 2, None, closed="left")],
}


@dataclass
class SyntheticLatent(PreferenceSource, register="synthetic"):
    """Pairs driven by two correlated latent factors (Table 1, appendix D.1).

    Each draw at ``rho`` is ``n_train`` fresh pairs of
    :func:`~skpref.datasets.make_latent_preferences` with ``corr(delta_1,
    delta_2) = rho``, the ID test set ``n_test`` fresh pairs with the same
    ``rho`` and noise-free labels, and the OOD test set ``n_test`` pairs of the
    disagreement quadrants ``delta_1 * delta_2 < 0``, one per repetition (shared
    by its ``rho`` values). One feature map (the "LLM") serves the whole run.

    Parameters
    ----------
    n_train, n_test : int, default=2000
        Pairs per training set and per test set.
    n_features : int, default=32
        Embedding width ``d`` of the features.
    label_noise : float, default=0.0
        BTL label noise of the training labels.

    Examples
    --------
    >>> from skpref.experiments import LATENT_POSITIVITY, SyntheticLatent
    >>> source = SyntheticLatent(n_train=50, n_test=20, n_features=4)
    >>> draw = source.prepare(LATENT_POSITIVITY, [0]).draw(0.6, 1, [2, 3])
    >>> draw.X.shape, {name: len(y) for name, (X, y) in draw.tests.items()}
    ((50, 8), {'ID': 20, 'OOD': 20})
    """

    n_train: int = 2000
    n_test: int = 2000
    n_features: int = 32
    label_noise: float = 0.0

    sides = ("delta",)
    n_draw_seeds = 2
    alpha = 0.25
    file_suffix = ""
    _parameter_constraints = {
        **_SIZES,
        "label_noise": [Interval(Real, 0, None, closed="left")],
    }

    def _prepare(self, protocol, source_seeds):
        self.feature_map_seed_ = source_seeds[0]
        self.ood_ = {}

    def check_rho(self, rho):
        """Reject ``|rho| = 1``, which the generator cannot draw."""
        if not -1 < rho < 1:
            raise ValueError(
                f"SyntheticLatent draws latent factors with correlation in (-1, 1); "
                f"got rho={rho}."
            )

    def _pairs(self, n_pairs, rho, seed, label_noise=0.0):
        from skpref.datasets import make_latent_preferences

        return make_latent_preferences(
            n_pairs=n_pairs,
            n_features=self.n_features,
            rho=rho,
            label_noise=label_noise,
            feature_map_seed=self.feature_map_seed_,
            random_state=seed,
        )

    def _ood_pairs(self, seed):
        """``n_test`` pairs with ``delta_1 * delta_2 < 0`` (quadrants 2 and 4)."""
        if seed not in self.ood_:
            pool = self._pairs(3 * self.n_test, 0.0, seed)
            keep = (pool.delta[:, 0] * pool.delta[:, 1] < 0).nonzero()[0]
            keep = keep[: self.n_test]
            self.ood_[seed] = (pool.X[keep], pool.y_true[keep])
        return self.ood_[seed]

    def draw(self, rho, seed, draw_seeds):
        """Fresh training and ID pairs at ``rho``; the repetition's OOD pairs."""
        data_seed, test_seed = draw_seeds
        train = self._pairs(self.n_train, rho, data_seed, self.label_noise)
        test = self._pairs(self.n_test, rho, test_seed)
        sets = {
            "in_distribution": (test.X, test.y_true),
            "out_of_distribution": self._ood_pairs(seed),
        }
        return Draw(
            X=train.X,
            y=train.y,
            tests={group: sets[kind] for group, kind in self.protocol_.tests.items()},
            delta=train.delta,
            probe=(test.X[:, : self.n_features], test.Z_a),
        )


@dataclass
class SyntheticConfounded(PreferenceSource, register="synthetic"):
    """Pairs whose labeller objective is confounded with the prompt type (Table 2).

    Each draw at ``rho`` is ``n_train`` fresh pairs of
    :func:`~skpref.datasets.make_confounded_preferences` with ``P(type =
    objective) = rho`` and equal counts per objective; the test sets are
    ``n_test`` consistent (``rho = 1``) and ``n_test`` inconsistent (``rho = 0``)
    pairs with noise-free labels, drawn once for the whole run, as is the
    feature map.

    Parameters
    ----------
    n_train, n_test : int, default=2000
        Pairs per training set and per test set.
    n_features : int, default=32
        Embedding width ``d`` of the features.
    generator_params : dict or None, default=None
        Further arguments of ``make_confounded_preferences``; None means
        :data:`SYNTHETIC_GENERATOR` (``type_latent_scale=3``), ``{}`` the
        generator's own defaults.

    Examples
    --------
    >>> from skpref.experiments import CONFOUNDING, SyntheticConfounded
    >>> source = SyntheticConfounded(n_train=50, n_test=20, n_features=4)
    >>> draw = source.prepare(CONFOUNDING, [0]).draw(1.0, 1, [2])
    >>> set(draw.train_groups.tolist()), draw.tests["inconsistent"][0].shape
    ({'consistent'}, (20, 9))
    """

    n_train: int = 2000
    n_test: int = 2000
    n_features: int = 32
    generator_params: dict | None = None

    sides = ("prompt_type",)
    file_suffix = ""
    _parameter_constraints = {**_SIZES, "generator_params": [dict, None]}

    def _generate(self, n_pairs, rho, seed):
        from skpref.datasets import make_confounded_preferences

        return make_confounded_preferences(
            n_pairs=n_pairs, rho=rho, random_state=seed, **self.generator_
        )

    def _prepare(self, protocol, source_seeds):
        feature_map_seed, consistent_seed, inconsistent_seed = seeds_from(
            source_seeds[0], 3
        )
        params = self.generator_params
        self.generator_ = {
            "n_features": self.n_features,
            "feature_map_seed": feature_map_seed,
            **(SYNTHETIC_GENERATOR if params is None else params),
        }
        kinds = {
            "consistent": (1.0, consistent_seed),
            "inconsistent": (0.0, inconsistent_seed),
        }
        self.tests_ = {}
        for group, kind in protocol.tests.items():
            data = self._generate(self.n_test, *kinds[kind])
            self.tests_[group] = (data.X, data.y_true)
        self.n_objectives_ = 2

    def draw(self, rho, seed, draw_seeds):
        """Fresh training pairs at ``rho``; the fixed test sets."""
        data = self._generate(self.n_train, rho, draw_seeds[0])
        return Draw(
            X=data.X,
            y=data.y,
            tests=self.tests_,
            train_groups=self.protocol_.pair_groups(data.X, data.prompt_type),
        )
