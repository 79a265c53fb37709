"""What every data source of the protocols gives, and the registry of their names.

A *source* holds the data of one experiment: it gives :func:`run_protocol`, for
each repetition and each ``rho``, a :class:`Draw` (a training set of pair features
and labels with its side information, and the test sets to score on). Sources
are small dataclasses whose fields are their parameters; ``prepare`` checks
them and loads or generates what is fixed for the whole run.

A subclass made with ``register="name"`` is known to the command line as
``skpref reproduce ... --data name`` (for the protocols whose side information it
gives), so a new data set is one new class in one file.
"""

import dataclasses
import pickle
from dataclasses import dataclass

import numpy as np

from skpref.utils._validation import validate_parameter_constraints

__all__ = ["KEYED_BY_DATA", "SOURCES", "Draw", "PreferenceSource", "source_class"]

#: ``dataclasses.field(metadata=KEYED_BY_DATA)`` marks a parameter whose whole
#: effect on a run lies in the prepared data (a file's path, an embedder and its
#: progress bar or cache folder): checkpoint keys hold the data's digest in its
#: place, so a moved file or a run without a progress bar still resumes.
KEYED_BY_DATA = {"checkpoint": "data"}

#: Registered sources: ``(name, side) -> class``, ``side`` being "delta" or
#: "prompt_type", the side information the source gives.
SOURCES = {}


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
        Group of each training pair (e.g. consistent / inconsistent), for the
        protocols that also score their training pairs by group.
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


class PreferenceSource:
    """Base of the data sources of :func:`run_protocol`; not for direct use.

    Subclasses are dataclasses whose fields are their parameters, and define

    - ``sides``: the side information they give, ``"delta"`` (latent factor
      differences, the latent-positivity protocol) and/or ``"prompt_type"``
      (the confounding protocol);
    - ``_prepare(protocol, source_seeds)``: load or generate what is fixed for the
      run (``n_source_seeds`` seeds are given);
    - ``draw(rho, seed, draw_seeds)``: the :class:`Draw` of one repetition
      (``seed``) at one ``rho`` (``n_draw_seeds`` seeds are given), and
      optionally ``check_draw`` with the same arguments, which fails where
      ``draw`` would, without building the arrays.

    They may set ``_parameter_constraints`` (scikit-learn's format), checked by
    :meth:`prepare`, and ``check_rho`` for the values of ``rho`` they can draw.
    """

    #: The ``data`` column of the results and the suffix of their file names.
    name = "frame"
    #: Shown in the titles of the summary tables (None: nothing).
    title = None
    #: Side information the source gives.
    sides = ()
    #: Seeds taken from the master seed before the repetitions' seeds.
    n_source_seeds = 1
    #: Seeds of each draw (the models' seed comes after them).
    n_draw_seeds = 1
    #: True weight of the first latent factor in the reward, if known (Figure 7).
    alpha = None
    _parameter_constraints = {}

    @property
    def file_suffix(self):
        """Suffix of the result files' names: ``"_<name>"``."""
        return f"_{self.name}"

    def __init_subclass__(cls, register=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if register is not None:
            cls.name = register
            for side in cls.sides:
                SOURCES[(register, side)] = cls

    def params(self):
        """Return the source's parameters (the dataclass fields in its repr).

        Returns
        -------
        params : dict
        """
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.repr
        }

    def _sides(self):
        return self.sides

    def prepare(self, protocol, source_seeds):
        """Check the parameters and prepare what is fixed for a run of ``protocol``.

        Parameters
        ----------
        protocol : Protocol
            The protocol to feed.
        source_seeds : list of int
            ``n_source_seeds`` seeds.

        Returns
        -------
        self : PreferenceSource
        """
        owner = type(self).__name__
        validate_parameter_constraints(
            self._parameter_constraints,
            {key: getattr(self, key) for key in self._parameter_constraints},
            caller_name=owner,
        )
        if protocol.side not in self._sides():
            gives = " and ".join(self._sides()) or "no side information"
            raise ValueError(
                f"{owner} gives {gives}, but the {protocol.name} protocol needs the "
                f"{protocol.side} of each pair. Choose a source that gives it "
                f"({', '.join(sorted(source_names(protocol.side)))})."
            )
        self.protocol_ = protocol
        self.info_ = {}
        self.n_objectives_ = None
        self._prepare(protocol, list(source_seeds))
        try:  # now, before a draw fills a cache the source keeps
            self._prepared_digest = self._data_digest()
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            self._prepared_digest = err  # such a run is never resumed
        return self

    def _prepare(self, protocol, source_seeds):
        raise NotImplementedError

    def _data_digest(self):
        """Return a digest of the prepared data, for checkpoint keys.

        :meth:`prepare` calls it once ``_prepare`` is done. The default hashes
        (:func:`joblib.hash`) every attribute ending in ``_`` but ``protocol_``
        and ``info_``: whatever ``_prepare`` loaded or generated. Override it
        where that state is large and a smaller digest says the same, or
        cannot be pickled (an open file).
        """
        import joblib

        prepared = {
            key: value
            for key, value in sorted(vars(self).items())
            if key.endswith("_")
            and not key.startswith("_")
            and key not in ("protocol_", "info_")
        }
        return joblib.hash(prepared)

    def check_rho(self, rho):
        """Raise a ValueError if this source cannot draw training sets at ``rho``.

        Parameters
        ----------
        rho : float
            The value asked for (already within the protocol's range).
        """

    def check_draw(self, rho, seed, draw_seeds):
        """Raise a ValueError if :meth:`draw` cannot make this draw (cheaply).

        :func:`run_protocol` calls it for every draw before fitting anything;
        sources whose draws can fail on the data (too few pairs for a ``rho``)
        check that here without building the arrays.

        Parameters
        ----------
        rho, seed, draw_seeds
            As for :meth:`draw`.
        """

    def draw(self, rho, seed, draw_seeds):
        """Draw the training and test sets of repetition ``seed`` at ``rho``.

        Parameters
        ----------
        rho : float
            Dependence in the training set.
        seed : int
            Seed of the repetition.
        draw_seeds : list of int
            ``n_draw_seeds`` seeds of this draw.

        Returns
        -------
        draw : Draw
        """
        raise NotImplementedError


def source_names(side):
    """Return the registered names of the sources that give ``side``."""
    return [name for name, given in SOURCES if given == side]


def source_class(name, protocol):
    """Return the registered source class ``name`` that can feed ``protocol``.

    Parameters
    ----------
    name : str
        The source's registered name (``--data``).
    protocol : Protocol
        The protocol it must feed.

    Returns
    -------
    cls : type

    Examples
    --------
    >>> from skpref.experiments import CONFOUNDING
    >>> from skpref.experiments._sources import source_class
    >>> source_class("hh-rlhf", CONFOUNDING).__name__
    'RelabeledHHRLHF'
    """
    if (name, protocol.side) in SOURCES:
        return SOURCES[(name, protocol.side)]
    known = {given for given, _ in SOURCES}
    fitting = sorted(source_names(protocol.side))
    if name in known:
        raise ValueError(
            f"The {name!r} data do not give the {protocol.side} of each pair that "
            f"the {protocol.name} protocol needs; its data: {fitting}."
        )
    raise ValueError(
        f"Unknown data {name!r}; the {protocol.name} protocol runs on {fitting}."
    )
