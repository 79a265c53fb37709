#!/usr/bin/env bash
# The test suite: set up .venv, then run pytest. Extra arguments go to pytest,
# e.g. `bash scripts/test.sh -m slow` for the slow tier.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export SKPREF_DATA_HOME=${SKPREF_DATA_HOME:-$(cd .. && pwd)/shared/data}
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
if [ "$#" -eq 0 ]; then
    set -- -m "not slow and not network"
fi
# One test process per core (pytest-xdist; each process runs torch on one thread,
# see conftest.py): the suite takes about half the time on two cores.
# SKPREF_TEST_WORKERS=0 runs every test in this process.
exec python -m pytest -n "${SKPREF_TEST_WORKERS:-auto}" "$@"
