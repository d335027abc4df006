#!/usr/bin/env bash
# Builds keepalived from a release tarball (a `git archive` of the tag) into OUT/keepalived.
# Usage: keepalived-build.sh TARBALL OUT
# Configured as the images users run are: with LVS (without it keepalived rejects the pod's
# --checkers_pid option), without SNMP and D-Bus. Debian build deps: build-essential autoconf automake
# libtool pkg-config libssl-dev libnl-3-dev libnl-genl-3-dev.
set -euo pipefail
tarball=$(realpath "$1")
out=$(realpath -m "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/keepalived-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$tarball"
cd "$work"/keepalived-*/
# 2.0.20 has no autogen.sh; its build_setup needs a git checkout, so run the autotools directly.
if [ -x ./autogen.sh ]; then ./autogen.sh >/dev/null 2>&1; else
  { aclocal && autoheader && automake --add-missing && autoconf; } >/dev/null 2>&1
fi
./configure --disable-snmp --disable-dbus >configure.log 2>&1 || { tail -40 configure.log >&2; exit 1; }
make -j"$(nproc)" >make.log 2>&1 || { tail -40 make.log >&2; exit 1; }
mkdir -p "$out"
cp bin/keepalived "$out/keepalived.tmp.$$"
mv "$out/keepalived.tmp.$$" "$out/keepalived"
"$out/keepalived" --version 2>&1 | sed -n 1p
