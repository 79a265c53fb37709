"""Scale out on Dask: protocol runs and corpus embedding across workers.

Needs the ``distributed`` extra (``pip install 'skpref[distributed]'``) for a
cluster; :func:`embed_corpus` also runs in this process without it. Sweeps need
nothing from here: scikit-learn's ``GridSearchCV`` and ``cross_validate`` run
skpref pipelines on a cluster under ``joblib.parallel_config(backend="dask")``
(see :doc:`/scaling`).
"""

from skpref.distributed._corpus import embed_corpus
from skpref.distributed._dask import dask_client
from skpref.distributed._executor import DaskExecutor

__all__ = ["DaskExecutor", "dask_client", "embed_corpus"]
