#!/usr/bin/env bash
# The GPU measurement, in one call on a lent GPU machine (docs/gpu.md; built and packed here
# first by scripts/gpu/prepare.sh). Three parts, each under its own time limit:
#   1. parity: `tiny` and ResNet-8, one short epoch (5 updates, OneCycle with max_lr 0.01: a
#      large LR amplifies rounding, docs/gpu-training.md) on the CPU and on the GPU from the same seed
#      (initial weights drawn on the CPU for both): lr.csv must be identical and the loss of
#      every iteration within PARITY_TOLERANCE (default 1e-3, relative; lavapipe: ~1e-5);
#   2. the step bench (ResNet-9 and ResNet-18, batch 128, in f32 and in bf16: two bench
#      processes, since Burn fixes a device's float type once per process; images/s, ms/step,
#      training FLOPs per image and the model-FLOP utilisation against the GPU's peak), if its
#      binary was packed;
#   3. Page's ResNet-9 recipe (configs/gpu/resnet9-dawn.toml: 24 epochs, batch 512,
#      piecewise-linear LR, label smoothing, cutout) on the packed CIFAR-10 subset (1,000
#      training and 200 test images per class): accuracy, wall time, images/s and utilisation
#      per epoch.
# Results go to $OUT (at most 8 files): summary.md, device.txt, parity.txt, train_step.csv,
# metrics.csv, lr.csv, accuracy.png, log.txt. Exit status 0 only if parity passed and the run
# finished.
#
# A second call, `scripts/gpu/run.sh cuda weights`, runs part 4 alone: the recipe against the
# weights a run can keep instead (configs/gpu/resnet9-{swa,ema,sgd-schedule-free,
# adamw-schedule-free}.toml) through `burn-lr compare` on the same subset, each run capped to
# its share of BUDGET; results: $OUT/summary.md (compare's table), compare_accuracy.png, log.txt.
#
# On the GPU machine: bash scripts/gpu/run.sh wgpu      (or cuda)
# Rehearsal here on lavapipe, with the debug binaries and a few images:
#   BIN=target/parity/burn-lr DATA=../shared/data/cifar10 QUICK=1 TIME_SCALE=6 BUDGET=2400 OUT=/tmp/gpu \
#     bash scripts/gpu/run.sh wgpu      (docs/gpu.md)
set -uo pipefail
BACKEND=${1:-}
case "$BACKEND" in wgpu | cuda) ;; *) echo "usage: scripts/gpu/run.sh wgpu|cuda [weights]" >&2; exit 2 ;; esac
PART=${2:-all}
case "$PART" in all | weights) ;; *) echo "usage: scripts/gpu/run.sh wgpu|cuda [weights]" >&2; exit 2 ;; esac
: "${OUT:?set OUT to the folder for the results}"
cd "$(dirname "$0")/../.."
CARRY=${CARRY:-gpu-carry}
PARITY_TOLERANCE=${PARITY_TOLERANCE:-1e-3}
# The GPU's name in the bench's peak table (burn_lr_cifar::model::flops::PEAKS), from nvidia-smi.
if [ -z "${PEAK:-}" ] && command -v nvidia-smi >/dev/null; then
  case "$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)" in
    *H200*) PEAK=H200 ;; *H100*) PEAK=H100 ;; *A100*) PEAK=A100 ;; *L40*) ;; *L4*) PEAK=L4 ;; *V100*) PEAK=V100 ;;
    *T4*) PEAK=T4 ;; *4090*) PEAK=RTX4090 ;; *3090*) PEAK=RTX3090 ;;
  esac
fi
# The whole script stays inside BUDGET seconds (the device call's timeout_s less a margin):
# each part's limit is cut to what is left, so summary.md is always written.
BUDGET=${BUDGET:-530}
# TIME_SCALE multiplies each part's limit (a rehearsal on lavapipe, which compiles every shader
# on the CPU: TIME_SCALE=6 BUDGET=2400).
TIME_SCALE=${TIME_SCALE:-1}
cap() {
  local want=$(($1 * TIME_SCALE)) left=$((BUDGET - SECONDS - 25))
  [ "$left" -lt "$want" ] && echo $((left > 1 ? left : 1)) || echo "$want"
}
WORK=$(mktemp -d)
mkdir -p "$OUT"
# Mesa's loader complains on every device open without it.
[ -n "${XDG_RUNTIME_DIR:-}" ] || export XDG_RUNTIME_DIR=$WORK
exec > >(tee "$OUT/log.txt") 2>&1
say() { echo "== $*"; }

# Vulkan loader and NVIDIA's driver files (`.gl/`), CUDA's libdevice.
if [ "$BACKEND" = wgpu ] && ! ldconfig -p | grep -q 'libvulkan.so.1' && [ -d .gl ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
nv_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$nv_icd" ] && [ -z "${VK_DRIVER_FILES:-}" ] && export VK_DRIVER_FILES=$nv_icd
[ -d "$CARRY/cuda" ] && export CUDA_PATH=$PWD/$CARRY/cuda

unpack() { # $1 = packed name; prints the path of the runnable file
  [ -f "$CARRY/$1.xz" ] || return 1
  xz -dc "$CARRY/$1.xz" > "$WORK/$1" && chmod +x "$WORK/$1" && echo "$WORK/$1"
}
BIN=${BIN:-$(unpack "burn-lr-$BACKEND")} || { echo "no binary: run scripts/gpu/prepare.sh $BACKEND first" >&2; exit 2; }
if [ -z "${DATA:-}" ]; then
  tar -xf "$CARRY/cifar10-subset.tar" -C "$WORK" || exit 2
  DATA=$WORK/cifar10-subset
fi

if [ "$PART" = weights ]; then
  say "4. the recipe against SWA, EMA, Schedule-Free SGD and AdamW (burn-lr compare) on $BACKEND"
  extra=()
  [ -n "${QUICK:-}" ] && extra=(--epochs 19 --train-limit 64 --test-limit 20)
  "$BIN" --version | tee "$OUT/device.txt"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name --format=csv,noheader | tee -a "$OUT/device.txt"
  timeout "$(cap 500)" "$BIN" compare --configs configs/gpu/resnet9-{dawn,swa,ema,sgd-schedule-free,adamw-schedule-free}.toml \
    --data-dir "$DATA" --device "$BACKEND" --out "$WORK/weights" "${extra[@]}"
  status=$?
  for f in summary.md compare_accuracy.png; do [ -f "$WORK/weights/$f" ] && cp "$WORK/weights/$f" "$OUT/"; done
  rm -rf "$WORK"
  exit "$status"
fi

say "device"
{
  date -u +"%Y-%m-%d %H:%M UTC"
  uname -srm
  nproc | sed 's/^/cpu cores: /'
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  "$BIN" --version
} | tee "$OUT/device.txt"

say "1. parity: CPU vs $BACKEND, same seed, 5 updates"
: > "$OUT/parity.txt"
parity_ok=1
for arch in tiny resnet8; do
  cfg=$WORK/parity-$arch.toml
  printf '%s\n' "[model]" "arch = \"$arch\"" "[data]" "augment = true" "num_workers = 1" \
    "[optimizer]" 'name = "sgd"' "lr = 0.1" "momentum = 0.9" "nesterov = true" "weight_decay = 5e-4" \
    "[scheduler]" 'type = "one_cycle"' "max_lr = 0.01" "pct_start = 0.5" \
    "[training]" "epochs = 1" "batch_size = 64" "seed = 42" > "$cfg"
  for dev in cpu "$BACKEND"; do
    timeout "$(cap 120)" "$BIN" train --config "$cfg" --data-dir "$DATA" --train-limit 320 --test-limit 100 \
      --device "$dev" --artifact-dir "$WORK/parity-$arch-$dev" > "$WORK/parity-$arch-$dev.txt" 2>&1 ||
      { echo "$arch on $dev failed:"; tail -5 "$WORK/parity-$arch-$dev.txt"; parity_ok=0; continue 2; }
  done
  a=$WORK/parity-$arch-cpu b=$WORK/parity-$arch-$BACKEND
  if cmp -s "$a/lr.csv" "$b/lr.csv"; then lr=identical; else lr=DIFFERENT; parity_ok=0; fi
  # Burn's per-iteration loss (train/epoch-1/Loss.log: `value,count` per iteration).
  la=$(grep -v final "$a/train/epoch-1/Loss.log" 2>/dev/null) lb=$(grep -v final "$b/train/epoch-1/Loss.log" 2>/dev/null)
  if [ -z "$la" ] || [ "$(echo "$la" | wc -l)" != "$(echo "$lb" | wc -l)" ]; then
    echo "$arch: lr.csv $lr; the per-iteration losses are missing or of different lengths" | tee -a "$OUT/parity.txt"
    parity_ok=0
    continue
  fi
  worst=$(paste -d, <(echo "$la") <(echo "$lb") |
    awk -F, '{ d = $1 - $3; if (d < 0) d = -d; r = d / ($1 < 0 ? -$1 : $1); if (r > m) m = r; n++ }
             END { printf "%d iterations, largest relative loss difference %.2e", n, m }')
  echo "$arch: lr.csv $lr; $worst" | tee -a "$OUT/parity.txt"
  awk -v w="${worst##* }" -v t="$PARITY_TOLERANCE" 'BEGIN { exit !(w + 0 <= t + 0) }' || parity_ok=0
done
[ "$parity_ok" = 1 ] && verdict="PASS (tolerance $PARITY_TOLERANCE)" || verdict="FAIL (tolerance $PARITY_TOLERANCE)"
echo "parity: $verdict" | tee -a "$OUT/parity.txt"

say "2. step bench: f32 and bf16${PEAK:+, utilisation against the $PEAK peak}"
if BENCH=${BENCH:-$(unpack "train_step-$BACKEND")}; then
  models=resnet9,resnet18
  [ -n "${QUICK:-}" ] && models=tiny
  for precision in f32 bf16; do
    rm -f "$WORK/bench/criterion/train_step.csv"
    env BURN_LR_BENCH_BACKENDS="$BACKEND" BURN_LR_BENCH_MODELS="$models" BURN_LR_BENCH_PRECISION="$precision" \
      ${PEAK:+BURN_LR_BENCH_PEAK="$PEAK"} CARGO_TARGET_DIR="$WORK/bench" \
      timeout "$(cap 110)" "$BENCH" --bench train_step ||
      echo "the $precision bench failed or ran out of time (see above)"
    csv=$WORK/bench/criterion/train_step.csv
    [ -f "$csv" ] || continue
    if [ -f "$OUT/train_step.csv" ]; then tail -n +2 "$csv" >> "$OUT/train_step.csv"; else cp "$csv" "$OUT/"; fi
  done
else
  echo "no bench binary packed (scripts/gpu/prepare.sh packs it when it fits)"
fi

say "3. ResNet-9 recipe (configs/gpu/resnet9-dawn.toml), CIFAR-10 subset on $BACKEND"
extra=()
[ -n "${QUICK:-}" ] && extra=(--epochs 1 --train-limit 64 --test-limit 20 --batch-size 8)
RUN=$WORK/resnet9
train_ok=1
timeout "$(cap 400)" "$BIN" train --config configs/gpu/resnet9-dawn.toml --data-dir "$DATA" --device "$BACKEND" \
  --artifact-dir "$RUN" "${extra[@]}" || train_ok=0
for f in metrics.csv lr.csv accuracy.png; do [ -f "$RUN/$f" ] && cp "$RUN/$f" "$OUT/"; done

say "summary"
{
  echo "# GPU run: $(head -1 "$OUT/device.txt"), $BACKEND"
  echo
  sed 's/^/    /' "$OUT/device.txt"
  echo
  echo "Parity (CPU vs $BACKEND, 5 updates from the same seed):"
  sed 's/^/- /' "$OUT/parity.txt"
  if [ -f "$OUT/train_step.csv" ]; then echo; echo "Step bench:"; sed 's/^/    /' "$OUT/train_step.csv"; fi
  if [ -f "$RUN/metrics.csv" ]; then
    # The f32 bench row of the model gives its training GFLOP per image and the peak
    # (tflop_per_s / mfu_f32) for the run's utilisation.
    # (With QUICK the bench measures tiny only: no utilisation then.)
    bench_row=$(awk -F, '$2 == "resnet9" && $4 == "f32"' "$OUT/train_step.csv" 2>/dev/null | head -1)
    gflop=$(echo "$bench_row" | cut -d, -f8) tflops=$(echo "$bench_row" | cut -d, -f9) mfu=$(echo "$bench_row" | cut -d, -f10)
    echo
    echo "ResNet-9 recipe: epoch, val_acc, epoch seconds (validation and checkpoint included), training images /"
    echo "epoch seconds, model-FLOP utilisation of f32 at that speed (${PEAK:-no peak: set PEAK})"
    images=$(grep -o '[0-9]* train / [0-9]* test images' "$OUT/log.txt" | tail -1 | awk '{print $1}')
    awk -F, -v n="${images:-0}" -v g="${gflop:-0}" -v t="${tflops:-0}" -v m="${mfu:-}" 'NR > 1 {
        ips = n / $6; u = (m != "" && m > 0 && g > 0) ? sprintf("%.2f%%", 100 * ips * g / 1e3 / (t / m)) : "-"
        printf "    %s, %s%%, %s s, %.0f img/s, %s\n", $1, $4, $6, ips, u }' "$RUN/metrics.csv"
    echo "    total: $(awk -F, 'NR > 1 { s += $6 } END { printf "%.1f s", s }' "$RUN/metrics.csv") for $(($(wc -l < "$RUN/metrics.csv") - 1)) epochs"
  fi
} | tee "$OUT/summary.md"
rm -rf "$WORK"
[ "$parity_ok" = 1 ] && [ "$train_ok" = 1 ]
