#!/usr/bin/env bash
# GPU check of maps, for a machine with a CUDA GPU, CuPy, numba and pytest and no network:
# the per-net-value tests on CuPy and on the CUDA kernel, the map tests, bench/maps.py at
# 4096^2 pixels x 1000 epochs (float64 and float32, with a CuPy-vs-NumPy check), and the
# whole `xorgpu map` command at that size. Writes $OUT/gpu_maps.md (and the map's PNG, JSON).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 OUT="${OUT:-/tmp}"
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . >/dev/null 2>&1 \
  || echo "(editable install failed; running from the source tree)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu_maps.md"
timeout 200 python3 -m pytest -q -p no:cacheprovider -p no:randomly tests/engines/test_knobs.py \
  tests/test_maps.py "tests/engines/test_conformance.py" -k "not strict" 2>&1 | tail -6 | tee -a "$OUT/gpu_maps.md"
cd bench
timeout 150 python3 maps.py --backend cupy --resolution 4096 --epochs 1000 --rounds 3 --check \
  --png "$OUT/map4096.png" --json "$OUT/map4096.json" --write "$OUT/gpu_maps.md" | tail -3
timeout 80 python3 maps.py --backend cupy --resolution 4096 --epochs 1000 --rounds 3 --dtype float32 \
  --write "$OUT/gpu_maps.md" | tail -3
cd ..
start=$(date +%s.%N)
timeout 80 xorgpu map --x lr_hidden:0.01:1000:log --y lr_output:0.01:1000:log --resolution 4096 --epochs 1000 \
  --backend cupy --json > "$OUT/map_command.json" 2>/dev/null
echo "whole \`xorgpu map\` process, 4096^2 x 1000 epochs float64 on CuPy: rc $?, $(python3 -c "import time; print(round(time.time() - $start, 1))") s" \
  | tee -a "$OUT/gpu_maps.md"
