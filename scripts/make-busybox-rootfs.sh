#!/usr/bin/env bash
# Builds a minimal busybox root filesystem in DIR from Debian's busybox-static.
#
#   scripts/make-busybox-rootfs.sh DIR
#
# DIR gets bin/busybox, one symlink per applet in bin/ (from `busybox --list`), /etc/passwd and
# /etc/group (root, nobody, a test user `tester` 1000:1000, a group `testgrp` with gid 1001) and the
# empty folders proc sys dev tmp etc root home. Idempotent: running it again on the same DIR brings
# it back to that state without failing. The rootfs is built in a sibling temporary folder and
# renamed into place, so a reader never sees a half-built DIR.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
busybox=/bin/busybox

if [ ! -x "$busybox" ] || ! applets=$("$busybox" --list 2>/dev/null) || [ -z "$applets" ]; then
    echo "error: $busybox (Debian package busybox-static) is missing; install it with: apt-get install -y busybox-static" >&2
    exit 1
fi
# busybox-static links statically: a dynamic busybox would not run inside an empty rootfs.
if command -v ldd >/dev/null 2>&1 && ldd "$busybox" 2>&1 | grep -q '=>'; then
    echo "error: $busybox is dynamically linked; install the Debian package busybox-static" >&2
    exit 1
fi

populate() {
    local root=$1
    mkdir -p "$root"/{bin,proc,sys,dev,tmp,etc,root,home/tester}
    chmod 1777 "$root/tmp"
    chmod 0700 "$root/root"
    install -m 0755 "$busybox" "$root/bin/busybox.new"
    mv -f "$root/bin/busybox.new" "$root/bin/busybox"
    local applet
    for applet in $("$busybox" --list); do
        [ "$applet" = busybox ] && continue
        ln -sfn busybox "$root/bin/$applet"
    done
    cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:tester:/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
    cat > "$root/etc/group" <<'GROUP'
root:x:0:
tester:x:1000:
testgrp:x:1001:tester
nogroup:x:65534:
GROUP
    chown 1000:1000 "$root/home/tester"
}

if [ -d "$dir" ]; then
    # Already there: bring it up to date in place (every step above is idempotent).
    populate "$dir"
else
    mkdir -p "$(dirname "$dir")"
    tmp=$(mktemp -d "$(dirname "$dir")/.$(basename "$dir").XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    populate "$tmp"
    chmod 0755 "$tmp"
    if ! mv -T "$tmp" "$dir" 2>/dev/null; then
        # Someone else made DIR meanwhile: theirs is as good as ours.
        [ -d "$dir" ] || { echo "error: cannot create $dir" >&2; exit 1; }
    fi
    trap - EXIT
    rm -rf "$tmp"
fi
echo "busybox rootfs ready in $dir"
