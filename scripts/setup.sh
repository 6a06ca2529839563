#!/usr/bin/env bash
# Idempotent setup for a fresh Debian or Ubuntu machine: the system packages the project
# builds and tests against, and a check of the Rust toolchain; the desktop app's web UI;
# with --tests, also the window tests' WebDriver server. Safe to run again: it installs and
# builds only what is missing.
set -euo pipefail

# build-essential, pkg-config: C parts of dependencies (ring, bundled SQLite).
# libdbus-1-dev: the keyring crate talks to Secret Service over libdbus.
# dbus-daemon (dbus-run-session), gnome-keyring: a real, headless OS keychain for tests.
# xvfb, xdotool, x11-utils (xprop, xmessage): a private X server with real input and EWMH
#   properties for the desktop idle and full-screen tests and `idleshare bench yield`.
# python3-dbusmock: a fake logind on a private bus for the logind idle-hint test.
# libwebkit2gtk-4.1-dev, libgtk-3-dev, libayatana-appindicator3-dev, librsvg2-dev: the
#   desktop app (Tauri 2: the webview, the window, the tray icon).
# webkit2gtk-driver: WebKitWebDriver, behind tauri-driver, for the window tests.
# librsvg2-bin: rsvg-convert, for scripts/render-icons.sh (the icons are committed).
PACKAGES=(build-essential pkg-config libdbus-1-dev dbus-daemon gnome-keyring
  xvfb xdotool x11-utils python3-dbusmock
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  webkit2gtk-driver librsvg2-bin)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: system packages present"
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install Rust 1.95 or newer (https://rustup.rs), then run this again" >&2
  exit 1
fi
echo "setup: $(cargo --version)"

# The sample job modules (assets/workloads): built for wasm32. Their built .wasm files are
# committed, so a machine that cannot download the target still builds and tests the rest.
if command -v rustup >/dev/null && rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
  "$(dirname "$0")/build-workloads.sh" --check \
    || echo "setup: warning: the rebuilt sample modules differ from assets/workloads/wasm (see above); the committed ones are used" >&2
else
  echo "setup: warning: cannot add the wasm32-unknown-unknown target; using the committed assets/workloads/wasm modules" >&2
fi

# The desktop app's web UI: Tauri embeds ui/dist when cargo builds src-tauri, so it is
# built first (from the npm registry, exact versions from package-lock.json).
"$(dirname "$0")/build-ui.sh"

# tauri-driver: the WebDriver server for the window tests (src-tauri/tests/window.rs);
# only for `setup.sh --tests` (scripts/test.sh).
TAURI_DRIVER_VERSION=2.1.0
if [ "${1:-}" = "--tests" ] && ! cargo install --list | grep -q "^tauri-driver v$TAURI_DRIVER_VERSION:"; then
  echo "setup: installing tauri-driver $TAURI_DRIVER_VERSION (about 1.5 min)"
  cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION" --quiet
fi
