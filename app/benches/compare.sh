#!/usr/bin/env bash
# burn-lr against PyTorch on this machine, one after the other in one run.
#
#   app/benches/compare.sh                      training-step throughput, burn-lr / PyTorch per model
#   app/benches/compare.sh --before             also burn-lr with the system allocator (the "before" of docs/measured.md)
#   app/benches/compare.sh --time-to-accuracy   also quick-cpu against its PyTorch twin (wall time, accuracy)
#   app/benches/compare.sh --burn-conv          also burn-lr with Burn's own CPU convolution (cpu_conv = "burn"),
#                                               in the step and, with --time-to-accuracy, in quick-cpu
#
# burn-lr's convolution is oneDNN when libdnnl.so.2 opens (apt-get install libdnnl-dev; cpu_conv = "auto"),
# else Burn's: the table's conv column says which ran.
#
# Environment: PYTHON (a Python with torch; default python3), THREADS (default: all cores; Burn's
# flex through RAYON_NUM_THREADS and oneDNN through OMP_NUM_THREADS, PyTorch through torch.set_num_threads), MODELS (default
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
before=0 tta=0 burn_conv=0
for arg in "$@"; do
  case $arg in
    --before) before=1 ;;
    --time-to-accuracy) tta=1 ;;
    --burn-conv) burn_conv=1 ;;
    *) echo "compare.sh: unknown option $arg (allowed: --before, --time-to-accuracy, --burn-conv)" >&2; exit 2 ;;
  esac
done
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "compare.sh: $PYTHON has no torch; set PYTHON to a Python with torch (python3 -m venv V && V/bin/pip install torch pillow)" >&2
  exit 2
fi
mkdir -p "$OUT"
export RAYON_NUM_THREADS=$THREADS
# oneDNN's convolution runs on OpenMP threads.
export OMP_NUM_THREADS=$THREADS

fail() { # $1: what, $2: its log
  echo "compare.sh: $1 failed; the end of $2:" >&2
  tail -20 "$2" >&2
  exit 1
}

bench_burn() { # $1: allocator, $2: cpu_conv, $3: name of the CSV file
  rm -f "$TARGET/criterion/train_step.csv"
  BURN_LR_BENCH_BACKENDS=cpu BURN_LR_BENCH_MODELS=$MODELS BURN_LR_BENCH_ALLOCATOR=$1 BURN_LR_BENCH_CONV=$2 \
    cargo bench --quiet -p burn-lr-cifar --bench train_step -- train_step >"$OUT/$3.log" 2>&1 \
    || fail "cargo bench --bench train_step" "$OUT/$3.log"
  cp "$TARGET/criterion/train_step.csv" "$OUT/$3.csv"
}

echo "== training step, batch 128, $THREADS threads, $(date -u +%FT%TZ), $(uname -m), $(nproc) cores"
bench_burn mimalloc auto burn-mimalloc
[ $before = 1 ] && bench_burn system auto burn-system
[ $burn_conv = 1 ] && bench_burn mimalloc burn burn-conv
"$PYTHON" app/benches/torch_baseline.py bench --models "$MODELS" --threads "$THREADS" >"$OUT/torch.csv" 2>"$OUT/torch.log" \
  || fail "app/benches/torch_baseline.py bench" "$OUT/torch.log"

"$PYTHON" - "$OUT" $before $burn_conv <<'EOF'
import csv, sys
out, before, burn_conv = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
rows = lambda f: {r["model"]: r for r in csv.DictReader(open(f"{out}/{f}"))}
burn, torch = rows("burn-mimalloc.csv"), rows("torch.csv")
others = [(name, rows(f"{f}.csv")) for name, f, on in
          [("system allocator", "burn-system", before), ("Burn's conv", "burn-conv", burn_conv)] if on]
head = f"{'model':<10} {'burn-lr img/s':>14} {'PyTorch img/s':>14} {'burn-lr/PyTorch':>16}"
for name, _ in others:
    head += f" {name + ' img/s':>24} {'/PyTorch':>9}"
print(head)
for model, t in torch.items():
    b, ti = float(burn[model]["images_per_s"]), float(t["images_per_s"])
    line = f"{model:<10} {b:>14.1f} {ti:>14.1f} {b / ti:>16.2f}"
    for _, other in others:
        s = float(other[model]["images_per_s"])
        line += f" {s:>24.1f} {s / ti:>9.2f}"
    print(line)
print("burn-lr's convolution: " + ", ".join(sorted({r["conv"] for r in burn.values()})))
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
  grep -m1 '^convolution:' "$OUT/quick-cpu.log"
  if [ $burn_conv = 1 ]; then
    rm -rf "$OUT/quick-cpu-burn-conv"
    start=$(date +%s.%N)
    "$TARGET/release/burn-lr" train --config configs/quick-cpu.toml --data-dir "$DATA_DIR" --cpu-conv burn \
      --artifact-dir "$OUT/quick-cpu-burn-conv" >"$OUT/quick-cpu-burn-conv.log" 2>&1 \
      || fail "burn-lr train --cpu-conv burn (quick-cpu)" "$OUT/quick-cpu-burn-conv.log"
    conv_wall=$(echo "$(date +%s.%N) - $start" | bc)
    conv_acc=$(tail -1 "$OUT/quick-cpu-burn-conv/metrics.csv" | cut -d, -f4)
  fi
  "$PYTHON" app/benches/torch_baseline.py train --data-dir "$DATA_DIR" --threads "$THREADS" >"$OUT/torch-train.json" \
    2>"$OUT/torch-train.log" || fail "app/benches/torch_baseline.py train" "$OUT/torch-train.log"
  "$PYTHON" - "$burn_wall" "$burn_acc" "$OUT/torch-train.json" "${conv_wall:-}" "${conv_acc:-}" <<'EOF'
import json, sys
bw, ba = float(sys.argv[1]), float(sys.argv[2])
t = json.load(open(sys.argv[3]))
print(f"burn-lr quick-cpu: {bw:.0f} s, final accuracy {ba:.2f}%")
print(f"PyTorch twin:      {t['wall_s']:.0f} s, final accuracy {t['accuracy']:.2f}% (torch {t['torch']})")
print(f"wall time burn-lr / PyTorch: {bw / t['wall_s']:.2f}")
if sys.argv[4]:
    cw, ca = float(sys.argv[4]), float(sys.argv[5])
    print(f"burn-lr quick-cpu, Burn's convolution: {cw:.0f} s, final accuracy {ca:.2f}%; / PyTorch: {cw / t['wall_s']:.2f}")
EOF
fi
