#!/usr/bin/env bash
# Packages the desktop app as a .deb and checks it: builds the app (a release build by
# default: what a user installs), bundles it with the Tauri CLI from the npm registry
# (packaging/package.json), installs it with dpkg, checks that the binary, the desktop
# entry and the icons are in place and that the binary's libraries resolve, then removes
# the package again.
#
#   scripts/package-deb.sh            release build, bundle, install, check, remove
#   scripts/package-deb.sh --keep     ... and leave the package installed
#   scripts/package-deb.sh --debug    bundle the debug binary the tests already built
#                                     (scripts/test.sh: no second, release build in CI)
#
# Installing needs root (or sudo). Without either, the .deb's contents are checked from
# the archive instead (dpkg-deb), and it says so.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=false
profile=release
for argument in "$@"; do
  case "$argument" in
    --keep) keep=true ;;
    --debug) profile=debug ;;
    *) echo "package-deb: unknown option $argument (use --keep, --debug)" >&2; exit 2 ;;
  esac
done
target=${CARGO_TARGET_DIR:-$PWD/target}
binary="$target/$profile/idleshare-app"

(
  cd packaging
  stamp=node_modules/.idleshare-lock-stamp
  if ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
  fi
)
if [ "$profile" = release ]; then
  # Always built (cargo skips what is fresh): a stale release binary must not be packaged.
  echo "package-deb: building the release app (the first time takes a while)"
  cargo build --locked --release -p idleshare-app
  bundle_flags=()
elif [ ! -x "$binary" ]; then
  echo "package-deb: building the app first"
  cargo build --locked -p idleshare-app
  bundle_flags=(--debug)
else
  bundle_flags=(--debug)
fi

rm -rf "$target/$profile/bundle/deb"
(cd src-tauri && ../packaging/node_modules/.bin/tauri bundle "${bundle_flags[@]}" --bundles deb)
deb=$(find "$target/$profile/bundle/deb" -maxdepth 1 -name '*.deb' | head -n 1)
[ -n "$deb" ] || { echo "package-deb: no .deb was produced" >&2; exit 1; }
echo "package-deb: $deb ($(du -h "$deb" | cut -f1))"
package=$(dpkg-deb --field "$deb" Package)
echo "package-deb: package $package, depends: $(dpkg-deb --field "$deb" Depends)"

# What must be in place, relative to the root.
expected=(
  usr/bin/idleshare-app
  usr/share/applications/Idleshare.desktop
  usr/share/icons/hicolor/32x32/apps/idleshare-app.png
  usr/share/icons/hicolor/128x128/apps/idleshare-app.png
  usr/share/icons/hicolor/256x256@2/apps/idleshare-app.png
)

check_tree() { # ROOT
  local root=$1 missing=0
  for path in "${expected[@]}"; do
    if [ -e "$root/$path" ]; then
      echo "package-deb:   ok /$path"
    else
      echo "package-deb:   MISSING /$path" >&2
      missing=1
    fi
  done
  grep -q '^Exec=idleshare-app' "$root/usr/share/applications/Idleshare.desktop" \
    || { echo "package-deb: the desktop entry does not run idleshare-app" >&2; missing=1; }
  grep -q '^Icon=idleshare-app' "$root/usr/share/applications/Idleshare.desktop" \
    || { echo "package-deb: the desktop entry names no icon" >&2; missing=1; }
  return $missing
}

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo="sudo"
  else
    echo "package-deb: not root and no sudo: checking the archive's contents instead of installing" >&2
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    dpkg-deb -x "$deb" "$root"
    check_tree "$root"
    echo "package-deb: contents checked (not installed)"
    exit 0
  fi
fi

$sudo dpkg -i "$deb" >/dev/null
remove() { $keep || $sudo dpkg -r "$package" >/dev/null; }
trap remove EXIT
check_tree /
dpkg -s "$package" | grep -q '^Status: install ok installed'
if ldd /usr/bin/idleshare-app | grep -q 'not found'; then
  echo "package-deb: the installed binary misses libraries:" >&2
  ldd /usr/bin/idleshare-app | grep 'not found' >&2
  exit 1
fi
# The installed binary runs (it refuses an unknown argument before opening any window).
answer=$(/usr/bin/idleshare-app --no-such-argument 2>&1 || true)
if grep -q 'unknown argument' <<<"$answer"; then
  echo "package-deb:   ok /usr/bin/idleshare-app runs"
else
  echo "package-deb: the installed binary does not run: $answer" >&2
  exit 1
fi
echo "package-deb: installed with dpkg and checked$($keep && echo '; left installed' || echo '; removed again')"
