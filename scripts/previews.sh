#!/usr/bin/env bash
# Draws the schedule of every shipped config (configs/*.toml) to docs/schedules/<name>.png with
# `burn-lr schedule --plot`, at the config's own epochs and optimizer updates per epoch
# (ceil(training images / batch size); 50,000 images unless [data] train_limit says fewer).
# A plateau schedule is fed an illustrative validation loss (falling, then flat), drawn on the
# chart's second axis. No data or training is needed:
#   cargo build --release && scripts/previews.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/burn-lr}
mkdir -p docs/schedules
for cfg in configs/*.toml; do
  name=$(basename "$cfg" .toml)
  epochs=$(sed -n 's/^epochs *= *\([0-9]*\).*/\1/p' "$cfg")
  batch=$(sed -n 's/^batch_size *= *\([0-9]*\).*/\1/p' "$cfg")
  images=$(sed -n 's/^train_limit *= *\([0-9]*\).*/\1/p' "$cfg")
  images=${images:-50000}
  [ "$images" -gt 50000 ] && images=50000
  spe=$(( (images + batch - 1) / batch ))
  metrics=()
  if grep -q 'reduce_on_plateau' "$cfg"; then
    # 1.6 falling to 0.6 over 12 epochs, then flat with noise: the plateau the schedule reacts to.
    m=$(python3 -c "import math; print(','.join(f'{max(0.6, 1.6 - e/12):.3f}' if e < 12 else f'{0.6 + 0.01*math.sin(e):.3f}' for e in range($epochs)))")
    metrics=(--metrics "$m")
  fi
  "$BIN" schedule --config "$cfg" --epochs "$epochs" --steps-per-epoch "$spe" "${metrics[@]}" \
    --plot "docs/schedules/$name.png"
done
