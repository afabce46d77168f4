#!/bin/sh
# Install what mmreplay needs to build, test and run on Debian/Ubuntu.
# Idempotent: installs only what is missing. Needs root.
set -e
pkgs="build-essential meson ninja-build pkg-config python3
libtracefs-dev libtraceevent-dev libjson-c-dev libcurl4-openssl-dev libzstd-dev
libcmocka-dev
clang llvm libclang-rt-dev valgrind zstd python3-jsonschema
linux-perf procps util-linux kmod bc"
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
