#!/usr/bin/env bash
# Sets up the machine and runs the main job: the desktop app (src-tauri: the node in-process,
# a tray icon, the dashboard; with no coordinator configured it runs an embedded local
# network with demo jobs) when a display is available (DISPLAY or WAYLAND_DISPLAY). On a
# machine without a display it runs the terminal devnet instead: an embedded coordinator
# plus one node in one process. Extra arguments go to whichever runs (the app:
# --minimized, --data-dir DIR, --config-dir DIR; the devnet: try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec cargo run --locked -p idleshare-app -- "$@"
fi
echo "run: no display (DISPLAY and WAYLAND_DISPLAY unset): running the terminal devnet instead of the desktop app" >&2
exec cargo run --locked --bin idleshare -- devnet "$@"
