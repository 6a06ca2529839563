#!/usr/bin/env bash
# Measures the desktop app's memory with its window open, then closed (the node running in
# the tray): RSS and PSS summed over the app and every process it started (WebKit's web
# and network processes), with a line per process. The app runs in a private Xvfb and
# D-Bus session with throwaway data, config and home directories, in its embedded local
# network, and is measured once its node is registered and has earned.
#
#   scripts/measure-app-memory.sh [BINARY]      default: target/debug/idleshare-app
#
#   SETTLE_SECS   wait after closing the window before measuring (default 30)
#   MODE          contributing (default: no idle wait, demo jobs run) or paused (switched off)
#   MEASURE_MAPS  set to list the app process's largest resident mappings after closing
#   START         window (default: open, then close the dashboard) or minimized (start in the
#                 tray as at login, never opening the window)
#   COORDINATOR   local (default: the app's embedded local network, which also runs the
#                 coordinator, the demo jobs and the demo site's reader in the app process) or
#                 external (a separate `idleshare coordinator` with no work to hand out, as for
#                 a user of a real network between jobs; its process is not counted)
#
# The last line is JSON. Needs Xvfb, dbus-run-session and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-${CARGO_TARGET_DIR:-target}/debug/idleshare-app}
[ -x "$binary" ] || { echo "measure: no app binary at $binary (cargo build -p idleshare-app)" >&2; exit 1; }
binary=$(realpath "$binary")
settle=${SETTLE_SECS:-30}
mode=${MODE:-contributing}

work=$(mktemp -d)
xvfb_pid=""
cleanup() {
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/data" "$work/config" "$work/home"
case "$mode" in
  contributing) printf '[policy]\ninput_idle_secs = 0\nowner_cpu_pause_percent = 100\nowner_cpu_pause_after_secs = 3600\n' ;;
  paused) printf '[contribution]\nenabled = false\n' ;;
  *) echo "measure: MODE is contributing or paused" >&2; exit 2 ;;
esac >"$work/config/settings.toml"

# A private X server: -displayfd reports the display it picked.
exec 3< <(Xvfb -displayfd 1 -noreset -nolisten tcp -screen 0 1280x800x24 2>/dev/null & echo "pid $!")
read -r _ xvfb_pid <&3
read -r display_number <&3
export DISPLAY=":$display_number"

# A throwaway keyring home too: D-Bus may start a keyring daemon for the node's key.
export XDG_DATA_HOME="$work/xdg-data"
export MEASURE_COORDINATOR="${COORDINATOR:-local}" MEASURE_CLI="$(dirname "$binary")/idleshare"
if [ "$MEASURE_COORDINATOR" = external ] && [ ! -x "$MEASURE_CLI" ]; then
  echo "measure: no coordinator binary at $MEASURE_CLI (cargo build --bin idleshare)" >&2
  exit 1
fi
export MEASURE_START="${START:-window}" MEASURE_BINARY="$binary" MEASURE_WORK="$work" MEASURE_SETTLE="$settle" MEASURE_MODE="$mode"
dbus-run-session -- python3 - <<'PY'
import json, os, subprocess, sys, time

binary, work = os.environ["MEASURE_BINARY"], os.environ["MEASURE_WORK"]
settle, mode = int(os.environ["MEASURE_SETTLE"]), os.environ["MEASURE_MODE"]
env = dict(os.environ, HOME=f"{work}/home", IDLESHARE_DATA_DIR=f"{work}/data",
           IDLESHARE_CONFIG_DIR=f"{work}/config", RUST_LOG="warn")
env.pop("WAYLAND_DISPLAY", None)
log = open(f"{work}/app.log", "w")
coordinator = None
if os.environ["MEASURE_COORDINATOR"] == "external":
    coordinator = subprocess.Popen([os.environ["MEASURE_CLI"], "coordinator", "--listen", "127.0.0.1:0",
                                    "--http", "127.0.0.1:0", "--data", f"{work}/coordinator"],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = next(line.split()[1] for line in coordinator.stdout if line.startswith("address:"))
    with open(f"{work}/config/preferences.toml", "w") as f:
        f.write(f'coordinator = "{address}"\n')
elif os.environ["MEASURE_COORDINATOR"] != "local":
    print("measure: COORDINATOR is local or external", file=sys.stderr)
    sys.exit(2)
minimized = os.environ["MEASURE_START"] == "minimized"
app = subprocess.Popen([binary] + (["--minimized"] if minimized else []), env=env, stdout=log, stderr=log)

def fail(message):
    print(f"measure: {message}; log:\n" + open(f"{work}/app.log").read()[-3000:], file=sys.stderr)
    app.kill()
    if coordinator:
        coordinator.kill()
    sys.exit(1)

def wait(what, probe, limit):
    deadline = time.time() + limit
    while time.time() < deadline:
        if app.poll() is not None:
            fail(f"the app exited ({app.returncode}) while waiting for {what}")
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    fail(f"timed out after {limit} s waiting for {what}")

def node_status():
    try:
        with open(f"{work}/data/node/status.json") as f:
            return json.load(f)["status"]
    except (OSError, ValueError, KeyError):
        return None

def children(pid):
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    except OSError:
        return []
    found = []
    for line in out.split():
        found.append(int(line))
        found.extend(children(int(line)))
    return found

def kib(pid, path, field):
    try:
        for line in open(f"/proc/{pid}/{path}"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0

def measure(label):
    rows = []
    for pid in [app.pid] + children(app.pid):
        try:
            name = open(f"/proc/{pid}/comm").read().strip()
        except OSError:
            continue
        rows.append((pid, name, kib(pid, "status", "VmRSS"), kib(pid, "smaps_rollup", "Pss"),
                     kib(pid, "status", "RssAnon"), kib(pid, "status", "RssFile")))
    rss, pss = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(f"\n{label}: {len(rows)} processes, RSS {rss/1024:.1f} MiB, PSS {pss/1024:.1f} MiB")
    print(f"  {'pid':>7}  {'process':<18} {'RSS MiB':>8} {'PSS MiB':>8} {'anon MiB':>9} {'file MiB':>9}")
    for pid, name, r, p, a, f in rows:
        print(f"  {pid:>7}  {name:<18} {r/1024:>8.1f} {p/1024:>8.1f} {a/1024:>9.1f} {f/1024:>9.1f}")
    return {"processes": len(rows), "rss_mib": round(rss / 1024, 1), "pss_mib": round(pss / 1024, 1),
            "breakdown": [{"process": n, "rss_mib": round(r / 1024, 1), "pss_mib": round(p / 1024, 1),
                           "anon_mib": round(a / 1024, 1), "file_mib": round(f / 1024, 1)} for _, n, r, p, a, f in rows]}

def window_open():
    found = subprocess.run(["xdotool", "search", "--name", "^Idleshare$"], capture_output=True, text=True, env=env)
    return found.stdout.strip()

if not minimized:
    wait("the dashboard window", window_open, 60)
wait("the node to register", lambda: (node_status() or {}).get("connection") == "Registered", 60)
if mode == "contributing" and not coordinator:
    wait("the first tokens", lambda: (node_status() or {}).get("earnings", {}).get("balance", 0) > 0, 180)
time.sleep(5)
if minimized:
    opened = None
    print(f"\nstarted in the tray; waiting {settle} s for it to settle")
else:
    opened = measure("window open")
    second = subprocess.run([binary, "--close-dashboard"], env=env, capture_output=True, text=True, timeout=30)
    if second.returncode != 0:
        fail(f"the second launch failed: {second.stderr}")
    wait("the window to close", lambda: not window_open(), 20)
    print(f"\nwindow closed; waiting {settle} s for it to settle")
time.sleep(settle)
if app.poll() is not None:
    fail("the app exited without its window")
closed = measure("started in the tray, never opened" if minimized else "window closed (node running in the tray)")
if os.environ.get("MEASURE_MAPS"):
    import collections
    resident, current = collections.Counter(), None
    for line in open(f"/proc/{app.pid}/smaps"):
        parts = line.split()
        if len(parts) >= 5 and "-" in parts[0] and ":" not in parts[0]:
            current = parts[5] if len(parts) >= 6 else "[anonymous]"
        elif parts and parts[0] == "Rss:":
            resident[current] += int(parts[1])
    print("  largest resident mappings of the app process:")
    for name, size in resident.most_common(12):
        print(f"    {size/1024:7.1f} MiB  {name}")
status = node_status() or {}

subprocess.run([binary, "--quit"], env=env, capture_output=True, timeout=30)
try:
    app.wait(timeout=20)
except subprocess.TimeoutExpired:
    app.kill()
if coordinator:
    coordinator.terminate()
    coordinator.wait(timeout=20)
print(json.dumps({"bench": "app_memory", "mode": mode, "start": os.environ["MEASURE_START"], "settle_secs": settle,
                  "coordinator": os.environ["MEASURE_COORDINATOR"],
                  "node": {"connection": status.get("connection"), "balance_micro": status.get("earnings", {}).get("balance")},
                  "window_open": opened, "window_closed": closed}))
PY
