#!/usr/bin/env bash
# Runs the busybox bundle (bundles/busybox) with podrun and shows, from inside the container, its
# hostname (podrun-demo, from config.json), `ps` with its own process as PID 1, and its mounts.
#
#   sudo bash scripts/demo.sh
#
# PODRUN_BIN chooses the runtime binary (default .build/debug/podrun; /usr/sbin/runc works too).
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
    echo "error: containers need root: run sudo bash scripts/demo.sh" >&2
    exit 1
fi
if [ -z "${PODRUN_BIN:-}" ]; then
    bash "$root_dir/scripts/setup.sh"
    PODRUN_BIN="$root_dir/.build/debug/podrun"
else
    bash "$root_dir/scripts/setup.sh" --no-build
fi
[ -x "$PODRUN_BIN" ] || { echo "error: $PODRUN_BIN is not an executable" >&2; exit 1; }

state_dir=$(mktemp -d /tmp/podrun-demo-state.XXXXXX)
id="podrun-demo-$$"
cleanup() {
    "$PODRUN_BIN" --root "$state_dir" delete --force "$id" >/dev/null 2>&1 || true
    rm -rf "$state_dir"
}
trap cleanup EXIT

echo "==> $PODRUN_BIN --root $state_dir run --bundle bundles/busybox $id"
echo
status=0
"$PODRUN_BIN" --root "$state_dir" run --bundle "$root_dir/bundles/busybox" "$id" </dev/null || status=$?
echo
echo "==> container exited with status $status"
exit "$status"
