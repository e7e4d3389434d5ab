#!/bin/sh
# Files as xorgpu 0.2.0 writes them, kept so later versions are tested to still read them
# (tests/test_old_files.py). Made once with this script; do not regenerate them.
set -e
cd "$(dirname "$0")"
xorgpu run --nets 24 --seeds 100:124 --hidden 3 --lr 1 --epochs 700 --sample-every 100 -o nets.npz --json > run.json
xorgpu run --nets 24 --seeds 100:124 --hidden 3 --lr 1 --epochs 700 --sample-every 100 -o nets.parquet > /dev/null
xorgpu sweep --nets 12 --hidden 2,3 --lr 1,4 --epochs 1000 -o sweep.jsonl > /dev/null
xorgpu map --x lr:0.1:2:log --y momentum:0:0.5 --resolution 6 --epochs 500 --out map.npz > /dev/null
