#!/usr/bin/env bash
# The main job: set up .venv, then run the demo (a fast reproduction of the paper's
# experiments on synthetic data). Extra arguments go to `skpref`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export SKPREF_DATA_HOME=${SKPREF_DATA_HOME:-$(cd .. && pwd)/shared/data}
if [ "$#" -eq 0 ]; then
    set -- demo
fi
exec python -m skpref "$@"
