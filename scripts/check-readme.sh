#!/usr/bin/env bash
# The root README's "Add it" and its programs, exactly as written, in a fresh `cargo new`
# project next to this repository (as the README's path dependency expects): each fenced block
# after a `<!-- readme-check: FILE -->` line becomes FILE (the Cargo.toml block replaces the
# project's [dependencies]); the project is built and each program run. `src/main.rs` must train
# and print one line per epoch, never Burn's per-batch debug lines.
#
#   scripts/check-readme.sh            (CI runs it; ~5 min cold on 2 cores, a target dir of its own)
#
# BURN_LR_README_TARGET sets the target directory (default: target/readme-check of this
# repository, kept between runs).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ln -s "$ROOT" "$WORK/burn-lr"
cd "$WORK"
cargo new --quiet --bin --vcs none my-app
cd my-app
python3 - "$ROOT/README.md" <<'PY'
import re, sys
readme = open(sys.argv[1]).read()
blocks = re.findall(r"<!-- readme-check: (\S+) -->\n```\w*\n(.*?)```", readme, re.S)
if not any(f == "Cargo.toml" for f, _ in blocks) or not any(f == "src/main.rs" for f, _ in blocks):
    sys.exit("README.md: no `<!-- readme-check: Cargo.toml -->` or `src/main.rs` block")
for path, text in blocks:
    if path == "Cargo.toml":
        manifest = open(path).read()
        head = manifest.split("[dependencies]")[0]
        open(path, "w").write(head + text)
    else:
        import os
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").write(text)
    print("readme-check:", path, f"({text.count(chr(10))} lines)")
PY
export CARGO_TARGET_DIR=${BURN_LR_README_TARGET:-$ROOT/target/readme-check}
cargo build --quiet --bins
for bin in src/bin/*.rs; do
  [ -e "$bin" ] || continue
  name=$(basename "$bin" .rs)
  cargo run --quiet --bin "$name"
  echo "readme-check: $name ran"
done
OUT=$(cargo run --quiet --bin my-app)
echo "$OUT"
if grep -q "ProgressSnapshot" <<<"$OUT"; then echo "readme-check: Burn's per-batch debug lines"; exit 1; fi
test "$(grep -c '^epoch ' <<<"$OUT")" -eq 5 || { echo "readme-check: not one line per epoch"; exit 1; }
grep -q '^trained 5 epochs' <<<"$OUT"
echo "readme-check: the README's dependency lines and programs build and run"
