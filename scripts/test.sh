#!/usr/bin/env bash
# Sets up the machine and runs every test: the web UI's Vitest, then `cargo test` inside a
# private D-Bus session with a throwaway, unlocked gnome-keyring, so the real OS-keychain
# path is exercised (not only the file fallback); the desktop app's window tests start
# their own Xvfb and tauri-driver. Then (for a full run, without test filters) packages the
# app as a .deb, installs it with dpkg, checks it and removes it again. Leaves nothing
# running.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests

# The web UI's logic (Vitest; setup.sh installed its packages).
(cd ui && npm test --silent)

keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
export XDG_DATA_HOME="$keyring_home"
# Nodes started without --settings read the per-user config dir: keep the owner's out of it.
export XDG_CONFIG_HOME="$keyring_home/config"
# The keychain tests fail instead of skipping when no keychain is reachable.
export IDLESHARE_REQUIRE_KEYCHAIN=1
# The desktop tests (Xvfb, xdotool, python3-dbusmock) fail instead of skipping without them.
export IDLESHARE_REQUIRE_XVFB=1

dbus-run-session -- sh -c '
  echo -n idleshare-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  cargo test --workspace --locked "$@"
' sh "$@"

if [ "$#" -eq 0 ]; then
  scripts/package-deb.sh --debug
fi
