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
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# node-gyp builds against the Node headers Debian installs in /usr/include/node (no download).
NODEDIR := $(shell [ -f /usr/include/node/node_api.h ] && echo /usr)
NODE_GYP_FLAGS := $(if $(NODEDIR),--nodedir=$(NODEDIR)) --jobs=2
export npm_config_nodedir := $(NODEDIR)
BIN := node_modules/.bin
NATIVE_SOURCES := binding.gyp $(wildcard firmware/media/native/*.c firmware/media/native/*.cc firmware/media/native/*.h firmware/media/native/*/*.c firmware/media/native/*/*.cc firmware/media/native/*/*.h)

.PHONY: deps apt-deps build addon bundle typecheck lint unit test run bench clean

deps: apt-deps node_modules/.offhook-installed

apt-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
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

clean:
	rm -rf dist build node_modules/.offhook-installed
