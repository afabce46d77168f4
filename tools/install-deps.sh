#!/bin/sh
# Install what mmreplay needs to build, test and run on Debian/Ubuntu.
# Idempotent: installs only what is missing. Needs root.
set -e
pkgs="build-essential meson ninja-build pkg-config python3
libtracefs-dev libtraceevent-dev libjson-c-dev libcurl4-openssl-dev libzstd-dev
libcmocka-dev
clang llvm libclang-rt-dev valgrind zstd python3-jsonschema
procps util-linux kmod bc"
# Optional: the perf cross-check test skips without it (Ubuntu names it
# differently: linux-tools-$(uname -r)).
optional="linux-perf"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: missing packages:$missing; run as root" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
for p in $optional; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" && continue
	[ "$(id -u)" = 0 ] || continue
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
		echo "install-deps: optional package $p not available here (perf checks will be skipped)" >&2
done
