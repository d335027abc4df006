#!/usr/bin/env bash
# Builds the keepalived-constructs node image (see image/Containerfile) and prints its name.
#
#   image/build.sh [--offline] [--tag NAME] [--cache DIR] [--rootfs-only]
#
# Default: `podman build -f image/Containerfile` (pulls debian:bookworm-slim from the registry).
# --offline: no registry. `debootstrap --variant=minbase --include=keepalived bookworm` makes the root
# file system from Debian packages; it is cached under DIR (default node_modules/.cache/keepalived-image),
# this machine's Node.js (>= 20, the agent's floor: Debian 12's own is 18) and the agent are copied in,
# and `podman import` makes the image.
# --rootfs-only (with --offline): only prepare that cached root file system (CI does it ahead of the tests).
# Both need the bundled agent: run `npx projen bundle:agent` first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
offline=0
rootfs_only=0
tag=localhost/keepalived-constructs:dev
cache=$root/node_modules/.cache/keepalived-image
while [ $# -gt 0 ]; do
  case $1 in
    --offline) offline=1 ;;
    --tag) tag=$2; shift ;;
    --cache) cache=$2; shift ;;
    --rootfs-only) rootfs_only=1 ;;
    *) echo "usage: $0 [--offline] [--tag NAME] [--cache DIR] [--rootfs-only]" >&2; exit 2 ;;
  esac
  shift
done
agent=$root/lib/agent/keepalived-agent.js
[ -f "$agent" ] || [ "$rootfs_only" = 1 ] || { echo "missing $agent: run npx projen bundle:agent" >&2; exit 1; }

if [ "$offline" = 0 ]; then
  podman build -f "$root/image/Containerfile" -t "$tag" "$root" >&2
  echo "$tag"
  exit 0
fi

# What the root file system is made of; a change makes a new one.
suite=bookworm
packages=keepalived
key=$(printf '%s\n' "$suite" "$packages" minbase-v1 | sha256sum | cut -c1-16)
rootfs=$cache/rootfs-$key
if [ ! -f "$rootfs/.complete" ]; then
  rm -rf "$rootfs" "$rootfs.tmp"
  mkdir -p "$cache"
  echo "debootstrap $suite with $packages into $rootfs" >&2
  debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs.tmp" >"$cache/debootstrap-$key.log" 2>&1 \
    || { tail -20 "$cache/debootstrap-$key.log" >&2; exit 1; }
  # debootstrap leaves the target's /proc mounted when its unmount fails (something had a file open in
  # it): unmount whatever is mounted below it, deepest first, before the tree moves into the cache.
  { findmnt -rno TARGET | grep -F "$rootfs.tmp/" || true; } | sort -r | while read -r m; do umount -l "$m"; done
  # As slim as the Containerfile's: no package lists or downloaded packages.
  rm -rf "$rootfs.tmp"/var/cache/apt/archives/*.deb "$rootfs.tmp"/var/lib/apt/lists/*
  mv "$rootfs.tmp" "$rootfs"
  touch "$rootfs/.complete"
fi
[ "$rootfs_only" = 0 ] || { echo "$rootfs"; exit 0; }
# Node.js: this machine's, a self-contained binary (it needs only glibc and libstdc++, which Debian's
# minbase has), as long as it is the agent's floor or later.
node_bin=$(command -v node)
"$node_bin" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "$node_bin is Node.js $("$node_bin" --version); the agent needs >= 20" >&2; exit 1; }
install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
# (a distribution's node links libnode, libuv, ICU...: then it does not run in the image)
chroot "$rootfs" /usr/local/bin/node --version >/dev/null \
  || { echo "$node_bin does not run in the image (it needs libraries Debian's minbase lacks): use a self-contained build, e.g. nodejs.org's" >&2; exit 1; }
install -D -m 0644 "$agent" "$rootfs/opt/keepalived-constructs/keepalived-agent.js"
tar -C "$rootfs" --one-file-system --exclude=./.complete -c . \
  | podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$tag" >/dev/null
echo "$tag"
