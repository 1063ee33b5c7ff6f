#!/usr/bin/env bash
# Image import, side by side (issue #7, row 5): podrun, `ctr images import` (containerd on a private socket,
# unpacking into its overlayfs snapshotter) and `umoci unpack`, each of the same generated multi-layer image.
#
#   sudo bash scripts/bench-import.sh [PODRUN_BIN] RESULTS_DIR
#
#   PODRUN_BIN    the podrun binary (default: $PODRUN_BIN, else .build/release/podrun)
#   RESULTS_DIR   where hyperfine's JSON goes: RESULTS_DIR/image-import.json, commands in the order
#                 podrun, ctr, umoci
#
# Environment: RUNS (default 5), WORK (default bench/work/import; the generated image is kept there and
# reused, everything else under it is removed at the end).
#
# The image: 4 gzip layers made with umoci, ~300 MB unpacked in all; each layer 2000 small files (4 KiB of
# text each, in 20 folders) and 2 random files of 32 MiB. podrun imports the OCI layout tarball (blobs
# verified, layers unpacked into snapshots); ctr imports the same tarball (content ingested, layers unpacked
# into overlayfs snapshots); umoci unpacks the layout folder into a bundle rootfs. Each run starts from an
# empty store (hyperfine --prepare: podrun's store removed; containerd stopped, its root wiped, restarted;
# umoci's bundle removed), and with the previous run's writes flushed (sync).
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -ge 2 ]; then
    podrun=$1
    results=$2
else
    podrun=${PODRUN_BIN:-$root_dir/.build/release/podrun}
    results=${1:?usage: $0 [PODRUN_BIN] RESULTS_DIR}
fi
runs=${RUNS:-5}
work=${WORK:-$root_dir/bench/work/import}
[ "$(id -u)" -eq 0 ] || { echo "error: run as root" >&2; exit 1; }
[ -x "$podrun" ] || { echo "error: no podrun binary at $podrun" >&2; exit 1; }
podrun=$(cd "$(dirname "$podrun")" && pwd)/$(basename "$podrun")
for tool in ctr containerd umoci hyperfine python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing" >&2; exit 1; }
done
mkdir -p "$work" "$results"

# --- the image (made once, kept) -----------------------------------------------------------------------
image=$work/image
if [ ! -f "$image/oci.tar" ]; then
    rm -rf "$image" && mkdir -p "$image"
    layout=$image/layout
    umoci init --layout "$layout"
    umoci new --image "$layout:bench"
    for layer in 1 2 3 4; do
        bundle=$image/bundle
        rm -rf "$bundle"
        umoci unpack --image "$layout:bench" "$bundle" >/dev/null
        python3 - "$bundle/rootfs/layer$layer" "$layer" <<'PY'
import os, sys
top, layer = sys.argv[1], int(sys.argv[2])
line = b"podrun image import benchmark, layer %d, line %06d\n"
for folder in range(20):
    path = os.path.join(top, "dir%02d" % folder)
    os.makedirs(path)
    for n in range(100):
        with open(os.path.join(path, "file%03d.txt" % n), "wb") as f:
            f.write(b"".join(line % (layer, folder * 100000 + n * 100 + i) for i in range(80))[:4096])
for n in range(2):
    with open(os.path.join(top, "random%d.bin" % n), "wb") as f:
        for _ in range(32):
            f.write(os.urandom(1 << 20))
PY
        umoci repack --image "$layout:bench" "$bundle" >/dev/null
    done
    rm -rf "$image/bundle"
    umoci gc --layout "$layout"
    tar -C "$layout" -cf "$image/oci.tar.part" .
    mv "$image/oci.tar.part" "$image/oci.tar"
fi

# --- a private containerd ------------------------------------------------------------------------------
ctrd=$work/containerd
cat > "$work/containerd.sh" <<EOF
#!/usr/bin/env bash
# stop | start | restart the benchmark's private containerd (root, state and socket under $ctrd).
set -u
stop() {
    if [ -f "$ctrd/pid" ]; then
        pid=\$(cat "$ctrd/pid")
        kill -TERM "\$pid" 2>/dev/null
        for _ in \$(seq 100); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "\$pid" 2>/dev/null
        rm -f "$ctrd/pid"
    fi
    # Mounts under its root and state (deepest first).
    grep -o " $ctrd/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "\$m" 2>/dev/null; done
    rm -rf "$ctrd/root" "$ctrd/state" "$ctrd/containerd.sock"
}
start() {
    mkdir -p "$ctrd"
    cat > "$ctrd/config.toml" <<TOML
version = 2
root = "$ctrd/root"
state = "$ctrd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ctrd/containerd.sock"
TOML
    setsid containerd --config "$ctrd/config.toml" --log-level warn </dev/null >>"$ctrd/log" 2>&1 &
    echo \$! > "$ctrd/pid"
    for _ in \$(seq 200); do [ -S "$ctrd/containerd.sock" ] && ctr --address "$ctrd/containerd.sock" version >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "containerd did not start (see $ctrd/log)" >&2; return 1
}
case "\$1" in
    stop) stop ;;
    start) start ;;
    restart) stop; start ;;
esac
EOF
chmod +x "$work/containerd.sh"

# Each timed run starts from nothing, with the previous run's writes on disk (hyperfine --prepare runs this;
# a script, since -N runs commands without a shell).
cat > "$work/reset.sh" <<EOF
#!/usr/bin/env bash
case "\$1" in
    podrun) rm -rf "$work/store" ;;
    ctr) "$work/containerd.sh" restart ;;
    umoci) rm -rf "$work/bundle" ;;
esac
sync
EOF
chmod +x "$work/reset.sh"

cleanup() {
    "$work/containerd.sh" stop
    rm -rf "$ctrd" "$work/store" "$work/bundle" "$work/containerd.sh" "$work/reset.sh"
}
trap cleanup EXIT

# Check each command once before timing it.
"$work/containerd.sh" restart
ctr --address "$ctrd/containerd.sock" -n bench images import --base-name bench/image "$image/oci.tar" >/dev/null
ctr --address "$ctrd/containerd.sock" -n bench images ls -q | grep -q bench/image
rm -rf "$work/store"
"$podrun" --store "$work/store" image import "$image/oci.tar" >/dev/null
umoci unpack --image "$image/layout:bench" "$work/bundle" >/dev/null && rm -rf "$work/bundle"

hyperfine -N --style basic --runs "$runs" --export-json "$results/image-import.json" \
    --prepare "$work/reset.sh podrun" \
    -n "podrun image import" "$podrun --store $work/store image import $image/oci.tar" \
    --prepare "$work/reset.sh ctr" \
    -n "ctr images import" "ctr --address $ctrd/containerd.sock -n bench images import --base-name bench/image $image/oci.tar" \
    --prepare "$work/reset.sh umoci" \
    -n "umoci unpack" "umoci unpack --image $image/layout:bench $work/bundle"
