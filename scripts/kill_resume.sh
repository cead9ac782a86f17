#!/usr/bin/env bash
# kill -9 during epoch 2, rerun (refused), --resume, and compare metrics.csv with an
# uninterrupted run of the same recipe. Needs the release binary and the CIFAR-10 images:
#   cargo build --release && scripts/kill_resume.sh [../shared/data/cifar10]
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/burn-lr
DATA=${1:-../shared/data/cifar10}
OUT=$(mktemp -d)
ARGS=(train --config configs/quick-cpu.toml --data-dir "$DATA" --train-limit 2560 --test-limit 500
      --epochs 3 --batch-size 128)
"$BIN" "${ARGS[@]}" --artifact-dir "$OUT/whole" > "$OUT/whole.out" 2>&1 || { cat "$OUT/whole.out"; exit 1; }
"$BIN" "${ARGS[@]}" --artifact-dir "$OUT/cut" > "$OUT/cut.out" 2>&1 &
PID=$!
until grep -q "^epoch 1/" "$OUT/cut.out" 2>/dev/null; do sleep 0.5; done
sleep 4
kill -9 "$PID"; wait "$PID" 2>/dev/null
echo "killed during epoch 2; checkpoints left: $(ls "$OUT/cut/checkpoint" | tr '\n' ' ')"
if "$BIN" "${ARGS[@]}" --artifact-dir "$OUT/cut" > "$OUT/rerun.out" 2>&1; then
  echo "FAIL: a new run into the killed run's folder was not refused"; exit 1
fi
echo "rerun refused: $(cat "$OUT/rerun.out")"
"$BIN" "${ARGS[@]}" --artifact-dir "$OUT/cut" --resume | tee "$OUT/resume.out"
# The results (epoch, losses, accuracy, LR), not the wall-time columns; and lr.csv, every update.
if cmp <(cut -d, -f1-5 "$OUT/whole/metrics.csv") <(cut -d, -f1-5 "$OUT/cut/metrics.csv") \
   && cmp "$OUT/whole/lr.csv" "$OUT/cut/lr.csv"; then
  echo "OK: metrics.csv results and lr.csv after kill -9 + --resume are identical to the uninterrupted run ($OUT)"
else
  echo "FAIL: metrics or lr.csv differ"; diff "$OUT/whole/metrics.csv" "$OUT/cut/metrics.csv"
  diff "$OUT/whole/lr.csv" "$OUT/cut/lr.csv" | head; exit 1
fi
