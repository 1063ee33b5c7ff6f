#!/usr/bin/env bash
# Benchmarks podrun against runc side by side, in one run, as ratios (this machine is noisy: compare only
# within a run). Prints a table and writes the same as JSON to bench/results/latest.json.
#
#   sudo bash scripts/bench.sh [--runs N]
#
# Rows: `run` of /bin/true; create + start + wait + delete; exec of /bin/true into a running container; and the
# floor the kernel sets (`unshare --fork --pid --net --ipc --uts --mount /bin/true`). Times are hyperfine
# medians. podrun runs from an immutable installed copy (chattr +i), the way it should be installed: the init
# is then forked instead of exec'd from a sealed memfd copy (see README).
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=30
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        *) echo "error: unknown option $1" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "error: run as root" >&2; exit 1; }

bash "$root_dir/scripts/setup.sh" --release >/dev/null
work="$root_dir/bench/work"
results="$root_dir/bench/results"
mkdir -p "$work" "$results"

# An immutable installed copy of the release binary.
binary="$work/podrun"
[ -e "$binary" ] && chattr -i "$binary"
cp "$root_dir/.build/release/podrun" "$binary"
chattr +i "$binary"

# A bundle running /bin/true, with a real (not symlinked) rootfs, as runc requires.
bundle="$work/bundle"
rm -rf "$bundle" && mkdir -p "$bundle"
cp -a "$root_dir/fixtures/busybox" "$bundle/rootfs"
( cd "$bundle" && rm -f config.json && runc spec )
jq '.process.terminal=false | .process.args=["/bin/true"]' "$bundle/config.json" > "$bundle/c.json"
mv "$bundle/c.json" "$bundle/config.json"
sleeper="$work/sleeper"
rm -rf "$sleeper" && mkdir -p "$sleeper"
cp -a "$bundle/rootfs" "$sleeper/rootfs"
jq '.process.args=["sleep","100000"]' "$bundle/config.json" > "$sleeper/config.json"

state="$work/state"
rm -rf "$state" && mkdir -p "$state/podrun" "$state/runc"
P="$binary --root $state/podrun"
R="runc --root $state/runc"

cleanup() {
    $P delete -f p-exec >/dev/null 2>&1 || true
    $R delete -f r-exec >/dev/null 2>&1 || true
}
trap cleanup EXIT

hf() { # name, commands...
    local name=$1; shift
    hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$work/$name.json" "$@" >/dev/null
}

echo "==> run /bin/true"
hf run "$P run --bundle $bundle p-run" "$R run --bundle $bundle r-run" \
    "unshare --fork --pid --net --ipc --uts --mount /bin/true"
echo "==> create + start + delete"
hf lifecycle \
    "sh -c '$P create --bundle $bundle p-cycle && $P start p-cycle && $P delete -f p-cycle'" \
    "sh -c '$R create --bundle $bundle r-cycle && $R start r-cycle && $R delete -f r-cycle'"
echo "==> exec /bin/true"
$P run -d --bundle "$sleeper" p-exec
$R run -d --bundle "$sleeper" r-exec
hf exec "$P exec p-exec /bin/true" "$R exec r-exec /bin/true"
cleanup

python3 - "$work" "$results/latest.json" <<'PY'
import json, sys
work, out = sys.argv[1], sys.argv[2]
def median(name, i):
    return json.load(open(f"{work}/{name}.json"))["results"][i]["median"] * 1000
rows = []
run_p, run_r, floor = median("run", 0), median("run", 1), median("run", 2)
rows.append({"benchmark": "run /bin/true", "podrun_ms": run_p, "peer": "runc", "peer_ms": run_r, "ratio": run_p / run_r, "target": "<= 0.2"})
rows.append({"benchmark": "run /bin/true vs kernel floor", "podrun_ms": run_p, "peer": "unshare", "peer_ms": floor, "ratio": run_p / floor, "target": "<= 2"})
lp, lr = median("lifecycle", 0), median("lifecycle", 1)
rows.append({"benchmark": "create+start+delete", "podrun_ms": lp, "peer": "runc", "peer_ms": lr, "ratio": lp / lr, "target": "<= 0.25"})
ep, er = median("exec", 0), median("exec", 1)
rows.append({"benchmark": "exec /bin/true", "podrun_ms": ep, "peer": "runc", "peer_ms": er, "ratio": ep / er, "target": "<= 0.25"})
json.dump({"rows": rows}, open(out, "w"), indent=2)
print(f"{'benchmark':32} {'podrun ms':>10} {'peer':>8} {'peer ms':>9} {'ratio':>7}  target")
for r in rows:
    print(f"{r['benchmark']:32} {r['podrun_ms']:10.2f} {r['peer']:>8} {r['peer_ms']:9.2f} {r['ratio']:7.2f}  {r['target']}")
PY
