#!/usr/bin/env bash
# Packs what scripts/gpu/run.sh needs on a remote GPU machine without a Rust toolchain or
# network into gpu-carry/ (ignored by git), so that the machine's minutes go to measuring:
#   - burn-lr built with the `gpu` cargo profile (fat LTO, stripped) and the feature, xz'd;
#   - the step bench (app/benches/train_step.rs) built the same way, when everything still fits;
#   - a CIFAR-10 subset: the first 1,000 training and 200 test JPEGs of each class by file name
#     (10,000 + 2,000 images) of $DATA, as one tar;
#   - wgpu: the Vulkan loader packages in .gl/; cuda: LLVM 22 through
#     scripts/offline-llvm.sh for the build, and libdevice.10.bc (from PyPI's
#     nvidia-cuda-nvcc-cu12 wheel) for kernels that use math functions.
# Everything that travels must fit in MAX_MIB (default 64, what the carrying tool takes); the
# script checks it and says what it left out.
#
# Usage: scripts/gpu/prepare.sh wgpu|cuda     (PROFILE=gpu, DATA=../shared/data/cifar10, MAX_MIB=64;
#        BIN=... [BENCH=...] packs binaries built elsewhere instead of building)
# Then, on the GPU machine (carrying gpu-carry/ and .gl/ with the working tree):
#   bash scripts/gpu/run.sh wgpu; see docs/gpu.md.
set -euo pipefail
BACKEND=${1:-}
case "$BACKEND" in wgpu | cuda) ;; *) echo "usage: scripts/gpu/prepare.sh wgpu|cuda" >&2; exit 2 ;; esac
cd "$(dirname "$0")/../.."
PROFILE=${PROFILE:-gpu}
DATA=${DATA:-../shared/data/cifar10}
CARRY=gpu-carry
MAX_MIB=${MAX_MIB:-64}
LIMIT=$((MAX_MIB * 1024 * 1024))
[ -d "$DATA/train" ] || { echo "prepare: no CIFAR-10 image folder at $DATA (set DATA)" >&2; exit 2; }
mkdir -p "$CARRY"
rm -f "$CARRY"/*.xz   # one backend at a time: both would not fit

[ "$BACKEND" = cuda ] && [ -z "${ONLINE:-}" ] && scripts/offline-llvm.sh

pack() { # $1 = file, $2 = name
  cp "$1" "$CARRY/$2"
  strip "$CARRY/$2" 2>/dev/null || true
  xz -T0 -9 -f "$CARRY/$2"
  echo "packed $2.xz: $(du -h "$CARRY/$2.xz" | cut -f1)"
}
if [ -z "${BIN:-}" ]; then
  echo "== building burn-lr and the step bench (profile $PROFILE, feature $BACKEND)"
  dir=$PROFILE
  [ "$PROFILE" = dev ] && dir=debug
  cargo build --profile "$PROFILE" --features "$BACKEND" --bin burn-lr
  BIN=${CARGO_TARGET_DIR:-target}/$dir/burn-lr
  # The bench is optional: a failure to build it leaves it out (its errors are shown).
  BENCH=$(cargo bench --profile "$PROFILE" --features "$BACKEND" --bench train_step --no-run \
    --message-format=json | sed -n 's/.*"executable":"\([^"]*train_step[^"]*\)".*/\1/p' | tail -1) || BENCH=
fi
pack "$BIN" "burn-lr-$BACKEND"

if [ ! -f "$CARRY/cifar10-subset.tar" ]; then
  echo "== CIFAR-10 subset from $DATA"
  stage=$(mktemp -d)
  for split in train:1000 test:200; do
    name=${split%%:*} n=${split##*:}
    for class in "$DATA/$name"/*/; do
      c=$(basename "$class")
      mkdir -p "$stage/cifar10-subset/$name/$c"
      find "$class" -maxdepth 1 -name '*.jpg' | sort | awk -v n="$n" 'NR <= n' | xargs -I{} cp {} "$stage/cifar10-subset/$name/$c/"
    done
  done
  tar -cf "$CARRY/cifar10-subset.tar" -C "$stage" cifar10-subset
  rm -rf "$stage"
fi

if [ "$BACKEND" = wgpu ] && ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  echo "== Vulkan loader packages (.gl/)"
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >> .git/info/exclude
  mkdir -p /tmp/amd64/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${o[@]}" update -qq
  debs=$(mktemp -d)
  (cd "$debs" && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  rm -rf .gl && mv "$debs" .gl && chmod 755 .gl
fi
if [ "$BACKEND" = cuda ] && [ ! -f "$CARRY/cuda/nvvm/libdevice/libdevice.10.bc" ]; then
  echo "== libdevice.10.bc (nvidia-cuda-nvcc-cu12 wheel)"
  wheels=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
    -d "$wheels" nvidia-cuda-nvcc-cu12
  mkdir -p "$CARRY/cuda/nvvm/libdevice"
  unzip -p "$wheels"/nvidia_cuda_nvcc_cu12-*.whl 'nvidia/cuda_nvcc/nvvm/libdevice/libdevice.10.bc' \
    > "$wheels/libdevice.10.bc"
  [ -s "$wheels/libdevice.10.bc" ] || { echo "prepare: no libdevice.10.bc in the wheel" >&2; exit 1; }
  mv "$wheels/libdevice.10.bc" "$CARRY/cuda/nvvm/libdevice/libdevice.10.bc"
  rm -rf "$wheels"
fi

# What travels: tracked and untracked-not-ignored files, and the carried folders.
size() { git ls-files -z -co --exclude-standard | xargs -0 cat 2>/dev/null | wc -c; }
total() { echo $(($(size) + $(du -sb "$CARRY" | cut -f1) + $( [ -d .gl ] && du -sb .gl | cut -f1 || echo 0))); }
if [ -n "${BENCH:-}" ] && [ -f "$BENCH" ]; then
  pack "$BENCH" "train_step-$BACKEND"
  if [ "$(total)" -gt "$LIMIT" ]; then
    rm "$CARRY/train_step-$BACKEND.xz"
    echo "left out the step bench: with it the carried files exceed $MAX_MIB MiB (run.sh skips part 2)"
  fi
fi
used=$(total)
echo "== carried: $((used / 1024 / 1024)) MiB of $MAX_MIB (working tree, $CARRY/, .gl/)"
[ "$used" -le "$LIMIT" ] || { echo "prepare: over MAX_MIB = $MAX_MIB MiB: $(du -sh "$CARRY"/*)" >&2; exit 1; }
echo "ready: bash scripts/gpu/run.sh $BACKEND   (carry: $CARRY .gl)"
