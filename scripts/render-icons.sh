#!/usr/bin/env bash
# Renders the icons drawn in assets/icons/*.svg into the PNGs the app embeds (committed, so
# a build needs no SVG renderer): the tray icons (one per state) and the app icon set the
# .deb bundle installs. Needs rsvg-convert (Debian: librsvg2-bin) and, for the Windows
# .ico, ImageMagick's convert.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v rsvg-convert >/dev/null || { echo "render-icons: install librsvg2-bin" >&2; exit 1; }
mkdir -p assets/icons/png src-tauri/icons

for state in contributing waiting paused offline; do
  rsvg-convert -w 64 -h 64 "assets/icons/tray-$state.svg" -o "assets/icons/png/tray-$state.png"
done

rsvg-convert -w 32 -h 32 assets/icons/app.svg -o src-tauri/icons/32x32.png
rsvg-convert -w 128 -h 128 assets/icons/app.svg -o src-tauri/icons/128x128.png
rsvg-convert -w 256 -h 256 assets/icons/app.svg -o src-tauri/icons/128x128@2x.png
rsvg-convert -w 512 -h 512 assets/icons/app.svg -o src-tauri/icons/icon.png
if [ -x /usr/bin/convert ]; then
  /usr/bin/convert src-tauri/icons/32x32.png src-tauri/icons/128x128.png \
    src-tauri/icons/128x128@2x.png src-tauri/icons/icon.ico
fi
echo "render-icons: assets/icons/png/tray-*.png, src-tauri/icons/*"
