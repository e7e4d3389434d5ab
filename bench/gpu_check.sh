#!/usr/bin/env bash
# GPU check, for a machine with a CUDA GPU, CuPy and pytest already installed and no
# network: installs nothing from outside, runs the GPU tests and bench/gpu.py, and prints
# a short table (also written to $OUT/gpu_bench.md when OUT is set). About 5 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . >/dev/null 2>&1 \
  || echo "(editable install failed; running from the source tree)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import numpy, cupy; print('numpy', numpy.__version__, 'cupy', cupy.__version__)"
timeout 240 python3 -m pytest -q -p no:cacheprovider -p no:randomly \
  tests/engines tests/test_backend.py tests/test_init.py tests/test_stats.py "$@" 2>&1 | tee "${OUT:-/tmp}/gpu_tests.log" | tail -15
PYTHONPATH=bench:${PYTHONPATH:-} timeout 300 python3 bench/gpu.py --write "${OUT:-/tmp}/gpu_bench.md"
