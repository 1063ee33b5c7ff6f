#!/usr/bin/env bash
# Installs podrun and podrun-pause into a folder (default /usr/local/bin).
#
#   sudo bash scripts/install.sh [--to DIR] [--immutable] [FILE...]
#
# FILEs default to the static release build, .build/release/podrun and .build/release/podrun-pause
# (`scripts/setup.sh --release` builds them); podrun looks for podrun-pause beside itself. Each file is written
# with dd in 4 MiB blocks (a file named podrun-pause in 64 KiB ones, see below) to a temporary name in DIR, made
# executable, and renamed over the old one, so that a podrun that is running keeps the file it started from.
# --immutable makes each installed file immutable (chattr +i), which is how podrun should be installed: its init
# is then forked rather than run from a sealed memfd copy of the binary (README.md, "CLI reference"); an immutable
# file it replaces is made mutable first, once the new one is written.
#
# Why 4 MiB blocks: the page cache keeps a file in folios as large as the writes that filled it (ext4 and most
# file systems on Linux 6.x), and Linux 6.18 maps a whole large folio in one page fault. Written by `cp` or
# `install` (64 KiB copies), podrun's 17 MB of code is cached in small folios and every podrun start takes about
# 100 page faults to map the code it runs (4 us each on a VM), its container's process as many again; in 2 MiB
# folios it takes a few (bench/README.md, "Installing the binary"). Once memory pressure evicts the file, the
# kernel reads it back in small folios; installing it again restores them. podrun-pause is written in 64 KiB
# blocks: it stays resident for a pod's whole life, and a process's resident size counts every page of the
# folios it maps (1.2 MiB each in small folios, 4.8 MiB in 2 MiB ones).
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=/usr/local/bin
immutable=false
files=()
while [ $# -gt 0 ]; do
    case "$1" in
        --to) dest="$2"; shift 2 ;;
        --immutable) immutable=true; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "error: unknown option $1" >&2; exit 2 ;;
        *) files+=("$1"); shift ;;
    esac
done
[ ${#files[@]} -gt 0 ] || files=("$root_dir/.build/release/podrun" "$root_dir/.build/release/podrun-pause")

for file in "${files[@]}"; do
    [ -f "$file" ] || { echo "error: $file: no such file (build it with: bash scripts/setup.sh --release)" >&2; exit 1; }
done
mkdir -p "$dest"
for file in "${files[@]}"; do
    name=$(basename "$file")
    size=4M
    [ "$name" = podrun-pause ] && size=64K
    target="$dest/$name"
    staged=$(mktemp "$dest/.$name.XXXXXX")
    # An immutable old file is made mutable only once the new one is written, so a failure leaves it as it was.
    if ! { dd if="$file" of="$staged" bs="$size" conv=fsync status=none && chmod 0755 "$staged" \
        && { [ ! -e "$target" ] || chattr -i "$target" 2>/dev/null || true; } \
        && mv -f "$staged" "$target" && { ! $immutable || chattr +i "$target"; }; }; then
        rm -f "$staged"
        echo "error: could not install $file as $target" >&2
        exit 1
    fi
    echo "$target"
done
