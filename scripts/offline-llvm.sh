#!/usr/bin/env bash
# Makes `--features cuda` build without internet (Debian/Ubuntu, x86-64).
#
# Why: burn/cuda -> cubecl-cuda -> cubecl-llvm, whose build-dependency tracel-llvm-bundler
# 23.1.0-4 downloads a prebuilt LLVM 23 from GitHub unless its install directory,
# $XDG_DATA_HOME/tracel/tracel-llvm-23.1.0-4/ (default ~/.local/share/...), holds the sentinel
# file `.tracel-llvm-installed`. Then it only calls `bin/llvm-config` there. This script puts
# Debian's LLVM 22 behind that `bin/llvm-config` and writes the sentinel. With internet none of
# this is needed: `cargo build --release --features cuda` downloads LLVM 23 itself.
#
# Usage: scripts/offline-llvm.sh            (idempotent; installs packages with apt-get as root,
#                                            or through sudo)
#        cargo build --release --features cuda
# Keep XDG_DATA_HOME the same for the script and the build (unset for both is fine).
# Undo: rm -rf "${XDG_DATA_HOME:-$HOME/.local/share}/tracel/tracel-llvm-23.1.0-4"
#
# Known limits (docs/gpu-training.md, "The GPU path without a GPU"): LLVM 22 instead of 23 (the C API changed a little);
# kernels compile to PTX for sm_90 here, but training with them was not yet run on a GPU.
set -euo pipefail

LLVM=22
BUNDLE=tracel-llvm-23.1.0-4
ROOT="${XDG_DATA_HOME:-$HOME/.local/share}/tracel/$BUNDLE"
LLVM_CONFIG="/usr/lib/llvm-$LLVM/bin/llvm-config"
PACKAGES=(llvm-$LLVM-dev libpolly-$LLVM-dev libzstd-dev libz3-dev zlib1g-dev libxml2-dev)

# A real LLVM 23 the bundler downloaded (an online build) is left alone.
if [ -f "$ROOT/.tracel-llvm-installed" ] && [ -x "$ROOT/bin/llvm-config" ] &&
   ! grep -q "Written by burn-lr" "$ROOT/bin/llvm-config" 2>/dev/null; then
  echo "offline-llvm: $ROOT already holds the bundler's own LLVM; nothing to do"
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || { echo "offline-llvm: needs apt-get (Debian/Ubuntu) for ${missing[*]}" >&2; exit 2; }
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "offline-llvm: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ -x "$LLVM_CONFIG" ] || { echo "offline-llvm: $LLVM_CONFIG missing after installing llvm-$LLVM-dev" >&2; exit 2; }

mkdir -p "$ROOT/bin"
# The bundler turns an absolute library path in `--system-libs` into a bad library name;
# Debian's llvm-config prints libz3 as /usr/lib/<triple>/libz3.so, so it becomes -lz3.
tmp=$(mktemp "$ROOT/bin/.llvm-config.XXXXXX")
cat > "$tmp" <<EOF
#!/usr/bin/env bash
# Written by burn-lr's scripts/offline-llvm.sh: Debian's LLVM $LLVM for tracel-llvm-bundler.
set -o pipefail
"$LLVM_CONFIG" "\$@" | sed -E 's#[^ ]*/libz3\.so[^ ]*#-lz3#g'
EOF
chmod +x "$tmp"
mv -f "$tmp" "$ROOT/bin/llvm-config"
"$ROOT/bin/llvm-config" --version >/dev/null
touch "$ROOT/.tracel-llvm-installed"
echo "offline-llvm: LLVM $("$LLVM_CONFIG" --version) at $ROOT (sentinel written); now: cargo build --release --features cuda"
