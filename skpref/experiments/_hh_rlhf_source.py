"""The relabelled HH-RLHF test split with reference embeddings (Table 2, real data)."""

from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import Bunch

from skpref.experiments._pair_source import _TEST_SIZE, _TRAIN_SIZE, PoolSource
from skpref.experiments._seeds import seeds_from
from skpref.experiments._sources import KEYED_BY_DATA
from skpref.utils._objectives import encode_objectives, objective_coding

__all__ = ["RelabeledHHRLHF"]


@dataclass
class RelabeledHHRLHF(PoolSource, register="hh-rlhf"):
    """HH-RLHF relabelled per objective, with precomputed embeddings (Table 2).

    The relabelled HH-RLHF test split (4,043 pairs, Siththaranjan et al., 2024;
    :func:`~skpref.datasets.load_relabeled_hh_rlhf`) with reference embeddings
    from the data home; labels are GPT-3.5's, under each pair's own objective,
    and the prompt type is the HH-RLHF subset of the pair. ``n_test``
    consistent and ``n_test`` inconsistent pairs (None: a quarter of each) are
    held out once; training sets of each ``rho`` are drawn from the rest by
    :class:`~skpref.model_selection.RhoStratifiedSplitter`.

    Parameters
    ----------
    path : str, path-like or None, default=None
        The data home holding ``hh_rlhf_relabeled_dpl/`` and ``embeddings/``
        (None: :func:`~skpref.datasets.get_data_home`).
    embeddings : str, default="all-MiniLM-L6-v2"
        Which reference embeddings.
    n_train : int or float, default=1400
        Training pairs per draw (700 per objective), or their share of the pool.
    n_test : int or None, default=None
        Test pairs per group.

    Examples
    --------
    >>> from skpref.experiments import CONFOUNDING, RelabeledHHRLHF
    >>> source = RelabeledHHRLHF(n_train=200)
    >>> source.prepare(CONFOUNDING, [0]).tests_["consistent"][1].shape  # doctest: +SKIP
    (527,)
    """

    path: str | None = field(default=None, metadata=KEYED_BY_DATA)
    embeddings: str = "all-MiniLM-L6-v2"
    n_train: float = 1400
    n_test: int | None = None

    sides = ("prompt_type",)
    title = "HH-RLHF"
    _parameter_constraints = {"n_train": _TRAIN_SIZE, "n_test": _TEST_SIZE}

    def _load(self, source_seeds):
        from skpref.datasets import OBJECTIVES, load_relabeled_hh_rlhf, pair_features

        owner = type(self).__name__
        side_seed = seeds_from(source_seeds[0], 2)[1]
        frame = load_relabeled_hh_rlhf(
            "both",
            "test",
            data_home=self.path,
            random_state=side_seed,
            embeddings=self.embeddings,
        )
        coding = objective_coding(frame["objective"], OBJECTIVES, owner=owner)
        objective = encode_objectives(frame["objective"], coding, owner=owner)
        prompt_type = encode_objectives(
            frame["prompt_type"], coding, owner=owner, argument="prompt_type"
        )
        X = np.hstack([pair_features(frame), objective[:, None].astype(np.float32)])
        return Bunch(
            X=X,
            y=frame["label"].to_numpy(),
            prompt_type=prompt_type,
            n_objectives=len(coding),
        )
