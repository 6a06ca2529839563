#!/usr/bin/env bash
# Sets up the machine and runs the main job: a local devnet (an embedded coordinator plus
# one node in one process). Extra arguments go to `idleshare devnet` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec cargo run --locked --bin idleshare -- devnet "$@"
