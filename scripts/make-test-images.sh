#!/usr/bin/env bash
# Builds the image tarballs the integration tests import, with real tools (umoci, skopeo), in DIR:
#
#   scripts/make-test-images.sh DIR
#
#   DIR/oci.tar     an OCI image layout with two images: `latest` (3 layers) and `v2` (the same 3 + 1)
#                   layer 1: the busybox rootfs, /data/{keep,gone}.txt, a symlink and a hardlink,
#                            /opaque/old.txt, /opaque2/stale.txt, a setuid file /bin/suid-test
#                   layer 2: /data/gone.txt deleted, /opaque replaced by a folder holding new.txt (umoci)
#                   layer 3: /opaque2 made opaque with a `.wh..wh..opq` marker, plus /opaque2/fresh.txt
#                   config:  Cmd prints the user, cwd and $GREETING; Env GREETING=hello; WorkingDir /data;
#                            User tester
#   DIR/docker.tar  `latest` as a docker-archive named podrun-test/app:latest (skopeo)
#
# The images are built in a temporary sibling folder and renamed into place.
set -euo pipefail
dir=${1:?usage: $0 DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$(dirname "$dir")"
work=$(mktemp -d "$(dirname "$dir")/.images.XXXXXX")
trap 'rm -rf "$work"' EXIT

rootfs=$work/busybox
bash "$here/make-busybox-rootfs.sh" "$rootfs"

layout=$work/layout
umoci init --layout "$layout"
umoci new --image "$layout:latest"
umoci unpack --image "$layout:latest" "$work/b1" >/dev/null
cp -a "$rootfs/." "$work/b1/rootfs/"
r=$work/b1/rootfs
mkdir -p "$r/data" "$r/opaque" "$r/opaque2"
echo keep > "$r/data/keep.txt"
echo gone > "$r/data/gone.txt"
ln -s keep.txt "$r/data/link"
ln "$r/data/keep.txt" "$r/data/hard"
echo old > "$r/opaque/old.txt"
echo stale > "$r/opaque2/stale.txt"
echo suid > "$r/bin/suid-test"
chmod 4755 "$r/bin/suid-test"
umoci repack --image "$layout:latest" "$work/b1" >/dev/null

umoci unpack --image "$layout:latest" "$work/b2" >/dev/null
r=$work/b2/rootfs
rm "$r/data/gone.txt"
rm -rf "$r/opaque"
mkdir "$r/opaque"
echo new > "$r/opaque/new.txt"
umoci repack --image "$layout:latest" "$work/b2" >/dev/null

python3 - "$work/layer3.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    def add(name, data=None, kind=tarfile.REGTYPE, mode=0o644):
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = kind, mode, 1700000000
        if data is not None:
            info.size = len(data)
        t.addfile(info, io.BytesIO(data) if data is not None else None)
    add("opaque2/", kind=tarfile.DIRTYPE, mode=0o755)
    add("opaque2/.wh..wh..opq", b"")
    add("opaque2/fresh.txt", b"fresh\n")
PY
umoci raw add-layer --image "$layout:latest" "$work/layer3.tar"
umoci config --image "$layout:latest" --config.user tester --config.workingdir /data \
    --config.env GREETING=hello \
    --config.cmd sh --config.cmd -c --config.cmd 'echo "user=$(id -u) cwd=$(pwd) greeting=$GREETING"'

umoci unpack --image "$layout:latest" "$work/b3" >/dev/null
echo v2 > "$work/b3/rootfs/v2.txt"
umoci repack --image "$layout:v2" "$work/b3" >/dev/null
umoci gc --layout "$layout"

mkdir -p "$work/out"
tar -C "$layout" -cf "$work/out/oci.tar" .
skopeo --insecure-policy copy -q "oci:$layout:latest" "docker-archive:$work/out/docker.tar:podrun-test/app:latest"
rm -rf "$dir"
mv "$work/out" "$dir"
