#!/usr/bin/env bash
# The demo: a pod of two busybox containers talking over localhost, with its own IP on the podrun0 bridge.
#
#   sudo bash scripts/demo.sh [--network bridge|none|cni]
#
# 1. sets the machine up and builds podrun (scripts/setup.sh);
# 2. builds the busybox image from Debian's busybox-static (scripts/make-busybox-image.sh) and imports it;
# 3. creates a pod sandbox (pause holds its net, ipc and uts namespaces; the bridge network gives it an IP);
# 4. runs `web` (httpd on port 8080) in the pod, then `client`, which fetches http://127.0.0.1:8080/ -
#    localhost of the pod, shared by both containers - and prints the pod's hostname and eth0 address;
# 5. fetches the page from the host through the pod's IP, then removes the pod (nothing is left behind).
#
# State goes to a private --root and --store under /tmp, removed at the end.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
network=bridge
while [ $# -gt 0 ]; do
    case "$1" in
        --network) network="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "error: pods need root: run sudo bash scripts/demo.sh" >&2
    exit 1
fi
bash "$root_dir/scripts/setup.sh"
podrun_bin="$root_dir/.build/debug/podrun"

work=$(mktemp -d /tmp/podrun-demo.XXXXXX)
podrun() { "$podrun_bin" --root "$work/state" --store "$work/store" "$@"; }
pod=demo-pod
cleanup() {
    podrun sandbox rm --force "$pod" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
step() { echo; echo "==> $*"; }

image="$root_dir/fixtures/busybox-image.tar"
[ -s "$image" ] || bash "$root_dir/scripts/make-busybox-image.sh" "$image"
step "podrun image import --name podrun/busybox fixtures/busybox-image.tar"
podrun image import --name podrun/busybox "$image"

step "podrun sandbox create --name $pod --hostname demo-pod --network $network"
podrun sandbox create --name "$pod" --hostname demo-pod --network "$network"
ip=$(podrun sandbox inspect "$pod" | jq -r '.sandbox.network.ip // empty')
echo "pod IP: ${ip:-none (network $network)}"

step "podrun run --detach --sandbox $pod --image podrun/busybox --name web -- httpd -f -p 8080 -h /www"
podrun run --detach --sandbox "$pod" --image podrun/busybox --name web -- \
    sh -c 'mkdir -p /www && echo "hello from web, pod $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www'

step "podrun run --sandbox $pod --image podrun/busybox --name client -- wget -q -O - http://127.0.0.1:8080/"
podrun run --sandbox "$pod" --image podrun/busybox --name client -- sh -c '
    for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:8080/ && break; sleep 0.2; done
    echo "client: hostname $(hostname), eth0 $(ip -4 -o addr show eth0 2>/dev/null | awk "{print \$4}")"'

if [ -n "$ip" ]; then
    step "from the host: wget -q -O - http://${ip%/*}:8080/"
    "$root_dir/fixtures/busybox/bin/busybox" wget -q -O - "http://${ip%/*}:8080/"
fi

step "podrun sandbox ls; podrun list"
podrun sandbox ls
podrun list

step "podrun sandbox rm --force $pod"
podrun sandbox rm --force "$pod"
echo "removed: no pause, namespaces, cgroups, veth or IP left"
