#!/usr/bin/env bash
# Builds every native .node of the package for one Debian architecture: offhook's own addons and the
# native npm dependencies (i2c-bus, epoll), with Debian's cross compiler for arm64 / armhf, against the
# -dev files and Node headers of that architecture's sysroot (scripts/package/sysroot.sh).
# Usage: build-native.sh ARCH SYSROOT OUTDIR   (OUTDIR gets offhook_native.node, offhook_sdnotify.node,
# i2c.node, epoll.node, stripped)
set -euo pipefail
arch=$1 sysroot=$(realpath "$2") out=$3
root=$(cd "$(dirname "$0")/../.." && pwd)

case $arch in
  amd64) triplet=x86_64-linux-gnu gyparch=x64 ;;
  arm64) triplet=aarch64-linux-gnu gyparch=arm64 ;;
  armhf) triplet=arm-linux-gnueabihf gyparch=arm ;;
  *) echo "build-native: unknown architecture $arch (amd64, arm64, armhf)" >&2; exit 2 ;;
esac
command -v "$triplet-g++" >/dev/null || { echo "build-native: $triplet-g++ is missing (apt-get install g++-$triplet or crossbuild-essential-$arch)" >&2; exit 1; }

# Debian's hardening flags for that architecture (lintian checks relro, bindnow, fortify).
eval "$(DEB_HOST_ARCH=$arch DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh 2>/dev/null)"
export CC=$triplet-gcc CXX=$triplet-g++ LINK=$triplet-g++ AR=$triplet-ar
export CFLAGS="$CFLAGS $CPPFLAGS -isystem $sysroot/usr/include -isystem $sysroot/usr/include/$triplet"
export CXXFLAGS="$CXXFLAGS $CPPFLAGS -isystem $sysroot/usr/include -isystem $sysroot/usr/include/$triplet"
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
  # Cross: libraries and pkg-config files from the sysroot (natively: the installed -dev packages).
  export LDFLAGS="$LDFLAGS -L$sysroot/usr/lib/$triplet -Wl,-rpath-link,$sysroot/usr/lib/$triplet -Wl,-rpath-link,$sysroot/lib/$triplet"
  export PKG_CONFIG_LIBDIR=$sysroot/usr/lib/$triplet/pkgconfig:$sysroot/usr/share/pkgconfig PKG_CONFIG_SYSROOT_DIR=$sysroot
fi
unset npm_config_nodedir
gyp=(node "$root/node_modules/node-gyp/bin/node-gyp.js" rebuild --arch="$gyparch" --nodedir="$sysroot/usr" --jobs=2 --loglevel=warn)

work="$root/build/pkg/$arch/src"
rm -rf "$work" "$out"
mkdir -p "$work/offhook/firmware/media" "$work/offhook/firmware/systemd" "$out"
# Out-of-tree copies: node-gyp builds in ./build, and the developer's build/Release must stay untouched.
cp "$root/binding.gyp" "$work/offhook/"
cp -r "$root/firmware/media/native" "$work/offhook/firmware/media/"
cp -r "$root/firmware/systemd/native" "$work/offhook/firmware/systemd/"
for dep in i2c-bus epoll; do
  mkdir -p "$work/$dep"
  (cd "$root/node_modules/$dep" && tar --exclude=./build -cf - .) | tar -xf - -C "$work/$dep"
done
for dir in "$work/offhook" "$work/i2c-bus" "$work/epoll"; do
  ln -s "$root/node_modules" "$dir/node_modules"
  echo "build-native: $arch: $(basename "$dir")"
  (cd "$dir" && "${gyp[@]}")
done
cp "$work/offhook/build/Release/offhook_native.node" "$work/offhook/build/Release/offhook_sdnotify.node" \
  "$work/i2c-bus/build/Release/i2c.node" "$work/epoll/build/Release/epoll.node" "$out/"

# Stripped, and checked to be what they claim: an ELF of the target machine.
case $arch in amd64) machine='X86-64' ;; arm64) machine='AArch64' ;; armhf) machine='ARM' ;; esac
for f in "$out"/*.node; do
  "$triplet-strip" --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
  readelf -h "$f" | grep -q "Machine: *.*$machine" || { echo "build-native: $f is not a $machine ELF" >&2; exit 1; }
done
echo "build-native: $arch: $(cd "$out" && ls | tr '\n' ' ')"
