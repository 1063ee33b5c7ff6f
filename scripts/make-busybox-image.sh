#!/usr/bin/env bash
# Builds the demo image, busybox from Debian's busybox-static, as an OCI image layout tarball (umoci):
#
#   scripts/make-busybox-image.sh FILE
#
# One layer (scripts/make-busybox-rootfs.sh), Cmd `sh`, named `podrun/busybox:latest` in the layout
# (`org.opencontainers.image.ref.name` = latest; podrun imports it as `podrun/busybox:latest` with --name).
# Written to a temporary sibling and renamed, so FILE is either whole or absent.
set -euo pipefail
out=${1:?usage: $0 FILE}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$(dirname "$out")/.busybox-image.XXXXXX")
trap 'rm -rf "$work"' EXIT

umoci init --layout "$work/layout"
umoci new --image "$work/layout:latest"
umoci unpack --image "$work/layout:latest" "$work/bundle" >/dev/null
bash "$here/make-busybox-rootfs.sh" "$work/rootfs" >/dev/null
cp -a "$work/rootfs/." "$work/bundle/rootfs/"
umoci repack --image "$work/layout:latest" "$work/bundle" >/dev/null
umoci config --image "$work/layout:latest" --config.cmd sh \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umoci gc --layout "$work/layout"
tar -C "$work/layout" -cf "$work/image.tar" .
mv "$work/image.tar" "$out"
