#!/usr/bin/env bash
# Benchmarks podrun against runc side by side, in one run, as ratios (this machine is noisy: compare only
# within a run). Prints a table and writes the same as JSON to bench/results/latest.json.
#
#   sudo bash scripts/bench.sh [--runs N]
#
# Rows: `run` of /bin/true; create + start + wait + delete; exec of /bin/true into a running container; the
# floor the kernel sets (`unshare --fork --pid --net --ipc --uts --mount /bin/true`) and the spec floor
# (bench/spec-floor.c: the cgroup, namespace, mount, device and capability work of runc's default spec in plain
# C, with no parsing and no runtime around it); sandbox create (network
# none and bridge) against podrun's own `run`; 100 sandboxes alive at once (time per create as the count grows,
# pause's resident memory); image import of a generated multi-layer image against `ctr images import` and
# `umoci unpack` (scripts/bench-import.sh). Times are hyperfine
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

# Both runtimes installed the same way, by scripts/install.sh (4 MiB writes: the page cache then holds each
# binary in 2 MiB folios, mapped a folio per page fault; see bench/README.md, "Installing the binary"), podrun
# immutable (chattr +i), as it should be installed.
binary="$work/podrun"
bash "$root_dir/scripts/install.sh" --immutable --to "$work" >/dev/null
bash "$root_dir/scripts/install.sh" --to "$work" "$(command -v runc)" >/dev/null
# The same binary copied by `cp` (64 KiB copies: small folios), for the row that shows what the install buys.
copied="$work/cp/podrun"
[ -e "$copied" ] && chattr -i "$copied"
mkdir -p "$work/cp" && cp "$root_dir/.build/release/podrun" "$copied" && chattr +i "$copied"

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

# The spec floor, static where the C library allows it (podrun's release binary is static too).
cc_bin=$(command -v cc || command -v clang || echo /opt/swift/usr/bin/clang)
mkdir -p "$work/build"
"$cc_bin" -O2 -static -o "$work/build/spec-floor" "$root_dir/bench/spec-floor.c" 2>/dev/null \
    || "$cc_bin" -O2 -o "$work/build/spec-floor" "$root_dir/bench/spec-floor.c"
bash "$root_dir/scripts/install.sh" --to "$work" "$work/build/spec-floor" >/dev/null

# The runtimes' state on a tmpfs, where their default roots (/run/podrun, /run/runc) are on a standard Debian 12.
# This VM's /run is a journal-less ext4, where every inode freed in the last 30 s costs each new inode of its
# group a read (ext4's `recently_deleted` check), which makes any runtime's time depend on what ran before it.
state="$work/state"
umount "$state" 2>/dev/null || true
rm -rf "$state" && mkdir -p "$state"
mount -t tmpfs -o size=256m,mode=0700 podrun-bench-state "$state"
trap 'umount "$state"' EXIT
mkdir -p "$state/podrun" "$state/runc"
P="$binary --root $state/podrun --store $work/store"
R="$work/runc --root $state/runc"

cleanup() {
    $P delete -f p-exec >/dev/null 2>&1 || true
    $R delete -f r-exec >/dev/null 2>&1 || true
    for id in $($P sandbox ls -q 2>/dev/null); do $P sandbox rm --force "$id" >/dev/null 2>&1 || true; done
}
# The immutable copy is made mutable again at the end, so that the checkout can be removed like any folder.
trap 'cleanup; chattr -i "$binary" "$work/podrun-pause" "$copied"; umount "$state"' EXIT

hf() { # name, commands... ($HF_RUNS overrides the number of runs)
    local name=$1; shift
    hyperfine -N --style none --warmup 3 --runs "${HF_RUNS:-$runs}" --export-json "$work/$name.json" "$@" >/dev/null
}

echo "==> run /bin/true"
hf run "$P run --bundle $bundle p-run" "$R run --bundle $bundle r-run" \
    "unshare --fork --pid --net --ipc --uts --mount /bin/true" "$work/spec-floor $bundle/rootfs" \
    "$copied --root $state/podrun run --bundle $bundle p-run-cp"
echo "==> create + start + delete"
hf lifecycle \
    "sh -c '$P create --bundle $bundle p-cycle && $P start p-cycle && $P delete -f p-cycle'" \
    "sh -c '$R create --bundle $bundle r-cycle && $R start r-cycle && $R delete -f r-cycle'"
echo "==> exec /bin/true"
$P run -d --bundle "$sleeper" p-exec
$R run -d --bundle "$sleeper" r-exec
hf exec "$P exec p-exec /bin/true" "$R exec r-exec /bin/true"
# The same three rows again with the two runtimes alternating (bench/ab.c: runc, podrun, podrun, runc, ...; the
# median of the pairs' ratios and its quartiles), and `run` against the kernel floor likewise: hyperfine runs one
# command's runs, then the other's, so the machine's drift over those seconds lands on a row's ratio; a pair's
# two runs are milliseconds apart.
"$cc_bin" -O2 -o "$work/build/ab" "$root_dir/bench/ab.c"
paired() { # name, runc command, podrun command (each a word list)
    local name=$1; shift
    "$work/build/ab" "$runs" "$@" > "$work/paired_$name.txt"
}
paired run $R run --bundle "$bundle" r-run -- $P run --bundle "$bundle" p-run
paired lifecycle /bin/sh -c "$R create --bundle $bundle r-cycle && $R start r-cycle && $R delete -f r-cycle" \
    -- /bin/sh -c "$P create --bundle $bundle p-cycle && $P start p-cycle && $P delete -f p-cycle"
paired exec $R exec r-exec /bin/true -- $P exec p-exec /bin/true
paired floor "$(command -v unshare)" --fork --pid --net --ipc --uts --mount /bin/true -- $P run --bundle "$bundle" p-run
cleanup

echo "==> sandbox create (network none, then bridge)"
hf sandbox_none --prepare "$P sandbox rm --force b-none" "$P sandbox create --name b-none --network none"
bridge_ok=false
# The bridge goes with the last pod on it, and making it (with its masquerade rule: iptables processes) is
# what the node's first pod pays once. The row measures the pods after it: a first pod stays up meanwhile.
if $P sandbox create --name b-first --network bridge >/dev/null 2>&1; then
    bridge_ok=true
    hf sandbox_bridge --prepare "$P sandbox rm --force b-br" "$P sandbox create --name b-br --network bridge"
    $P sandbox rm --force b-br
    $P sandbox rm --force b-first
    HF_RUNS=$(( runs < 10 ? runs : 10 )) hf sandbox_first_bridge --prepare "$P sandbox rm --force b-br" \
        "$P sandbox create --name b-br --network bridge"
else
    echo "    (bridge network unavailable: row skipped)"
fi
cleanup

echo "==> 100 sandboxes alive at once (network $($bridge_ok && echo bridge || echo none))"
mode=$($bridge_ok && echo bridge || echo none)
# Time per create as the count grows: the same probe sandbox made (and removed, untimed) over and over with one
# sandbox alive, then with 100, in $scale_cycles cycles of fill and drain, so that the machine's drift over the run
# (it is noisy) falls on both counts alike. scale.txt keeps each fill create's time (cycle, count, ns).
scale_cycles=4
probe() { hf "$1" --prepare "$P sandbox rm --force b-probe" "$P sandbox create --name b-probe --network $mode"; }
rm -f "$work"/scale_*.json
$P sandbox create --name "b-scale-1" --network "$mode" >/dev/null
: > "$work/scale.txt"
for cycle in $(seq 1 $scale_cycles); do
    probe "scale_low_$cycle"
    for i in $(seq 2 99); do
        start=$(date +%s%N)
        $P sandbox create --name "b-scale-$i" --network "$mode" >/dev/null
        echo "$cycle $i $(( $(date +%s%N) - start ))" >> "$work/scale.txt"
    done
    probe "scale_high_$cycle"
    if [ "$cycle" = "$scale_cycles" ]; then
        rss_kib=0
        for pid in $($P sandbox ls --format json | jq -r '.[].pausePid'); do
            rss_kib=$(( rss_kib + $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status") ))
        done
        echo "$rss_kib" > "$work/scale-rss.txt"
    fi
    for i in $(seq 2 99); do $P sandbox rm --force "b-scale-$i" >/dev/null; done
done
cleanup

echo "==> image import (scripts/bench-import.sh)"
import_ok=false
if RUNS=$(( runs < 5 ? runs : 5 )) bash "$root_dir/scripts/bench-import.sh" "$binary" "$work/import-results"; then
    import_ok=true
fi

python3 - "$work" "$results/latest.json" "$bridge_ok" "$import_ok" <<'PY'
import json, os, statistics, sys
work, out, bridge_ok, import_ok = sys.argv[1], sys.argv[2], sys.argv[3] == "true", sys.argv[4] == "true"
def median(name, i):
    return json.load(open(f"{work}/{name}.json"))["results"][i]["median"] * 1000
rows = []
run_p, run_r, floor, spec_floor = median("run", 0), median("run", 1), median("run", 2), median("run", 3)
rows.append({"benchmark": "run /bin/true", "podrun_ms": run_p, "peer": "runc", "peer_ms": run_r, "ratio": run_p / run_r, "target": "<= 0.2"})
rows.append({"benchmark": "run /bin/true vs kernel floor", "podrun_ms": run_p, "peer": "unshare", "peer_ms": floor, "ratio": run_p / floor, "target": "<= 2"})
rows.append({"benchmark": "run /bin/true vs spec floor (C)", "podrun_ms": run_p, "peer": "spec-floor", "peer_ms": spec_floor, "ratio": run_p / spec_floor, "target": "-"})
run_cp = median("run", 4)
rows.append({"benchmark": "run, podrun copied by cp", "podrun_ms": run_cp, "peer": "install.sh", "peer_ms": run_p, "ratio": run_cp / run_p, "target": "-"})
lp, lr = median("lifecycle", 0), median("lifecycle", 1)
rows.append({"benchmark": "create+start+delete", "podrun_ms": lp, "peer": "runc", "peer_ms": lr, "ratio": lp / lr, "target": "<= 0.25"})
ep, er = median("exec", 0), median("exec", 1)
rows.append({"benchmark": "exec /bin/true", "podrun_ms": ep, "peer": "runc", "peer_ms": er, "ratio": ep / er, "target": "<= 0.25"})
sn = median("sandbox_none", 0)
rows.append({"benchmark": "sandbox create (none)", "podrun_ms": sn, "peer": "run", "peer_ms": run_p, "ratio": sn / run_p, "target": "-"})
if bridge_ok:
    sb = median("sandbox_bridge", 0)
    rows.append({"benchmark": "sandbox create (bridge)", "podrun_ms": sb, "peer": "run", "peer_ms": run_p, "ratio": sb / run_p, "target": "< 5"})
    sf = median("sandbox_first_bridge", 0)
    rows.append({"benchmark": "first pod: makes the bridge", "podrun_ms": sf, "peer": "run", "peer_ms": run_p, "ratio": sf / run_p, "target": "-"})
# The probe's create with 100 sandboxes alive against it with one alive: each cycle's two medians (taken a few
# seconds apart) give its ratio, and the row shows their geometric means (whose ratio is the geometric mean of
# the cycles' ratios), so that the machine's drift from one cycle to the next stays out of it.
cycles = sorted(int(f[len("scale_low_"):-5]) for f in os.listdir(work) if f.startswith("scale_low_") and f[len("scale_low_"):-5].isdigit())
lows = [median(f"scale_low_{c}", 0) for c in cycles]
highs = [median(f"scale_high_{c}", 0) for c in cycles]
low, high = statistics.geometric_mean(lows), statistics.geometric_mean(highs)
rows.append({"benchmark": "sandbox create, 100 alive vs 1", "podrun_ms": high, "peer": "1 alive", "peer_ms": low, "ratio": high / low, "target": "~1 (flat)",
             "cycle_ratios": [h / l for l, h in zip(lows, highs)]})
rss = int(open(f"{work}/scale-rss.txt").read()) / 1024
rows.append({"benchmark": "pause RSS, MiB each (of 100)", "podrun_ms": rss / 100, "peer": "limit", "peer_ms": 2.0, "ratio": rss / 100 / 2.0, "target": "<= 1"})
if import_ok:
    def imp(i):
        return json.load(open(f"{work}/import-results/image-import.json"))["results"][i]["median"] * 1000
    ip, ic, iu = imp(0), imp(1), imp(2)
    rows.append({"benchmark": "image import", "podrun_ms": ip, "peer": "ctr", "peer_ms": ic, "ratio": ip / ic, "target": "<= 1"})
    rows.append({"benchmark": "image import", "podrun_ms": ip, "peer": "umoci", "peer_ms": iu, "ratio": ip / iu, "target": "<= 1"})
print(f"{'benchmark':32} {'podrun ms':>10} {'peer':>10} {'peer ms':>9} {'ratio':>7}  target")
for r in rows:
    print(f"{r['benchmark']:32} {r['podrun_ms']:10.2f} {r['peer']:>10} {r['peer_ms']:9.2f} {r['ratio']:7.2f}  {r['target']}")
paired = {}
for name, label, peer in [("run", "run /bin/true", "runc"), ("lifecycle", "create+start+delete", "runc"),
                          ("exec", "exec /bin/true", "runc"), ("floor", "run /bin/true vs kernel floor", "unshare")]:
    # ab prints: A <ms> ms  B <ms> ms  B/A <ratio> (quartiles <q1> <q3>); A is the peer, B podrun.
    words = open(f"{work}/paired_{name}.txt").read().replace("(", " ").replace(")", " ").split()
    paired[label] = {"peer": peer, f"{peer}_ms": float(words[1]), "podrun_ms": float(words[4]),
                     "ratio": float(words[7]), "quartiles": [float(words[9]), float(words[10])]}
for r in rows:
    if r["benchmark"] in paired:
        r["paired"] = paired[r["benchmark"]]
json.dump({"rows": rows}, open(out, "w"), indent=2)
for peer in ["runc", "unshare"]:
    print(f"  (paired with {peer}, alternating: " + "; ".join(
        f"{label.replace(' vs kernel floor', '')} {p['ratio']:.3f} [{p['quartiles'][0]:.3f} to {p['quartiles'][1]:.3f}]"
        for label, p in paired.items() if p["peer"] == peer) + ")")
for r in rows:
    if "cycle_ratios" in r:
        print(f"  ({r['benchmark']}: per cycle " + ", ".join(f"{x:.2f}" for x in r["cycle_ratios"]) + ")")
PY
