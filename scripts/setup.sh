#!/usr/bin/env bash
# Prepares this machine to build, test and demo podrun. Idempotent: run it as often as you like.
#
#   sudo bash scripts/setup.sh [--release] [--no-build]
#
#   --release   also build a fully static release binary (.build/release/podrun): no dynamic loader, no
#               shared libraries to map and relocate at each start (see bench/README.md)
#   --no-build  install packages and fixtures only; do not run `swift build`
#
# Steps: install the Debian packages the build and the tests need (apt-get update + install, only
# when one is missing), find Swift (PATH, else /opt/swift/usr/bin), build podrun (debug), build the
# busybox fixture rootfs into fixtures/busybox and bundles/busybox/rootfs.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
release=false
build=true
for arg in "$@"; do
    case "$arg" in
        --release) release=true ;;
        --no-build) build=false ;;
        -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown option $arg (see --help)" >&2; exit 2 ;;
    esac
done

log() { echo "==> $*"; }

# --- Debian packages ------------------------------------------------------------------------------
# build: C libraries the Swift package links (libseccomp, libcap, libarchive) found by pkg-config, and the
# static archives of libarchive's dependencies for the static release binary (acl, zstd, lz4).
# tests and demo: reference runtimes (runc, crun), containerd (its runc shim drives podrun), the
# busybox fixture, image tools, benchmarks, JSON, networking and process tools, unshare/nsenter.
packages=(
    libseccomp-dev libcap-dev libarchive-dev pkg-config
    libacl1-dev libzstd-dev liblz4-dev
    runc crun containerd
    busybox-static util-linux procps iproute2 iptables containernetworking-plugins
    umoci skopeo
    hyperfine jq python3 curl
    git ca-certificates
)

missing=()
for p in "${packages[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: missing Debian packages (${missing[*]}) and not root: run this script with sudo" >&2
        exit 1
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${packages[@]}"
else
    log "Debian packages: all ${#packages[@]} installed"
fi

# --- Swift ----------------------------------------------------------------------------------------
if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    else
        echo "error: swift not found on PATH nor in /opt/swift/usr/bin; install Swift 6.x (https://www.swift.org/install/linux/) and put it on PATH" >&2
        exit 1
    fi
fi
log "swift: $(swift --version 2>&1 | head -n1)"

# --- build ----------------------------------------------------------------------------------------
cd "$root_dir"
if $build; then
    log "swift build (debug)"
    swift build
    if $release; then
        # A static executable starts in about 1 ms where the static-stdlib PIE took 6 to 7: no ld.so, no 19
        # shared libraries (libarchive's tree alone cost about 0.8 ms), no relative relocations. The C
        # libraries go in as archives, in one group since they refer to each other.
        static_libs=(archive nettle acl lzma zstd lz4 bz2 z xml2 icui18n icuuc icudata seccomp cap stdc++ m)
        link_flags=(-Xlinker --start-group)
        for l in "${static_libs[@]}"; do link_flags+=(-Xlinker "-l$l"); done
        link_flags+=(-Xlinker --end-group)
        log "swift build -c release -static-executable"
        swift build -c release -Xswiftc -static-executable "${link_flags[@]}"
    fi
fi

# --- fixtures -------------------------------------------------------------------------------------
log "busybox rootfs fixtures"
bash "$root_dir/scripts/make-busybox-rootfs.sh" "$root_dir/fixtures/busybox"
bash "$root_dir/scripts/make-busybox-rootfs.sh" "$root_dir/bundles/busybox/rootfs"
log "setup done"
