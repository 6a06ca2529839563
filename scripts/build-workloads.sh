#!/usr/bin/env bash
# Rebuilds the sample job modules in assets/workloads/ and copies them to
# assets/workloads/wasm/*.wasm (committed, so the project works where the wasm32 target
# cannot be installed).
#
#   scripts/build-workloads.sh           rebuild and replace the committed modules
#   scripts/build-workloads.sh --check   rebuild and fail if any differs from the committed one
#
# The build is bit-reproducible for a given Rust toolchain: no timestamps, symbols are
# stripped, and source paths are remapped. A different rustc may emit different (equally
# valid) bytes; --check then names the toolchain it used.
set -euo pipefail
cd "$(dirname "$0")/../assets/workloads"

MODULES=(mandelbrot sha256_chain render)
check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

export CARGO_TARGET_DIR="$PWD/target"
export RUSTFLAGS="--remap-path-prefix=$PWD=/workloads --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
cargo build --quiet --release --locked --target wasm32-unknown-unknown

different=()
for module in "${MODULES[@]}"; do
  built="target/wasm32-unknown-unknown/release/$module.wasm"
  committed="wasm/$module.wasm"
  if $check; then
    cmp -s "$built" "$committed" || different+=("$module")
  else
    cp "$built" "$committed"
    echo "build-workloads: $committed ($(wc -c <"$committed") bytes)"
  fi
done

if ((${#different[@]})); then
  echo "build-workloads: rebuilt ${different[*]} differ from assets/workloads/wasm/ ($(rustc --version))" >&2
  exit 1
fi
$check && echo "build-workloads: the committed modules match a fresh build ($(rustc --version))"
exit 0
