#!/usr/bin/env bash
# Builds a bootable SD-card image for a Raspberry Pi (3, 4, 400, CM4, Zero 2 W; 64-bit) from Debian
# bookworm's arm64 packages and our arm64 .deb. Usage (as root): sd-image.sh DEB IMAGE
#
#  1. The base root file system, cached as .cache/image/base-<key>.tar (the key hashes the package list,
#     the mirrors and the fstab; outside build/, which `node-gyp rebuild` deletes, and kept by make clean):
#     mmdebstrap of Debian bookworm arm64 (main, non-free-firmware) with linux-image-arm64 (its initramfs
#     made with the image's fstab), raspi-firmware, firmware-brcm80211, systemd, openssh-server, the .deb's
#     Depends (nodejs, the audio and codec libraries), i2c-tools and alsa-utils. Foreign binaries run
#     under qemu-user-static through binfmt_misc (mounted and registered here when it is not).
#  2. On a fresh copy of it (build/image/rootfs, deleted once it is in the ext4): our .deb installed with apt, the image's settings
#     (cmdline.txt by LABEL, config.txt lines, DHCP, offhook-firstboot.service, no SSH host keys, an
#     empty machine-id), then raspi-firmware's kernel hook, which fills /boot/firmware.
#  3. The image without loop devices or mounts: /boot/firmware in a FAT32 file (mkfs.vfat + mcopy),
#     the rest in an ext4 file (mkfs.ext4 -d), both written at their offsets into a file holding an
#     MBR partition table (sfdisk): RASPIFIRM (FAT32, 4 MiB..) and RASPIROOT (ext4), like Debian's
#     own raspi images. Then a .bmap (bmaptool) and, with IMAGE_XZ=1, IMAGE.xz.
# Every chroot runs in a mount namespace of its own (mmdebstrap --mode=unshare, unshare -m): no mount
# is ever visible outside, so deleting the work directories can never reach the host's /dev or /proc.
# Environment: IMAGE_MIRROR, IMAGE_SECURITY_MIRROR (Debian mirrors), IMAGE_BOOT_MIB (FAT size, 256),
# IMAGE_XZ=1 (also write IMAGE.xz), IMAGE_WORK_DIR (default build/image), IMAGE_CACHE_DIR (.cache/image).
set -euo pipefail
[ $# = 2 ] || { echo "usage: sd-image.sh DEB IMAGE" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "sd-image: run as root (chroot, device nodes, file ownership)" >&2; exit 1; }
deb=$(realpath "$1") img=$(realpath -m "$2")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${IMAGE_WORK_DIR:-$root/build/image}
cache=${IMAGE_CACHE_DIR:-$root/.cache/image}
files="$root/packaging/image"
suite=bookworm
mirror=${IMAGE_MIRROR:-http://deb.debian.org/debian}
security=${IMAGE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
boot_mib=${IMAGE_BOOT_MIB:-256}
# Fixed identifiers: the same inputs give the same partition table and file systems.
disk_id=0x6f66686b                                # "ofhk"
root_uuid=6f666668-6f6f-6b00-0000-726f6f746673    # ext4 of RASPIROOT
boot_id=6f66686b                                  # FAT volume id of RASPIFIRM
start=$(date +%s)
say() { echo "sd-image: $*"; }
die() { echo "sd-image: $*" >&2; exit 1; }

[ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || die "$deb is not an arm64 package"
for tool in mmdebstrap mkfs.vfat mcopy sfdisk mkfs.ext4 bmaptool qemu-aarch64-static; do
  command -v $tool >/dev/null || die "$tool is missing (make image installs IMAGE_APT_PACKAGES)"
done

# --- binfmt_misc: arm64 programs (dpkg, maintainer scripts, update-initramfs) run under qemu-aarch64-static.
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e $binfmt/register ]; then
  say "mounting binfmt_misc"
  mount -t binfmt_misc binfmt_misc $binfmt || die "cannot mount binfmt_misc on $binfmt (a container without it cannot run arm64 programs)"
fi
if [ ! -e $binfmt/qemu-aarch64 ]; then
  say "registering qemu-aarch64 with binfmt_misc"
  if command -v update-binfmts >/dev/null && [ -e /usr/share/binfmts/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 || update-binfmts --import qemu-aarch64
  else
    # The systemd-binfmt format: ":name:type:offset:magic:mask:interpreter:flags".
    grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf > $binfmt/register
  fi
fi
grep -q '^flags:.*F' $binfmt/qemu-aarch64 || die "binfmt_misc entry qemu-aarch64 lacks the F flag (needed inside the chroot)"
[ "$(cat $binfmt/status)" = enabled ] && grep -q '^enabled' $binfmt/qemu-aarch64 || die "binfmt_misc or its qemu-aarch64 entry is disabled"

# --- 1. the base root file system, cached.
sources=(
  "deb $mirror $suite main non-free-firmware"
  "deb $mirror $suite-updates main non-free-firmware"
  "deb $security $suite-security main non-free-firmware"
)
# What a phone needs: the boot chain (kernel, initramfs, the Pi's firmware and the Wi-Fi/BT firmware of
# its radio), systemd with networkd (DHCP), resolved and timesyncd (no RTC on a Pi: TLS and the clock
# need NTP), sshd, the tools the first boot uses (sfdisk, resize2fs), i2c-tools and alsa-utils for the
# bring-up checklist, tzdata for the clock, curl and nano for the admin, and the .deb's own Depends.
pkgs="linux-image-arm64 initramfs-tools raspi-firmware firmware-brcm80211 systemd-sysv systemd-timesyncd
  systemd-resolved dbus udev kmod iproute2 iputils-ping netbase openssh-server sudo ca-certificates tzdata
  procps less nano curl fdisk e2fsprogs dosfstools i2c-tools alsa-utils"
pkgs="$pkgs $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/[[:space:]]//g')"
pkgs=$(echo $pkgs | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
# The fstab is there before the kernel is installed: its initramfs then carries fsck for ext4 and vfat.
fstab='# offhook SD-card image: the partitions by label, as in Debian'"'"'s raspi images.
LABEL=RASPIROOT	/		ext4	rw,noatime,errors=remount-ro	0 1
# The boot partition holds the config the user drops there (SIP passwords): root only.
LABEL=RASPIFIRM	/boot/firmware	vfat	rw,noatime,fmask=0077,dmask=0077	0 2'
key=$(printf '%s\n' "base-v1" "$suite" "${sources[@]}" "$pkgs" "$fstab" | sha256sum | cut -c1-16)
base="$cache/base-$key.tar"
mkdir -p "$cache" "$work"
if [ -f "$base" ]; then
  say "base root file system: $base (cached)"
else
  rm -rf "$cache"/base-*.tar "$cache"/base-*.tar.tmp "$cache/tmp"
  mkdir -p "$cache/tmp"
  echo "$fstab" > "$cache/tmp/fstab"
  say "base root file system: mmdebstrap $suite arm64 ($(echo $pkgs | wc -w) packages and their dependencies; takes a while under qemu-user)"
  t=$(date +%s)
  # The package lists stay in the tarball, so that step 2 can resolve the .deb's Depends offline.
  TMPDIR="$cache/tmp" mmdebstrap --mode=unshare --arch=arm64 --variant=minbase --format=tar \
    --aptopt='APT::Install-Recommends "false"' --include="$(echo $pkgs | tr ' ' ',')" \
    --essential-hook="upload $cache/tmp/fstab /etc/fstab" --skip=cleanup/apt/lists \
    "$suite" "$base.tmp" "${sources[@]}"
  mv "$base.tmp" "$base"
  rm -rf "$cache/tmp"
  say "base root file system: $(du -h "$base" | cut -f1) in $(( $(date +%s) - t )) s"
fi

# --- 2. the root file system of this image, rebuilt from the base every time.
rootfs="$work/rootfs"
# Never delete through a mount (the chroot's mounts live in their own namespace, so none should be left).
mounts=$(findmnt -rn -o TARGET)
if grep -q "^$rootfs\(/\|$\)" <<< "$mounts"; then die "something is mounted under $rootfs; unmount it first"; fi
rm -rf "$rootfs"
mkdir -p "$rootfs"
tar -C "$rootfs" --numeric-owner --xattrs --xattrs-include='*' -xpf "$base"

install -m 644 "$deb" "$rootfs/tmp/offhook.deb"
echo offhook > "$rootfs/etc/hostname"
cat > "$rootfs/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	offhook
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
[ "$(cat "$rootfs/etc/fstab")" = "$fstab" ] || die "the base's /etc/fstab is not the image's"
# raspi-firmware writes cmdline.txt and config.txt from these (its kernel hook, run below).
# CMA=0: no cma= on the command line (a headless phone; cma=64M is wrong for a Pi 4, and the image is
# built for every model); the boot log on the serial port (ttyS1 on a Pi 3/4/Zero 2 W) and the screen.
sed -i -e 's/^#\?ROOTPART=.*/ROOTPART=LABEL=RASPIROOT/' -e 's/^#\?CMA=.*/CMA=0/' \
  -e 's/^#\?CONSOLES=.*/CONSOLES="ttyS1,115200 tty0"/' "$rootfs/etc/default/raspi-firmware"
grep -qx 'ROOTPART=LABEL=RASPIROOT' "$rootfs/etc/default/raspi-firmware" || die "raspi-firmware's defaults file changed: no ROOTPART"
install -m 644 "$files/config.txt" "$rootfs/etc/default/raspi-firmware-custom"
install -m 644 "$files/10-wired.network" "$rootfs/etc/systemd/network/10-wired.network"
install -d "$rootfs/etc/systemd/system/systemd-networkd-wait-online.service.d"
install -m 644 "$files/wait-online.conf" "$rootfs/etc/systemd/system/systemd-networkd-wait-online.service.d/offhook.conf"
install -m 644 "$files/99-offhook-gpio.rules" "$rootfs/etc/udev/rules.d/99-offhook-gpio.rules"
install -m 644 "$files/modules-load.conf" "$rootfs/etc/modules-load.d/offhook.conf"
install -m 755 "$files/offhook-firstboot" "$rootfs/usr/local/sbin/offhook-firstboot"
install -m 644 "$files/offhook-firstboot.service" "$rootfs/etc/systemd/system/offhook-firstboot.service"
# sshd is enabled but does not start until the first boot was asked for SSH (ssh.service's own condition).
touch "$rootfs/etc/ssh/sshd_not_to_be_run"
ln -sf ../run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"

say "installing $(basename "$deb") and configuring the image (chroot, qemu-aarch64-static)"
# A mount namespace of its own: /proc disappears with it, whatever happens.
unshare --mount --propagation private -- /bin/sh -euc '
  rootfs=$1
  mount -t proc proc "$rootfs/proc"
  printf "#!/bin/sh\nexit 101\n" > "$rootfs/usr/sbin/policy-rc.d"; chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive HOME=/root \
    chroot "$rootfs" /bin/sh -euc "
      # The group of the GPIO devices (99-offhook-gpio.rules) first: the package postinst puts offhook in it.
      addgroup --system gpio >/dev/null
      apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends /tmp/offhook.deb
      id -nG offhook | grep -qw gpio
      systemctl enable offhook-firstboot.service systemd-networkd.service systemd-resolved.service systemd-timesyncd.service ssh.service
      systemctl is-enabled -q offhook.service
      # cmdline.txt and config.txt from the settings above; the kernel, initrd and DTBs into /boot/firmware.
      DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware
      # No account with a password; every card makes its own SSH host keys and machine-id on first boot.
      passwd -l root >/dev/null
      rm -f /etc/ssh/ssh_host_* /var/lib/dbus/machine-id /tmp/offhook.deb /usr/sbin/policy-rc.d
      : > /etc/machine-id
      apt-get clean
    "
' sh "$rootfs"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
  "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old "$rootfs"/tmp/* "$rootfs"/var/tmp/*
install -d -m 755 "$rootfs/boot/firmware/offhook"
install -m 644 "$files/README.txt" "$rootfs/boot/firmware/offhook/README.txt"

# Checks of what the image must (not) hold.
fw="$rootfs/boot/firmware"
for f in config.txt cmdline.txt start4.elf fixup4.dat bootcode.bin bcm2711-rpi-4-b.dtb bcm2837-rpi-3-b.dtb; do
  [ -f "$fw/$f" ] || die "/boot/firmware/$f is missing (raspi-firmware's hook did not run?)"
done
ls "$fw"/vmlinuz-* "$fw"/initrd.img-* >/dev/null || die "no kernel or initrd in /boot/firmware"
grep -q 'root=LABEL=RASPIROOT' "$fw/cmdline.txt" || die "cmdline.txt: $(cat "$fw/cmdline.txt")"
grep -qx 'dtparam=i2c_arm=on' "$fw/config.txt" && grep -qx 'arm_64bit=1' "$fw/config.txt" || die "config.txt lacks our lines"
! ls "$rootfs"/etc/ssh/ssh_host_* >/dev/null 2>&1 || die "SSH host keys in the image"
[ ! -s "$rootfs/etc/machine-id" ] || die "a machine-id in the image"
awk -F: '$2 == "" || $2 ~ /^\$/ { bad = bad " " $1 } END { if (bad) { print "sd-image: accounts with a password or none:" bad > "/dev/stderr"; exit 1 } }' "$rootfs/etc/shadow"
[ -L "$rootfs/etc/systemd/system/multi-user.target.wants/offhook.service" ] || die "offhook.service is not enabled"
kernel=$(basename "$(ls "$fw"/vmlinuz-* | sort -V | tail -1)")
say "kernel ${kernel#vmlinuz-}; cmdline.txt: $(cat "$fw/cmdline.txt")"

# --- 3. the image: FAT32 + ext4 partition files, placed by sfdisk's table.
say "assembling $(basename "$img")"
part="$work/part"
rm -rf "$part" && mkdir -p "$part"
truncate -s ${boot_mib}M "$part/boot.vfat"
mkfs.vfat -F 32 -n RASPIFIRM -i $boot_id "$part/boot.vfat" >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i "$part/boot.vfat" -s -p -m -Q "$fw"/* ::
find "$fw" -mindepth 1 -delete             # in the ext4 it is only the mount point
# The root partition: what the files take, a quarter more and 256 MiB to breathe before the first boot grows it.
used=$(du -s -x --block-size=1M "$rootfs" | cut -f1)
root_mib=$(( (used + used / 4 + 256 + 3) / 4 * 4 ))
truncate -s ${root_mib}M "$part/root.ext4"
mkfs.ext4 -q -F -L RASPIROOT -U $root_uuid -E hash_seed=$root_uuid,root_owner=0:0 -d "$rootfs" "$part/root.ext4"
rm -rf "$rootfs"                           # all of it is in root.ext4 now
root_start=$((4 + boot_mib))
tmp="$img.tmp"
mkdir -p "$(dirname "$img")"
rm -f "$tmp" && truncate -s $((root_start + root_mib))M "$tmp"
sfdisk --quiet "$tmp" <<EOF
label: dos
label-id: $disk_id
unit: sectors

start=8192, size=$((boot_mib * 2048)), type=c, bootable
start=$((root_start * 2048)), size=$((root_mib * 2048)), type=83
EOF
dd if="$part/boot.vfat" of="$tmp" bs=1M seek=4 conv=notrunc,sparse status=none
dd if="$part/root.ext4" of="$tmp" bs=1M seek=$root_start conv=notrunc,sparse status=none
rm -rf "$part"
mv "$tmp" "$img"
rm -f "$img.bmap" "$img.xz"
bmaptool -q create -o "$img.bmap" "$img"
say "$img: $(( (root_start + root_mib) )) MiB (FAT $boot_mib MiB + ext4 $root_mib MiB, $used MiB used), $(du -h "$img" | cut -f1) allocated, in $(( $(date +%s) - start )) s"
if [ "${IMAGE_XZ:-0}" = 1 ]; then
  t=$(date +%s)
  xz -T0 -6 -k -f "$img"
  say "$img.xz: $(du -h "$img.xz" | cut -f1) in $(( $(date +%s) - t )) s"
fi
