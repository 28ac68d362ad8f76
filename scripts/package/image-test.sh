#!/usr/bin/env bash
# Boots a copy of the SD-card image (sd-image.sh) under qemu-system-aarch64 (-M virt, Cortex-A72, TCG)
# with the image's own kernel, initrd and cmdline.txt (its console moved to the virt board's ttyAMA0),
# the card as a virtio disk 1 GiB larger than the image, and user-mode networking that forwards only
# 127.0.0.1:<free port> to the guest's SSH (22) and control API (8080). Before the boot it writes, like
# a user on a PC, offhook/{hostname,authorized_keys,offhook.yaml,timezone,userconf.txt} onto the copy's
# boot partition (mtools; a throwaway SSH key; the config makes the control API listen on 0.0.0.0 with
# a password hash). Checks: the first-boot service ran once and disabled itself, grew the root file
# system to the disk, set the hostname and time zone, made the userconf.txt user, installed the config
# (and deleted it and userconf.txt from the boot partition), made the SSH host keys; SSH takes the
# throwaway key and no other account has a password; offhook.service is active on the board
# it detected (the virt machine is no Raspberry Pi: the emulator board) and its control API answers
# through the forwarded port (401 without the password); after a reboot the first boot does not run
# again and everything comes back. Then a second copy, as flashed with nothing added: the default
# hostname, SSH left off (ssh.service skipped, no connection), offhook.service started all the same.
# The serial consoles (with the journal: systemd.journald.forward_to_console=1) go to
# build/image/test/console.log and console-plain.log.
# Usage: image-test.sh IMAGE
set -euo pipefail
img=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/build/image/test"
boot_timeout=${IMAGE_TEST_BOOT_TIMEOUT:-900}     # TCG on 2 cores: a few minutes; generous
for tool in qemu-system-aarch64 mcopy sfdisk ssh ssh-keygen curl python3 openssl node; do
  command -v $tool >/dev/null || { echo "image-test: $tool is missing (make image-test installs IMAGE_TEST_APT_PACKAGES)" >&2; exit 1; }
done
say() { echo "image-test: $*"; }
fail() { echo "image-test: FAILED: $*" >&2; echo "image-test: the serial console: $work/console.log" >&2; exit 1; }
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$work/disk.img" "$work/plain.img"
}
trap cleanup EXIT
rm -rf "$work" && mkdir -p "$work"
t0=$(date +%s)

# A copy of the card, 1 GiB larger (the first boot must grow the root file system into it).
cp --sparse=always "$img" "$work/disk.img"
truncate -s +1G "$work/disk.img"
boot_off=$(( $(sfdisk -d "$work/disk.img" | sed -n 's/.*start= *\([0-9]*\).*type=c.*/\1/p') * 512 ))
[ "$boot_off" -gt 0 ] || fail "no FAT partition in $img"
root_mib=$(( $(sfdisk -d "$work/disk.img" | sed -n 's/.*size= *\([0-9]*\).*type=83.*/\1/p') / 2048 ))
fat() { MTOOLS_SKIP_CHECK=1 "$@"; }
fatimg="$work/disk.img@@$boot_off"

# What the image's boot partition says, checked before the boot.
fat mcopy -n -i "$fatimg" ::config.txt ::cmdline.txt "$work/"
grep -qx 'arm_64bit=1' "$work/config.txt" && grep -qx 'dtparam=i2c_arm=on' "$work/config.txt" || fail "config.txt lacks arm_64bit=1 / dtparam=i2c_arm=on"
grep -q 'root=LABEL=RASPIROOT' "$work/cmdline.txt" || fail "cmdline.txt has no root=LABEL=RASPIROOT"
kernel=$(fat mdir -b -i "$fatimg" ::/ | sed -n 's|^::/\(vmlinuz-.*\)|\1|p' | sort -V | tail -1)
initrd=$(fat mdir -b -i "$fatimg" ::/ | sed -n 's|^::/\(initrd.img-.*\)|\1|p' | sort -V | tail -1)
[ -n "$kernel" ] && [ -n "$initrd" ] || fail "no vmlinuz-* / initrd.img-* on the boot partition"
fat mcopy -n -i "$fatimg" "::$kernel" "::$initrd" "$work/"
# cmdline.txt as on the Pi, but the virt board's serial port is ttyAMA0 (the Pi's are ttyS1 and tty0),
# and journald copies the whole journal there (the log tells what failed; the card without files has no SSH).
append="$(sed 's/console=[^ ]*//g' "$work/cmdline.txt" | tr -s ' ') console=ttyAMA0,115200 systemd.journald.forward_to_console=1"
say "kernel $kernel, cmdline: $append"

# The user's files, put on the copy's boot partition as from a PC.
hostname=offhook-imgtest
password=image-test-$RANDOM$RANDOM
ssh-keygen -q -t ed25519 -N '' -C offhook-image-test -f "$work/id_ed25519"
hash=$(echo "$password" | node "$root/dist/offhook.mjs" hash-password 2>/dev/null | grep '^scrypt\$')
[ -n "$hash" ] || fail "offhook hash-password gave no hash"
printf '%s\r\n' "$hostname" > "$work/hostname"    # a CRLF, as a Windows editor writes it
echo Europe/Berlin > "$work/timezone"
# A user with a password of the user's choosing, as Raspberry Pi OS's userconf.txt makes one.
user_hash=$(openssl passwd -6 "user-$password")
echo "phone:$user_hash" > "$work/userconf.txt"
cp "$work/id_ed25519.pub" "$work/authorized_keys"
cat > "$work/offhook.yaml" <<EOF
# offhook image test: the control API on all interfaces (the forwarded port), with a password.
log:
  level: info
display:
  timeFormat: 12h
emulator:
  httpPort: 8080
  httpAddress: 0.0.0.0
  passwordHash: "$hash"
accounts: []
EOF
fat mcopy -i "$fatimg" "$work/hostname" "$work/authorized_keys" "$work/offhook.yaml" "$work/timezone" "$work/userconf.txt" ::offhook/

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# boot DISK CONSOLE-LOG: starts qemu in the background (pid, ssh_port, api_port, boot_start).
boot() {
  ssh_port=$(free_port) api_port=$(free_port)
  while [ "$api_port" = "$ssh_port" ]; do api_port=$(free_port); done
  say "qemu-system-aarch64 -M virt -cpu cortex-a72 -m 1024 (TCG) on $(basename "$1"); ssh on 127.0.0.1:$ssh_port, control API on 127.0.0.1:$api_port"
  qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 -accel tcg \
    -kernel "$work/$kernel" -initrd "$work/$initrd" -append "$append" \
    -drive if=none,id=card,file="$1",format=raw -device virtio-blk-pci,drive=card \
    -netdev user,id=net0,hostfwd=tcp:127.0.0.1:$ssh_port-:22,hostfwd=tcp:127.0.0.1:$api_port-:8080 \
    -device virtio-net-pci,netdev=net0,romfile= -device virtio-rng-pci \
    -display none -monitor none -serial file:"$2" &
  pid=$!
  boot_start=$(date +%s)
  sshopts=(-i "$work/id_ed25519" -p "$ssh_port" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10
    -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$work/known_hosts" -o LogLevel=ERROR)
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
boot "$work/disk.img" "$work/console.log"

# slirp accepts the TCP connection even while the guest is down: a time limit on the whole command.
guest() { timeout 120 ssh "${sshopts[@]}" root@127.0.0.1 "$@"; }
wait_ssh() {
  local since=$1
  while ! timeout 20 ssh "${sshopts[@]}" root@127.0.0.1 true 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || fail "qemu exited"
    [ $(( $(date +%s) - since )) -lt "$boot_timeout" ] || fail "no SSH after $boot_timeout s"
    sleep 5
  done
}
wait_ssh "$boot_start"
boot_ssh=$(( $(date +%s) - boot_start ))
say "SSH answered $boot_ssh s after qemu started (first boot), with the throwaway key"

# The first boot.
[ "$(guest hostname)" = "$hostname" ] || fail "hostname is $(guest hostname), not $hostname"
[ "$(guest cat /etc/hostname)" = "$hostname" ] || fail "/etc/hostname"
guest systemctl show -p Result --value offhook-firstboot.service | grep -qx success || fail "offhook-firstboot.service: $(guest systemctl status --no-pager offhook-firstboot.service)"
[ "$(guest systemctl is-enabled offhook-firstboot.service || true)" = disabled ] || fail "offhook-firstboot.service is still enabled"
say "first boot: $(guest journalctl -b -o cat -u offhook-firstboot.service | grep '^offhook-firstboot:' | sed 's/^offhook-firstboot: //' | paste -sd '|' | sed 's/|/ | /g')"
root_now=$(( $(guest findmnt -bno SIZE /) / 1048576 ))
[ "$root_now" -gt $(( root_mib + 900 )) ] || fail "the root file system has $root_now MiB; the partition had $root_mib MiB and the disk 1 GiB more"
say "root file system grown: $root_mib MiB partition -> $root_now MiB file system ($(guest findmnt -no SOURCE /))"
[ "$(guest sha256sum /etc/offhook/offhook.yaml | cut -d' ' -f1)" = "$(sha256sum "$work/offhook.yaml" | cut -d' ' -f1)" ] || fail "/etc/offhook/offhook.yaml is not the one from the boot partition"
mode=$(guest "stat -c '%a %U %G' /etc/offhook/offhook.yaml")
[ "$mode" = "640 root offhook" ] || fail "/etc/offhook/offhook.yaml: $mode"
guest test ! -e /boot/firmware/offhook/offhook.yaml || fail "offhook.yaml is still on the boot partition"
guest test -s /etc/ssh/ssh_host_ed25519_key || fail "no SSH host key"
# The key SSH showed us is the one this boot made.
[ "$(guest "cut -d' ' -f2 /etc/ssh/ssh_host_ed25519_key.pub")" = "$(grep ssh-ed25519 "$work/known_hosts" | cut -d' ' -f3)" ] || fail "SSH host key mismatch"
# Only the userconf.txt user has a password (the one given), nobody has an empty one; root is locked.
bad=$(guest "awk -F: '\$2 == \"\" || (\$2 ~ /^\\\$/ && \$1 != \"phone\") { print \$1 }' /etc/shadow")
[ -z "$bad" ] || fail "accounts with a password or none: $bad"
[ "$(guest "getent shadow phone | cut -d: -f2")" = "$user_hash" ] || fail "userconf.txt: the user phone does not have the given password hash"
for g in sudo audio i2c gpio; do guest id -nG phone | grep -qw $g || fail "userconf.txt: phone is not in $g"; done
guest test ! -e /boot/firmware/offhook/userconf.txt || fail "userconf.txt is still on the boot partition"
[ "$(guest readlink /etc/localtime)" = /usr/share/zoneinfo/Europe/Berlin ] || fail "time zone: $(guest readlink /etc/localtime)"
[ -n "$(guest cat /etc/machine-id)" ] || fail "no machine-id"
say "hostname $hostname, config installed (640 root:offhook) and deleted from the card, own SSH host keys, time zone Europe/Berlin, user phone from userconf.txt (its hash, in sudo audio i2c gpio; file deleted), no other password"
# The board's devices for the user offhook: GPIO character devices in the group gpio (99-offhook-gpio.rules;
# the virt machine has a PL061 GPIO chip), i2c-dev loaded (modules-load.d), offhook in gpio, i2c and audio.
groups=$(guest id -nG offhook)
for g in gpio i2c audio; do grep -qw $g <<< "$groups" || fail "offhook is not in the group $g ($groups)"; done
gpio=$(guest "stat -c '%n %G %a' /dev/gpiochip*")
grep -q ' gpio 660$' <<< "$gpio" || fail "GPIO devices: $gpio"
guest test -d /sys/module/i2c_dev || fail "i2c-dev is not loaded"
say "devices: $gpio; i2c-dev loaded; offhook in: $groups"

# The phone: active, on the board it detected, its control API through the forwarded port.
wait_active() {
  local until=$(( $(date +%s) + 300 )) state
  while state=$(guest systemctl is-active offhook.service || true); [ "$state" != active ]; do
    [ "$state" = failed ] && fail "offhook.service failed: $(guest journalctl -b -u offhook.service --no-pager -n 30 -o cat)"
    [ "$(date +%s)" -lt "$until" ] || fail "offhook.service is $state after 300 s: $(guest journalctl -b -u offhook.service --no-pager -n 30 -o cat)"
    sleep 3
  done
}
wait_active
active_s=$(( $(date +%s) - boot_start ))
board=$(guest journalctl -b -u offhook.service -o cat | sed -n 's/.*"board":"\([^"]*\)".*offhook starting.*/\1/p' | tail -1)
say "offhook.service active $active_s s after qemu started (model $(guest "tr -d '\\0' < /proc/device-tree/model"): board $board)"
api() { curl -s -o "$work/state.json" -w '%{http_code}' --max-time 60 "$@" "http://127.0.0.1:$api_port/api/state"; }
code=000
for _ in $(seq 60); do code=$(api -u "test:$password" || true); [ "$code" = 200 ] && break; sleep 2; done
[ "$code" = 200 ] || fail "GET /api/state with the password: HTTP $code"
grep -Eq '[0-9]:[0-9]{2}[ap]m' "$work/state.json" || fail "the idle screen has no 12-hour clock (display.timeFormat of the installed config): $(cat "$work/state.json")"
lcd=$(node -e "const s = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); if (!Array.isArray(s.lcd) || s.lcd.length !== 4) process.exit(1); console.log(JSON.stringify(s.lcd))" "$work/state.json") || fail "/api/state: $(cat "$work/state.json")"
[ "$(api || true)" = 401 ] || fail "GET /api/state without the password did not answer 401"
say "control API on 127.0.0.1:$api_port: 200 with the password (lcd $lcd: the config's 12-hour clock), 401 without"

# A second boot: the first-boot service stays off, the rest comes back.
boot_id=$(guest cat /proc/sys/kernel/random/boot_id)
say "rebooting"
reboot_start=$(date +%s)
guest systemctl reboot || true
while true; do
  wait_ssh "$reboot_start"
  new_id=$(guest cat /proc/sys/kernel/random/boot_id 2>/dev/null || true)
  [ -n "$new_id" ] && [ "$new_id" != "$boot_id" ] && break
  sleep 5
done
reboot_ssh=$(( $(date +%s) - reboot_start ))
[ "$(guest hostname)" = "$hostname" ] || fail "hostname after the reboot: $(guest hostname)"
[ -z "$(guest journalctl -b -o cat -u offhook-firstboot.service | grep '^offhook-firstboot:' || true)" ] || fail "offhook-firstboot ran again"
wait_active
say "second boot (a new boot_id): SSH $reboot_ssh s after systemctl reboot, first boot not run again, hostname kept, offhook.service active"

stop

# A card as flashed, nothing added: the default hostname (from the MAC address: the virt machine has no
# serial number, and qemu's default MAC is 52:54:00:12:34:56), SSH stays off, and the phone still starts.
rm -f "$work/disk.img"
cp --sparse=always "$img" "$work/plain.img"
boot "$work/plain.img" "$work/console-plain.log"
until grep -saq 'systemd\[1\]: Started offhook.service' "$work/console-plain.log"; do
  kill -0 "$pid" 2>/dev/null || fail "qemu exited (card without files)"
  [ $(( $(date +%s) - boot_start )) -lt "$boot_timeout" ] || { cp "$work/console-plain.log" "$work/console.log"; fail "card without files: offhook.service did not start in $boot_timeout s"; }
  sleep 3
done
plain_s=$(( $(date +%s) - boot_start ))
log_plain() { grep -a 'offhook-firstboot\[' "$work/console-plain.log" | sed 's/.*offhook-firstboot: //' | tr -d '\r'; }
log_plain | grep -qx 'hostname offhook-3456' || { cp "$work/console-plain.log" "$work/console.log"; fail "card without files: no default hostname offhook-3456: $(log_plain)"; }
log_plain | grep -q '^SSH stays off' || { cp "$work/console-plain.log" "$work/console.log"; fail "card without files: SSH was not left off"; }
grep -aq 'ssh.service.*skipped because of an unmet condition check (ConditionPathExists=!/etc/ssh/sshd_not_to_be_run)' "$work/console-plain.log" ||
  { cp "$work/console-plain.log" "$work/console.log"; fail "card without files: ssh.service was not skipped"; }
if timeout 30 ssh "${sshopts[@]}" root@127.0.0.1 true 2>/dev/null; then fail "card without files: SSH answered"; fi
stop
rm -f "$work/plain.img"
say "card without files: offhook.service started $plain_s s after qemu started, hostname offhook-3456 (MAC), ssh.service skipped by its condition, no SSH connection"
say "passed in $(( $(date +%s) - t0 )) s (first boot to SSH: $boot_ssh s)"
