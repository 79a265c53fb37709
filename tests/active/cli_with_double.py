"""``skpref`` with the test-double ensemble, while ``skpref.RewardEnsemble`` is missing.

``python -m tests.active.cli_with_double reproduce active-positivity ...`` runs
the command line exactly as ``skpref reproduce ...`` would, except that the active
protocols build their ensembles with :class:`tests.ensemble_double.MemberEnsemble`
(independently seeded clones of the model, the interface the brief gives for
``RewardEnsemble``). The figures of ``docs/active.rst`` were measured this way.
"""

import sys

from skpref import _cli
from skpref.experiments import _active
from tests.ensemble_double import MemberEnsemble


def main(argv=None):
    """Run ``skpref`` with MemberEnsemble as the default ensemble."""
    default = _active._ensemble_class
    _active._ensemble_class = lambda ensemble: ensemble or MemberEnsemble
    try:
        return _cli.main(argv)
    finally:
        _active._ensemble_class = default


if __name__ == "__main__":
    sys.exit(main())
