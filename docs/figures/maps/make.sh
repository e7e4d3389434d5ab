#!/usr/bin/env bash
# The maps of docs/maps.md: run from this folder with xorgpu installed (about 2 minutes on
# 2 CPU cores of 2026; seconds on a GPU). Each map: its .json summary and .png picture; each
# setup: a zoom GIF. Each view's box counts too (NAME-counts.png).
set -euo pipefail
R=${R:-512}
FRAMES_R=${FRAMES_R:-160}

# 1. Learning rates per layer (after Sohl-Dickstein 2024): the notebook's 2-4-1 net, seed 0.
LR=(--x lr_hidden:log --y lr_output:log --epochs 2000 --seed 0)
LR_ZOOM=193.9417155161882,7.911134124029648  # a boundary pixel of lr-1, among speckles
view() {  # name centre-x,centre-y span (decades on log axes), then more flags
  local name=$1 centre=$2 span=$3; shift 3
  xorgpu map "$@" --center "$centre" --span "$span" --resolution "$R" --json --png "$name.png" \
    --counts-png "$name-counts.png" > "$name.json"
}
view lr-1 10,10 4 "${LR[@]}"
view lr-2 "$LR_ZOOM" 0.4 "${LR[@]}"
view lr-3 "$LR_ZOOM" 0.04 "${LR[@]}"
xorgpu map "${LR[@]}" --center 10,10 --span 4 --resolution "$FRAMES_R" --zoom-to "$LR_ZOOM" \
  --frames 8 --zoom-factor 1000 --gif lr-zoom.gif > /dev/null

# 2. Two initial weights (after Kolen & Pollack 1990): a 2-2-1 net, classic backprop.
KP=(--x "W1[0,1]" --y "W1[1,0]" --hidden 2 --init uniform:-1:1 --lr 0.5 --momentum 0.9 --epochs 1000 --seed 1)
KP_ZOOM=0.7240704500978463,0.7240704500978463  # a boundary pixel of kp-1, where the regions meet
view kp-1 0,0 20 "${KP[@]}"
view kp-2 "$KP_ZOOM" 2 "${KP[@]}"
view kp-3 "$KP_ZOOM" 0.2 "${KP[@]}"
xorgpu map "${KP[@]}" --center 0,0 --span 20 --resolution "$FRAMES_R" --zoom-to "$KP_ZOOM" \
  --frames 8 --zoom-factor 1000 --gif kp-zoom.gif > /dev/null
