#!/usr/bin/env bash
# The package test without a board: the .deb unpacked over a sysroot of Debian's nodejs and libraries of
# its architecture (sysroot.sh), run by qemu-user. Checks: `offhook selftest` passes (the addon: G.711,
# Opus, jitter buffer, GPIO ioctls), the firmware starts headless on the emulator board with the
# package's /etc/offhook/offhook.yaml, answers /api/state, tells a fake systemd READY=1 and WATCHDOG=1,
# and stops on SIGTERM with status 0 after STOPPING=1. Usage: qemu-test.sh ARCH DEB SYSROOT
set -euo pipefail
arch=$1 deb=$(realpath "$2") sysroot=$(realpath "$3")
case $arch in arm64) qemu=qemu-aarch64 ;; armhf) qemu=qemu-arm ;; *) echo "qemu-test: no qemu for $arch" >&2; exit 2 ;; esac
command -v $qemu >/dev/null || { echo "qemu-test: $qemu is missing (apt-get install qemu-user)" >&2; exit 1; }
start=$(date +%s)
# Beside the sysroot (same file system, for the hard links), not in /tmp where other tests clean up.
work="$(dirname "$sysroot")/qemu-test"
rm -rf "$work" && mkdir -p "$work"
pid=
cleanup() { { [ -n "$pid" ] && kill "$pid"; [ -n "${receiver:-}" ] && kill "$receiver"; } 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The root the emulated programs see: the sysroot (hard links, nothing copied) with the package on top.
# qemu finds the dynamic loader and libraries there; Node is given the package's files by their real path.
cp -al "$sysroot" "$work/root"
dpkg-deb -x "$deb" "$work/root"
run() { QEMU_LD_PREFIX="$work/root" $qemu "$work/root/usr/bin/node" "$@"; }
for dep in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*//; s/ //g' | grep -v '^adduser$\|^libc6$\|^libgcc-s1$\|^libstdc++6$'); do
  [ -f "$work/root/usr/share/doc/$dep/copyright" ] || { echo "qemu-test: the sysroot lacks $dep, a dependency of the package" >&2; exit 1; }
done
echo "qemu-test: $(run --version) ($arch, Debian's nodejs under $qemu)"
sh -n "$work/root/usr/bin/offhook"

echo "qemu-test: offhook selftest"
run "$work/root/usr/lib/offhook/offhook.mjs" selftest

# A fake systemd: a unix datagram socket whose messages go to a file.
python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); open(sys.argv[2], "w").close()
while True:
    m = s.recv(4096).decode().replace("\n", "|")
    with open(sys.argv[2], "a") as f: f.write(m + "\n")
' "$work/notify" "$work/notify.log" &
receiver=$!
for _ in $(seq 50); do [ -S "$work/notify" ] && break; sleep 0.1; done

echo "qemu-test: offhook --board emulator --no-ui (the package's config, NOTIFY_SOCKET, WATCHDOG_USEC=2 s)"
NOTIFY_SOCKET="$work/notify" WATCHDOG_USEC=2000000 QEMU_LD_PREFIX="$work/root" \
  $qemu "$work/root/usr/bin/node" "$work/root/usr/lib/offhook/offhook.mjs" --config "$work/root/etc/offhook/offhook.yaml" \
  --board emulator --no-ui --http-port 0 --log-level warn > "$work/stdout" 2> "$work/stderr" &
pid=$!
url=
for _ in $(seq 600); do
  url=$(sed -n 's/.*control API at \(http:[^ ]*\).*/\1/p' "$work/stdout")
  [ -n "$url" ] && break
  kill -0 $pid 2>/dev/null || { cat "$work/stderr" >&2; echo "qemu-test: offhook exited early" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/stderr" >&2; echo "qemu-test: no control API after 60 s" >&2; exit 1; }
state=$(node -e "fetch(process.argv[1]).then(r => r.json()).then(s => { if (!Array.isArray(s.lcd) || s.lcd.length !== 4) throw new Error('no LCD rows'); console.log(JSON.stringify(s.lcd)); })" "$url")
echo "qemu-test: GET /api/state: lcd $state"
for _ in $(seq 100); do grep -q '^WATCHDOG=1$' "$work/notify.log" && break; sleep 0.1; done
grep -q '^READY=1' "$work/notify.log" || { echo "qemu-test: no READY=1" >&2; exit 1; }
grep -q '^WATCHDOG=1$' "$work/notify.log" || { echo "qemu-test: no WATCHDOG=1 within 10 s" >&2; exit 1; }
kill -TERM $pid
status=0; wait $pid || status=$?; pid=
[ $status = 0 ] || { cat "$work/stderr" >&2; echo "qemu-test: exit status $status after SIGTERM" >&2; exit 1; }
sleep 0.2
grep -q '^STOPPING=1$' "$work/notify.log" || { echo "qemu-test: no STOPPING=1" >&2; exit 1; }
echo "qemu-test: sd_notify: $(tr '\n' ' ' < "$work/notify.log")"
echo "qemu-test: $arch package passed in $(( $(date +%s) - start )) s"
