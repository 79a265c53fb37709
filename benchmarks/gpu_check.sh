#!/usr/bin/env bash
# The checks that need a CUDA machine, in one run of at most 10 minutes:
#
#   1. the suite's gpu-marked tests (the engine and the data path on CUDA);
#   2. benchmarks/bench_models.py at the paper's size on CUDA: each model's fit
#      against a bare torch loop (target <= 1.10x), an ensemble of 5 against one
#      member (target <= 2x), and the paper-size Table 2 through the runner
#      (90 fits; target <= 180 s on one H100).
#
# It prints the device, each step's wall time and the benchmark's summary of
# ratios, and copies the JSON results to $OUT when that is set. Run it from the
# repository root on a machine with torch (CUDA build), scikit-learn, pandas and
# pytest; skorch and hypothesis are installed from wheels in .whl/ when the
# machine lacks them (see docs/benchmarks.rst, "GPU figures").
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1

if [ -d .whl ] && ! python3 -c "import skorch" 2>/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}

python3 - <<'EOF' || exit 1
import torch
assert torch.cuda.is_available(), "gpu_check.sh needs a CUDA device"
print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
EOF

step() {  # step NAME LIMIT_SECONDS COMMAND...: run with a time limit, report its time
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS
    timeout "$limit" "$@"
    local status=$?
    echo "== $name: exit $status in $((SECONDS - start)) s (limit $limit s)"
    return $status
}

status=0
step "gpu tests" 120 python3 -m pytest -q -m gpu -p no:cacheprovider tests || status=1
step "bench_models (paper size, cuda)" 420 python3 benchmarks/bench_models.py \
    --device cuda --paper-size --repeats 1 --out bench-results || status=1
if [ -n "${OUT:-}" ] && [ -d bench-results ]; then
    cp bench-results/*.json "$OUT"/ 2>/dev/null || true
fi
exit $status
