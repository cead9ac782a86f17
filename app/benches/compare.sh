#!/usr/bin/env bash
# burn-lr against PyTorch on this machine, one after the other in one run.
#
#   app/benches/compare.sh                      training-step throughput, burn-lr / PyTorch per model
#   app/benches/compare.sh --before             also burn-lr with the system allocator (the README's "before")
#   app/benches/compare.sh --time-to-accuracy   also quick-cpu against its PyTorch twin (wall time, accuracy)
#
# Environment: PYTHON (a Python with torch; default python3), THREADS (default: all cores; Burn's
# flex through RAYON_NUM_THREADS, PyTorch through torch.set_num_threads), MODELS (default
# resnet8,resnet20,resnet18), DATA_DIR (default ../shared/data/cifar10, for --time-to-accuracy),
# OUT (default target/compare). Install PyTorch: python3 -m venv V && V/bin/pip install torch pillow
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-python3}
THREADS=${THREADS:-$(nproc)}
MODELS=${MODELS:-resnet8,resnet20,resnet18}
DATA_DIR=${DATA_DIR:-../shared/data/cifar10}
TARGET=${CARGO_TARGET_DIR:-target}
OUT=${OUT:-$TARGET/compare}
before=0 tta=0
for arg in "$@"; do
  case $arg in
    --before) before=1 ;;
    --time-to-accuracy) tta=1 ;;
    *) echo "compare.sh: unknown option $arg (allowed: --before, --time-to-accuracy)" >&2; exit 2 ;;
  esac
done
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "compare.sh: $PYTHON has no torch; set PYTHON to a Python with torch (python3 -m venv V && V/bin/pip install torch pillow)" >&2
  exit 2
fi
mkdir -p "$OUT"
export RAYON_NUM_THREADS=$THREADS

fail() { # $1: what, $2: its log
  echo "compare.sh: $1 failed; the end of $2:" >&2
  tail -20 "$2" >&2
  exit 1
}

bench_burn() { # $1: allocator name for the CSV file
  rm -f "$TARGET/criterion/train_step.csv"
  BURN_LR_BENCH_BACKENDS=cpu BURN_LR_BENCH_MODELS=$MODELS BURN_LR_BENCH_ALLOCATOR=$1 \
    cargo bench --quiet -p burn-lr-cifar --bench train_step -- train_step >"$OUT/burn-$1.log" 2>&1 \
    || fail "cargo bench --bench train_step" "$OUT/burn-$1.log"
  cp "$TARGET/criterion/train_step.csv" "$OUT/burn-$1.csv"
}

echo "== training step, batch 128, $THREADS threads, $(date -u +%FT%TZ), $(uname -m), $(nproc) cores"
bench_burn mimalloc
[ $before = 1 ] && bench_burn system
"$PYTHON" app/benches/torch_baseline.py bench --models "$MODELS" --threads "$THREADS" >"$OUT/torch.csv" 2>"$OUT/torch.log" \
  || fail "app/benches/torch_baseline.py bench" "$OUT/torch.log"

"$PYTHON" - "$OUT" $before <<'EOF'
import csv, sys
out, before = sys.argv[1], sys.argv[2] == "1"
rows = lambda f: {r["model"]: r for r in csv.DictReader(open(f"{out}/{f}"))}
burn, torch = rows("burn-mimalloc.csv"), rows("torch.csv")
system = rows("burn-system.csv") if before else {}
head = f"{'model':<10} {'burn-lr img/s':>14} {'PyTorch img/s':>14} {'burn-lr/PyTorch':>16}"
if before:
    head += f" {'before img/s':>13} {'before/PyTorch':>15}"
print(head)
for model, t in torch.items():
    b, ti = float(burn[model]["images_per_s"]), float(t["images_per_s"])
    line = f"{model:<10} {b:>14.1f} {ti:>14.1f} {b / ti:>16.2f}"
    if before:
        s = float(system[model]["images_per_s"])
        line += f" {s:>13.1f} {s / ti:>15.2f}"
    print(line)
heap = ", ".join("%s %.0f" % (m, float(r["peak_host_mib"])) for m, r in burn.items())
rss = ", ".join("%s %.0f" % (m, float(r["peak_rss_mib"])) for m, r in torch.items())
print("peak memory, MiB (different measures): burn-lr heap bytes " + heap + "; PyTorch process resident set " + rss)
EOF

if [ $tta = 1 ]; then
  echo "== time to accuracy: configs/quick-cpu.toml against its PyTorch twin, data $DATA_DIR"
  cargo build --quiet --release
  rm -rf "$OUT/quick-cpu"
  start=$(date +%s.%N)
  "$TARGET/release/burn-lr" train --config configs/quick-cpu.toml --data-dir "$DATA_DIR" \
    --artifact-dir "$OUT/quick-cpu" >"$OUT/quick-cpu.log" 2>&1 || fail "burn-lr train (quick-cpu)" "$OUT/quick-cpu.log"
  burn_wall=$(echo "$(date +%s.%N) - $start" | bc)
  burn_acc=$(tail -1 "$OUT/quick-cpu/metrics.csv" | cut -d, -f4)
  "$PYTHON" app/benches/torch_baseline.py train --data-dir "$DATA_DIR" --threads "$THREADS" >"$OUT/torch-train.json" \
    2>"$OUT/torch-train.log" || fail "app/benches/torch_baseline.py train" "$OUT/torch-train.log"
  "$PYTHON" - "$burn_wall" "$burn_acc" "$OUT/torch-train.json" <<'EOF'
import json, sys
bw, ba = float(sys.argv[1]), float(sys.argv[2])
t = json.load(open(sys.argv[3]))
print(f"burn-lr quick-cpu: {bw:.0f} s, final accuracy {ba:.2f}%")
print(f"PyTorch twin:      {t['wall_s']:.0f} s, final accuracy {t['accuracy']:.2f}% (torch {t['torch']})")
print(f"wall time burn-lr / PyTorch: {bw / t['wall_s']:.2f}")
EOF
fi
