#!/usr/bin/env bash
# Lays out dist/offhook_<version>_<arch>.deb from the bundle (dist/), the native .node files of that
# architecture (build-native.sh) and packaging/, and builds it with dpkg-deb. Usage: build-deb.sh ARCH NATIVEDIR SYSROOT
set -euo pipefail
arch=$1 native=$2 sysroot=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
version=$(node -p "require('$root/package.json').version")
maintainer=${DEB_MAINTAINER:-offhook maintainers <maintainers@offhook.invalid>}
pkgdir="$root/packaging"
stage="$root/build/pkg/$arch/root"
deb="$root/dist/offhook_${version}_${arch}.deb"
lib="$stage/usr/lib/offhook"

# The changelog's newest entry must be this version: a release without its entry is refused.
head -1 "$pkgdir/changelog" | grep -q "^offhook ($version)" ||
  { echo "build-deb: packaging/changelog has no entry for $version at the top" >&2; exit 1; }
for f in offhook.mjs board web; do [ -e "$root/dist/$f" ] || { echo "build-deb: dist/$f is missing; run make build" >&2; exit 1; }; done

rm -rf "$stage"
install -d "$lib/board" "$lib/web" "$stage/usr/bin" "$stage/etc/offhook" "$stage/lib/systemd/system" \
  "$stage/usr/share/doc/offhook" "$stage/usr/share/man/man1" "$stage/DEBIAN"

# /usr/bin/offhook runs the bundle with node; it keeps its shebang (and so its mode) for `node`-less use.
install -m 755 "$root/dist/offhook.mjs" "$lib/"
install -m 644 "$root/dist/offhook.mjs.map" "$lib/"
install -m 644 "$root"/dist/board/*.yaml "$lib/board/"
install -m 644 "$root"/dist/web/* "$lib/web/"
# The addons beside the bundle, where firmware/media/native-addon.ts and firmware/systemd look first.
install -m 644 "$native/offhook_native.node" "$native/offhook_sdnotify.node" "$lib/"
# The bundle's external packages (scripts/build.mjs): their JavaScript, licence, and the .node built for $arch.
modules="i2c-bus onoff epoll bindings file-uri-to-path lodash.debounce"
for m in $modules; do
  src="$root/node_modules/$m" dst="$lib/node_modules/$m"
  main=$(node -p "require('$src/package.json').main || 'index.js'")
  install -d "$dst"
  install -m 644 "$src/package.json" "$dst/"
  install -m 644 "$src/${main%.js}.js" "$dst/"
  for extra in LICENSE LICENSE.md; do [ -f "$src/$extra" ] && install -m 644 "$src/$extra" "$dst/"; done
done
install -d "$lib/node_modules/i2c-bus/build/Release" "$lib/node_modules/epoll/build/Release"
install -m 644 "$native/i2c.node" "$lib/node_modules/i2c-bus/build/Release/"
install -m 644 "$native/epoll.node" "$lib/node_modules/epoll/build/Release/"

install -m 755 "$pkgdir/offhook.sh" "$stage/usr/bin/offhook"
install -m 644 "$pkgdir/offhook.yaml" "$stage/etc/offhook/offhook.yaml"
install -m 644 "$pkgdir/offhook.service" "$stage/lib/systemd/system/offhook.service"
install -m 644 "$pkgdir/copyright" "$stage/usr/share/doc/offhook/copyright"
install -m 644 "$root/README.md" "$stage/usr/share/doc/offhook/README.md"
gzip -9n < "$pkgdir/changelog" > "$stage/usr/share/doc/offhook/changelog.gz"
gzip -9n < "$pkgdir/offhook.1" > "$stage/usr/share/man/man1/offhook.1.gz"
chmod 644 "$stage/usr/share/doc/offhook/changelog.gz" "$stage/usr/share/man/man1/offhook.1.gz"

# The nan-based dependencies (i2c-bus, epoll) are tied to the Node ABI they were built for: the
# nodejs of the sysroot's headers (Debian 12: 18.x). Node-API addons (ours) load on any later Node.
node_major=$(sed -n 's/^#define NODE_MAJOR_VERSION \([0-9]*\).*/\1/p' "$sysroot/usr/include/node/node_version.h")
depends="nodejs (>= $node_major), nodejs (<< $((node_major + 1))), adduser, libc6 (>= 2.34), libstdc++6 (>= 12), libgcc-s1 (>= 3.0),"
depends="$depends libasound2 (>= 1.0.16), libopus0 (>= 1.1), libspeexdsp1 (>= 1.2~rc1), libsrtp2-1 (>= 2.3.0)"

for s in postinst prerm postrm; do install -m 755 "$pkgdir/$s" "$stage/DEBIAN/$s"; done
install -m 644 "$pkgdir/conffiles" "$stage/DEBIAN/conffiles"
size=$(du -k -s --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$size/" \
  -e "s/@DEPENDS@/$depends/" -e "s/@MAINTAINER@/$maintainer/" "$pkgdir/control.in" > "$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 644 "$stage/DEBIAN/md5sums"

mkdir -p "$root/dist"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "build-deb: $deb ($(du -h "$deb" | cut -f1), installed $size KiB, Depends: nodejs $node_major.x)"
