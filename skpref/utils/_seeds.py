"""What is random in a fit: one seeding scheme, and the seeded holdout of pairs.

A ``random_state`` seeds several models through :func:`member_random_states`
(an ensemble's members); each model draws from its own the three seeds of
:class:`Seeds` (weight initialisation, batch order, validation holdout). Neither
NumPy's nor torch's global random state is read or changed.
"""

import math
from dataclasses import dataclass

import numpy as np
from skorch.dataset import ValidSplit


def random_state_generator(random_state):
    """Return a ``RandomState`` from ``random_state``; None: fresh entropy.

    Unlike ``check_random_state(None)``, None leaves NumPy's global generator
    alone.

    Examples
    --------
    >>> random_state_generator(0).randint(10) == random_state_generator(0).randint(10)
    True
    """
    if random_state is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(1))
    if isinstance(random_state, np.random.RandomState):
        return random_state
    return np.random.RandomState(random_state)


def member_random_states(random_state, n_members):
    """Return the ``random_state`` of each of ``n_members`` members (ints).

    The one rule by which several models are seeded from one ``random_state``
    (an ensemble's members, the experiments' seeds): ``n_members`` integers drawn
    from it; each member then draws its :class:`Seeds` from its own.

    Examples
    --------
    >>> member_random_states(0, 3) == member_random_states(0, 3)
    True
    """
    rng = random_state_generator(random_state)
    return [int(s) for s in rng.randint(0, 2**31 - 1, size=n_members)]


@dataclass(frozen=True)
class Seeds:
    """The seeds of one member: weight initialisation, batch order, holdout."""

    init: int
    shuffle: int
    split: int

    @classmethod
    def from_random_state(cls, random_state):
        """Draw the three seeds from ``random_state`` (None: fresh entropy).

        Examples
        --------
        >>> Seeds.from_random_state(0) == Seeds.from_random_state(0)
        True
        """
        return cls(*member_random_states(random_state, 3))


def holdout(y, rows, fraction, seed):
    """Split ``rows`` into ``(train, valid)``: a stratified holdout of ``fraction``.

    The holdout takes ``ceil(fraction * len(rows))`` rows with skorch's
    ``ValidSplit(stratified=True)``, stratified by the side a label favours (b,
    tie or a) so that soft labels are stratified too, and unstratified where a
    side has too few pairs for both parts. ``valid`` is None where the holdout
    is no row or all of them.

    Examples
    --------
    >>> import numpy as np
    >>> train, valid = holdout(np.tile([0.0, 1.0], 10), np.arange(20), 0.1, 0)
    >>> len(train), len(valid), holdout(np.ones(5), np.arange(5), 0, 0)[1]
    (18, 2, None)
    """
    n_valid = math.ceil(fraction * len(rows))
    if not 1 <= n_valid < len(rows):
        return rows, None
    side = np.sign(np.asarray(y[rows], dtype=np.float64) - 0.5).astype(np.int64) + 1
    counts = np.bincount(side, minlength=3)
    stratified = counts[counts > 0].min() >= 2 and (
        min(n_valid, len(side) - n_valid) >= np.count_nonzero(counts)
    )
    split = ValidSplit(fraction, stratified=stratified, random_state=seed)
    train, valid = split(np.arange(len(side)), y=side)
    return rows[np.asarray(train.indices)], rows[np.asarray(valid.indices)]
