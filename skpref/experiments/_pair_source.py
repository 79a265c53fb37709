"""Sources that hold every pair and draw training sets with the rho splitter."""

from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
from sklearn.utils import Bunch, check_consistent_length, column_or_1d
from sklearn.utils.validation import check_array

from skpref.experiments._seeds import seeds_from
from skpref.experiments._sources import KEYED_BY_DATA, Draw, PreferenceSource
from skpref.utils._objectives import encode_objectives, objective_coding
from skpref.utils._validation import Interval, RealNotInt

__all__ = ["PairSource", "PoolSource"]

_TRAIN_SIZE = [
    Interval(RealNotInt, 0, 1, closed="neither"),
    Interval(Integral, 2, None, closed="left"),
]
_TEST_SIZE = [Interval(Integral, 1, None, closed="left"), None]


class PoolSource(PreferenceSource):
    """Base of the sources that hold every pair; not for direct use.

    Subclasses define ``_load(source_seeds)`` returning a Bunch with ``X``,
    ``y``, the side information (``delta`` and/or ``prompt_type`` as ids in the
    objective coding of ``X``'s last column), and optionally ``latent_a`` (the
    true latent factors of each pair's response a) and ``n_objectives``; and the
    fields ``n_train`` and ``n_test``.

    Where the protocol's test groups do not depend on ``rho`` (consistent and
    inconsistent pairs), ``n_test`` pairs of each group (None: a quarter; at most
    half of the group) are held out once, with the first source seed, and
    every training set is drawn from the other pairs. Otherwise (ID and OOD
    pairs) each draw takes its training set and ``n_test`` pairs of each test
    group from all pairs. Either way,
    :class:`~skpref.model_selection.RhoStratifiedSplitter` draws them.
    """

    def _prepare(self, protocol, source_seeds):
        data = self._load(source_seeds)
        self.X_, self.y_ = data.X, data.y
        self.side_ = data[protocol.side]
        self.latent_a_ = data.get("latent_a")
        self.n_objectives_ = data.get("n_objectives")
        self.pool_ = np.arange(len(self.y_))
        self.tests_ = None
        if protocol.pair_groups is not None:
            self.groups_ = protocol.pair_groups(self.X_, self.side_)
            self._hold_out(protocol, seeds_from(source_seeds[0], 2)[0])

    def _hold_out(self, protocol, seed):
        rng = np.random.RandomState(seed)
        self.tests_, held = {}, []
        for group in protocol.tests:
            rows = np.flatnonzero(self.groups_ == group)
            size = (
                len(rows) // 4
                if self.n_test is None
                else min(self.n_test, len(rows) // 2)
            )
            if size == 0:
                raise ValueError(
                    f"{type(self).__name__}: the data hold {len(rows)} {group} pairs, "
                    f"too few to hold out a {group} test set for the {protocol.name} "
                    "protocol; it needs at least two pairs of each group."
                )
            chosen = np.sort(rng.choice(rows, size, replace=False))
            self.tests_[group] = (self.X_[chosen], self.y_[chosen])
            held.append(chosen)
        self.pool_ = np.setdiff1d(self.pool_, np.concatenate(held))

    def _data_digest(self):
        """Digest of the loaded pairs, side information and held-out sets."""
        import joblib

        data = (self.X_, self.y_, self.side_, self.latent_a_, self.n_objectives_)
        return joblib.hash((*data, self.pool_, self.tests_))

    def _split(self, rho, kind, seed, test_size):
        from skpref.model_selection import RhoStratifiedSplitter

        protocol = self.protocol_
        cv = RhoStratifiedSplitter(
            mode=protocol.splitter_mode,
            rho=rho,
            n_splits=1,
            train_size=self.n_train,
            test_size=test_size,
            test=kind,
            random_state=seed,
        )
        side = {protocol.side: self.side_[self.pool_]}
        try:
            [(train, test)] = list(cv.split(self.X_[self.pool_], **side))
        except ValueError as err:
            raise ValueError(
                f"{type(self).__name__}: cannot draw n_train={self.n_train} training "
                f"pairs and n_test={test_size} {kind} test pairs at rho={rho} from "
                f"{len(self.pool_)} pairs: {err} Use more data, a smaller n_train or "
                "n_test, or other rhos."
            ) from err
        return self.pool_[train], self.pool_[test]

    def _rows(self, rho, draw_seeds):
        """Training rows at ``rho`` and the rows of each per-draw test set."""
        if self.tests_ is not None:
            kind = next(iter(self.protocol_.tests.values()))
            return self._split(rho, kind, draw_seeds[0], None)[0], None
        train, tests = None, {}
        for group, kind in self.protocol_.tests.items():
            drawn, tests[group] = self._split(rho, kind, draw_seeds[0], self.n_test)
            if train is not None and not np.array_equal(train, drawn):
                raise RuntimeError(  # pragma: no cover - the splitter's promise
                    "RhoStratifiedSplitter drew two different training sets."
                )
            train = drawn
        return train, tests

    def check_draw(self, rho, seed, draw_seeds):
        """Raise the splitter's ValueError if this draw is impossible."""
        self._rows(rho, draw_seeds)

    def draw(self, rho, seed, draw_seeds):
        """Training set at ``rho`` and its test sets, drawn by the splitter."""
        train, rows = self._rows(rho, draw_seeds)
        X, y = self.X_, self.y_
        delta = self.side_[train] if self.protocol_.side == "delta" else None
        if rows is None:
            return Draw(X=X[train], y=y[train], tests=self.tests_,
                        train_groups=self.groups_[train], delta=delta)  # fmt: skip
        probe = None
        if self.latent_a_ is not None:
            first = next(iter(rows.values()))
            probe = (X[first, : X.shape[1] // 2], self.latent_a_[first])
        tests = {group: (X[test], y[test]) for group, test in rows.items()}
        return Draw(X=X[train], y=y[train], tests=tests, delta=delta, probe=probe)


@dataclass
class PairSource(PoolSource):
    """Your own pairs: features, labels and side information as arrays.

    Use it for any data set at hand, e.g. the pairs of
    :func:`~skpref.datasets.preference_pairs` once embedded by
    :class:`~skpref.embeddings.LLMEmbeddingTransformer`.

    Parameters
    ----------
    X : array-like of shape (n_pairs, n_columns)
        Pair features in the pair contract (``[a | b]``, then the objective id
        for the confounding protocol).
    y : array-like of shape (n_pairs,)
        Labels, 1 where response a is preferred.
    delta : array-like of shape (n_pairs, n_factors), default=None
        Latent factor differences (for the latent-positivity protocol).
    prompt_type : array-like of shape (n_pairs,), default=None
        Prompt type of each pair, as names or as ids in the coding of ``X``'s
        objective column (for the confounding protocol).
    objective_categories : list of str, default=None
        The objective coding, for ``prompt_type`` names (default: the categories
        of a Categorical ``prompt_type``, else its sorted names).
    latent_a : array-like of shape (n_pairs, n_factors), default=None
        True latent factors of each pair's response a, where known (for the
        ``alpha_hat`` column).
    n_train : int or float, default=0.5
        Training pairs per draw, or their share of the pairs.
    n_test : int or None, default=None
        Test pairs per test group (None: a quarter of each fixed group, or the
        splitter's default).
    name : str, default="frame"
        The ``data`` column of the results.

    Examples
    --------
    >>> import numpy as np
    >>> from skpref.experiments import CONFOUNDING, PairSource, run_protocol
    >>> from skpref.datasets import make_confounded_preferences
    >>> data = make_confounded_preferences(n_pairs=400, n_features=4, rho=0.5,
    ...                                    random_state=0)
    >>> source = PairSource(data.X, data.y, prompt_type=data.prompt_type,
    ...                     n_train=100, n_test=50)
    >>> result = run_protocol(CONFOUNDING, source, models=["Base"], rhos=[0.9],
    ...                       n_seeds=1, width=8, lr=1e-2, max_epochs=2)
    >>> result.runs.query("split == 'test'")["n"].tolist()
    [50, 50]
    """

    X: object = field(repr=False, metadata=KEYED_BY_DATA)
    y: object = field(repr=False, metadata=KEYED_BY_DATA)
    delta: object = field(default=None, repr=False, metadata=KEYED_BY_DATA)
    prompt_type: object = field(default=None, repr=False, metadata=KEYED_BY_DATA)
    objective_categories: list | None = None
    latent_a: object = field(default=None, repr=False, metadata=KEYED_BY_DATA)
    n_train: float = 0.5
    n_test: int | None = None
    name: str = "frame"

    _parameter_constraints = {
        "n_train": _TRAIN_SIZE,
        "n_test": _TEST_SIZE,
        "name": [str],
    }

    def _sides(self):
        given = {"delta": self.delta, "prompt_type": self.prompt_type}
        return tuple(side for side, value in given.items() if value is not None)

    def _load(self, source_seeds):
        owner = type(self).__name__
        X = check_array(self.X, dtype=np.float32, input_name="X")
        y = column_or_1d(self.y)
        check_consistent_length(X, y)
        data = Bunch(X=X, y=y, delta=None, prompt_type=None, latent_a=None)
        if self.delta is not None:
            data.delta = check_array(self.delta, dtype=np.float64, input_name="delta")
            check_consistent_length(X, data.delta)
        if self.latent_a is not None:
            data.latent_a = check_array(
                self.latent_a, dtype=np.float64, input_name="latent_a"
            )
        if self.prompt_type is not None:
            coding = objective_coding(
                self.prompt_type,
                self.objective_categories,
                owner=owner,
                argument="prompt_type",
            )
            data.prompt_type = encode_objectives(
                self.prompt_type, coding, owner=owner, argument="prompt_type"
            )
            check_consistent_length(X, data.prompt_type)
            ids = np.concatenate([X[:, -1], data.prompt_type])
            data.n_objectives = (
                len(coding) if coding is not None else int(ids.max() + 1)
            )
        return data
