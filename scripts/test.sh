#!/usr/bin/env bash
# Sets the machine up (scripts/setup.sh), then runs every test: unit tests and the integration tests
# that drive the built podrun binary as root. Exits with `swift test`'s status.
#
#   sudo bash scripts/test.sh [extra `swift test` arguments, e.g. --filter IntegrationTests]
#
# The integration tests run the binary named by PODRUN_BIN (default .build/debug/podrun, then again a read-only
# copy of the static release build: see below); set PODRUN_BIN=/usr/sbin/runc to check the suite itself against
# runc, the reference.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
    echo "error: the integration tests create containers: run as root (sudo bash scripts/test.sh)" >&2
    exit 1
fi
bash "$root_dir/scripts/setup.sh" --release
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
cd "$root_dir"
if [ $# -gt 0 ]; then
    echo "==> swift test $*"
    exec swift test "$@" </dev/null
fi
# LinuxSysTests fork children that run Swift code (seccomp, capabilities): a fork while other test threads hold
# runtime locks can hang the child, so they run alone, after everything else has run in parallel.
echo "==> swift test --skip LinuxSysTests"
status=0
swift test --skip LinuxSysTests </dev/null || status=$?
# The integration tests ran the writable debug binary, which execs its init from a sealed copy of itself. An
# installed podrun that nothing can write forks its init instead, and clones a container's process straight into
# its namespaces: run the integration tests again on a read-only bind-mounted copy to cover that path too. The
# copy is of the static release build, the binary scripts/install.sh installs and the bench times, which is
# linked differently (no dynamic loader, and without some runtime constructors: scripts/release-link.ld).
if [ -z "${PODRUN_BIN:-}" ]; then
    protected=$(mktemp -d /tmp/podrun-protected-XXXXXX)
    trap 'umount "$protected" 2>/dev/null || true; rm -rf "$protected"' EXIT
    cp .build/release/podrun .build/release/podrun-pause "$protected/"
    mount --bind "$protected" "$protected"
    mount -o remount,bind,ro "$protected"
    echo "==> PODRUN_BIN=$protected/podrun (static release build, read-only mount) swift test --filter IntegrationTests"
    PODRUN_BIN="$protected/podrun" swift test --skip-build --filter IntegrationTests </dev/null || status=$?
fi
echo "==> swift test --no-parallel --filter LinuxSysTests"
swift test --skip-build --no-parallel --filter LinuxSysTests </dev/null || status=$?
exit "$status"
