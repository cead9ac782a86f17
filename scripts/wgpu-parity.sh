#!/usr/bin/env bash
# The GPU path without a GPU: app/tests/wgpu_parity.rs on Mesa's lavapipe (software Vulkan),
# wgpu against the CPU from the same weights and batches (docs/gpu-training.md).
#
#   scripts/wgpu-parity.sh        (~30 min cold on 2 cores: the whole Burn + CubeCL + wgpu stack
#                                  at opt-level 1 in its own cargo profile, `parity`, then ~4 min
#                                  of lavapipe)
#
# Not in .ci/run: that build alone is a third of CI's 90 minutes on 2 cores. Run it when you
# change the backend, device or precision code (app/src/device/, the launch in app/src/run/),
# or Burn's version; CI still compiles and lints the wgpu, cuda and ndarray features.
# Installs mesa-vulkan-drivers and libvulkan1 with apt-get (as root, or through sudo) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
if ! ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || ! ls /usr/lib/*/libvulkan.so.1 >/dev/null 2>&1; then
  { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      mesa-vulkan-drivers libvulkan1 >/dev/null; } ||
    { echo "wgpu-parity: needs Debian's mesa-vulkan-drivers and libvulkan1 (apt-get, as root or with sudo)" >&2; exit 2; }
fi
# With CubeCL's default autotune level: on lavapipe the test took 214 s (cold shader cache),
# 224 s with CUBECL_AUTOTUNE_LEVEL=minimal, so the level is left as users get it.
cargo test --profile parity --features wgpu --test wgpu_parity -- --nocapture
