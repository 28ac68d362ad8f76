#!/usr/bin/env bash
# Unpacks Debian's packages of one architecture into a sysroot (apt-get download + dpkg -x, no install):
# the -dev files the native addons are cross-compiled against, and Node.js with every runtime library,
# which qemu-user runs for the package test. Usage: sysroot.sh ARCH DIR
# (On the build machine's own architecture: the Node headers only.)
set -euo pipefail
arch=$1 dir=$2
debs="$dir.debs"

# Runtime: Debian's nodejs and our package's libraries, with everything they depend on.
roots="nodejs:$arch libasound2:$arch libopus0:$arch libspeexdsp1:$arch libsrtp2-1:$arch"
runtime=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances --no-pre-depends $roots |
  grep -v '^ ' | grep -v '^<' | sort -u |
  grep -E "(:$arch\$|^node-|^libasound2-data\$)" | grep -vE "^(dpkg|tar|install-info|openssl|perl-base|debconf):$arch\$")
# Build: the headers and link libraries of the addons, and the Node headers of the nodejs above.
dev="libasound2-dev:$arch libopus-dev:$arch libspeexdsp-dev:$arch libsrtp2-dev:$arch libnode-dev:$arch libuv1-dev:$arch"

# nodejs at the version of Debian's libnode-dev (a nodejs from elsewhere may be installed on the host).
node_version=$(apt-cache show --no-all-versions "libnode-dev:$arch" 2>/dev/null | sed -n 's/^Version: //p')
runtime=$(echo "$runtime" | sed "s/^nodejs:$arch\$/nodejs:$arch=$node_version/")

# On the build machine's own architecture the compiler uses the installed -dev packages (the Makefile's
# APT_PACKAGES): only the Node headers of Debian's nodejs are needed, and nothing is run from here.
if [ "$arch" = "$(dpkg --print-architecture)" ]; then
  runtime="" dev="libnode-dev:$arch libuv1-dev:$arch"
fi

if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$runtime $dev" ]; then exit 0; fi
if [ -z "$node_version" ]; then
  echo "sysroot: apt knows no $arch packages; run: dpkg --add-architecture $arch && apt-get update" >&2
  exit 1
fi
rm -rf "$dir" "$debs"
mkdir -p "$dir" "$debs"
echo "sysroot: downloading $(echo $runtime $dev | wc -w) Debian packages for $arch"
# apt's sandbox user must be able to write there; the .debs are kept only until they are unpacked.
chmod 777 "$debs"
(cd "$debs" && apt-get download -qq $runtime $dev)
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
rm -rf "$debs"
echo "$runtime $dev" > "$dir/.complete"
