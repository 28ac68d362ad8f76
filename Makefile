# offhook: `make run` (install what is missing, build, start the emulator) and `make test` (... run every test).
SHELL := /bin/bash
.DEFAULT_GOAL := build

# Debian packages, installed only when missing: the toolchain and -dev libraries of the native addon
# (the media engine links libasound, libopus, libspeexdsp and libsrtp2); the real peers of the interop
# tests (Kamailio, SIPp, baresip — a softphone for RTP/SRTP, which brings baresip-core with its modules)
# and tshark, which reads the SIP trace; openssl makes throwaway TLS certificates; chromium runs the
# emulator page's end-to-end tests (test/e2e, driven by playwright-core).
APT_PACKAGES := build-essential python3 pkg-config libasound2-dev libopus-dev libspeexdsp-dev libsrtp2-dev \
	kamailio sip-tester baresip tshark openssl chromium
# Only for `make package` / `make package-test` (never installed by `make test`): lintian and Debian's
# cross toolchains; the arm64 / armhf -dev files and Node.js are unpacked into sysroots under build/pkg/
# (scripts/package/sysroot.sh), never installed (the -dev packages of two architectures conflict).
# The packages `make package` builds; `make package PACKAGE_ARCHES=arm64` builds one.
PACKAGE_ARCHES ?= amd64 arm64 armhf
HOST_ARCH := $(shell dpkg --print-architecture)
PACKAGE_APT_PACKAGES := lintian dpkg-dev python3 $(foreach a,$(filter-out $(HOST_ARCH),$(PACKAGE_ARCHES)),crossbuild-essential-$(a))
PACKAGE_TEST_APT_PACKAGES := qemu-user
VERSION := $(shell node -p "require('./package.json').version")
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# node-gyp builds against the Node headers Debian installs in /usr/include/node (no download).
NODEDIR := $(shell [ -f /usr/include/node/node_api.h ] && echo /usr)
NODE_GYP_FLAGS := $(if $(NODEDIR),--nodedir=$(NODEDIR)) --jobs=2
export npm_config_nodedir := $(NODEDIR)
BIN := node_modules/.bin
NATIVE_SOURCES := binding.gyp $(wildcard firmware/systemd/native/*.c) $(wildcard firmware/media/native/*.c firmware/media/native/*.cc firmware/media/native/*.h firmware/media/native/*/*.c firmware/media/native/*/*.cc firmware/media/native/*/*.h)

.PHONY: deps apt-deps apt-install build addon bundle typecheck lint unit test run bench clean package package-deps package-test package-test-deps deploy

deps: apt-deps node_modules/.offhook-installed

apt-deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(APT_PACKAGES)"

# Installs the Debian packages of PKGS that are missing (apt-get update only when something is).
apt-install:
	@missing=$$(for p in $(PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing Debian packages:" $$missing; \
	  echo "wireshark-common wireshark-common/install-setuid boolean false" | $(SUDO) debconf-set-selections; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# npm ci runs only when package.json or the lock file changed since the last install.
node_modules/.offhook-installed: package.json package-lock.json
	npm ci
	@touch $@

build/Release/offhook_native.node: $(NATIVE_SOURCES) node_modules/.offhook-installed
	$(BIN)/node-gyp rebuild $(NODE_GYP_FLAGS)

addon: deps build/Release/offhook_native.node

bundle: deps addon
	node scripts/build.mjs

build: bundle

typecheck: deps
	$(BIN)/tsc --noEmit -p .

lint: deps
	$(BIN)/eslint --max-warnings 0 .

unit: build
	$(BIN)/vitest run

# Everything CI checks: install what is missing, build (TS + addon), typecheck, lint, all tests.
test: build typecheck lint unit

# The emulator: its page at http://127.0.0.1:8080/ (ARGS="--ui terminal" draws it in the terminal instead).
run: build
	node dist/offhook.mjs --board emulator $(ARGS)

bench: build
	node scripts/build.mjs --bench
	@set -e; for b in dist/bench/*.mjs; do echo "== $$b"; node $$b; done

# Debian packages: dist/offhook_$(VERSION)_{amd64,arm64,armhf}.deb, each checked by lintian (no errors).
# The native addons are built per architecture in build/pkg/<arch>/ (scripts/package/build-native.sh).
package: build package-deps $(foreach a,$(PACKAGE_ARCHES),dist/offhook_$(VERSION)_$(a).deb)

package-deps:
	@for a in $(filter-out $(HOST_ARCH),$(PACKAGE_ARCHES)); do \
	  dpkg --print-foreign-architectures | grep -qx $$a || { echo "package: dpkg --add-architecture $$a"; $(SUDO) dpkg --add-architecture $$a; rm -f build/pkg/.apt-updated; }; \
	done
	@# A mirror caught mid-sync fails one index: the lists apt already has still do (sysroot.sh says when not).
	@[ -f build/pkg/.apt-updated ] || { $(SUDO) apt-get update -qq || echo "package: apt-get update failed in part; going on with the lists apt has"; \
	  mkdir -p build/pkg && touch build/pkg/.apt-updated; }
	@$(MAKE) --no-print-directory apt-install PKGS="$(PACKAGE_APT_PACKAGES)"

.PRECIOUS: build/pkg/%/sysroot/.complete build/pkg/%/native/.built
build/pkg/%/sysroot/.complete:
	scripts/package/sysroot.sh $* build/pkg/$*/sysroot

build/pkg/%/native/.built: build/pkg/%/sysroot/.complete $(NATIVE_SOURCES) node_modules/.offhook-installed
	scripts/package/build-native.sh $* build/pkg/$*/sysroot build/pkg/$*/native
	@touch $@

dist/offhook_$(VERSION)_%.deb: build/pkg/%/native/.built dist/offhook.mjs $(wildcard packaging/*) scripts/package/build-deb.sh README.md
	scripts/package/build-deb.sh $* build/pkg/$*/native build/pkg/$*/sysroot
	@echo "lintian $@"; set -o pipefail; lintian --fail-on error --pedantic $@ 2>&1 | { grep -v 'root privileges is not recommended' || true; }

dist/offhook.mjs: bundle

# The arm64 and armhf packages on Debian's Node.js of that architecture under qemu-user (no board):
# `offhook selftest` passes, the firmware starts headless on the emulator board, answers /api/state
# and talks sd_notify to a fake systemd (scripts/package/qemu-test.sh).
PACKAGE_TEST_ARCHES ?= arm64 armhf
package-test: package-test-deps
	$(MAKE) --no-print-directory package PACKAGE_ARCHES="$(PACKAGE_TEST_ARCHES)"
	@set -e; for a in $(PACKAGE_TEST_ARCHES); do scripts/package/qemu-test.sh $$a dist/offhook_$(VERSION)_$$a.deb build/pkg/$$a/sysroot; done

package-test-deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(PACKAGE_TEST_APT_PACKAGES)"

# The SD-card image for a Raspberry Pi 3/4/Zero 2 W: Debian bookworm arm64 (mmdebstrap under qemu-user-static,
# raspi-firmware, linux-image-arm64) with the arm64 package and a first-boot service (scripts/package/sd-image.sh;
# the base root file system is cached in .cache/image/, which make clean keeps). IMAGE_XZ=1 also writes $(IMAGE).xz.
# `make image-test` boots it under qemu-system-aarch64 (scripts/package/image-test.sh; minutes, not in CI).
IMAGE := dist/offhook_$(VERSION)_rpi-arm64.img
IMAGE_APT_PACKAGES := mmdebstrap arch-test qemu-user-static binfmt-support dosfstools mtools fdisk e2fsprogs bmap-tools xz-utils
IMAGE_TEST_APT_PACKAGES := qemu-system-arm mtools fdisk openssh-client curl python3 openssl
.PHONY: image image-deps image-test image-test-deps
IMAGE_XZ ?= 0
image: image-deps
	$(MAKE) --no-print-directory package PACKAGE_ARCHES=arm64
	$(SUDO) env IMAGE_XZ=$(IMAGE_XZ) scripts/package/sd-image.sh dist/offhook_$(VERSION)_arm64.deb $(IMAGE)

image-deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(IMAGE_APT_PACKAGES)"

image-test: image image-test-deps
	scripts/package/image-test.sh $(IMAGE)

image-test-deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(IMAGE_TEST_APT_PACKAGES)"

# Copies the package of the phone's architecture over ssh and installs it: make deploy HOST=pi@phone.local
# (ARCH=arm64 by default; armhf for a 32-bit Raspberry Pi OS). sudo on the phone may ask for a password.
ARCH ?= arm64
deploy:
	@[ -n "$(HOST)" ] || { echo "usage: make deploy HOST=user@phone.local [ARCH=arm64|armhf]" >&2; exit 2; }
	$(MAKE) --no-print-directory package PACKAGE_ARCHES=$(ARCH)
	scp dist/offhook_$(VERSION)_$(ARCH).deb $(HOST):/tmp/
	ssh -t $(HOST) 'sudo apt-get install -y --reinstall /tmp/offhook_$(VERSION)_$(ARCH).deb && rm -f /tmp/offhook_$(VERSION)_$(ARCH).deb && systemctl --no-pager status offhook | head -5'

clean:
	rm -rf dist build node_modules/.offhook-installed
