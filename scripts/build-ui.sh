#!/usr/bin/env bash
# Builds the desktop app's web UI (ui/ → ui/dist), which src-tauri embeds at compile time.
# `npm ci` runs only when package-lock.json changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/../ui"

if ! command -v npm >/dev/null; then
  echo "build-ui: npm not found; install Node.js 20 or newer (https://nodejs.org)" >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "build-ui: Node.js $(node --version) is too old; the UI build needs 20 or newer" >&2
  exit 1
fi

stamp=node_modules/.idleshare-lock-stamp
if ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
  echo "build-ui: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
npm run --silent build >/dev/null
echo "build-ui: ui/dist ($(du -sh dist | cut -f1))"
