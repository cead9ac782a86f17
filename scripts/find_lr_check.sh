#!/usr/bin/env bash
# The LR range test check of docs/look-at-it.md on quick-cpu (release build, CIFAR-10 images in
# ../shared/data/cifar10 or $1): find-lr, then the shipped recipe and the same recipe with the
# recommended max_lr, one after the other (~20 minutes on 2 cores).
#   cargo build --release && scripts/find_lr_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/burn-lr
DATA=${1:-../shared/data/cifar10}
OUT=$(mktemp -d)
"$BIN" find-lr --config configs/quick-cpu.toml --data-dir "$DATA" --out "$OUT/find" | tee "$OUT/find.out"
LR=$(sed -n 's/.*max_lr = \([0-9.e-]*\))$/\1/p' "$OUT/find.out")
sed "s/^max_lr = 0.2$/max_lr = $LR/" configs/quick-cpu.toml > "$OUT/quick-cpu-found.toml"
"$BIN" train --config configs/quick-cpu.toml --data-dir "$DATA" --artifact-dir "$OUT/shipped" | tail -1
"$BIN" train --config "$OUT/quick-cpu-found.toml" --data-dir "$DATA" --artifact-dir "$OUT/found" | tail -1
echo "shipped max_lr 0.2 vs recommended $LR: see the two lines above ($OUT)"
