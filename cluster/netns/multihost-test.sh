#!/usr/bin/env bash
# Multi-host test on one machine: a coordinator and 3 workers, each in its own network namespace with its
# own 10.200.0.x address, on a bridge that lives in a namespace of its own. They talk TCP with CURVE keys
# generated here; a real restore must complete with the right frame count, and every worker must have done
# work. A 4th worker with a key the coordinator does not know must get nothing.
#
#   sudo bash cluster/netns/multihost-test.sh          # needs root and iproute2; prints PASS/FAIL lines
#
# Environment: LUMIERE_BIN (directory holding lumiere-coordinator and lumiere-worker; default: build with
# `swift build -c release --scratch-path .build-cluster`), LUMIERE_FOOTAGE (default ../shared/footage),
# MULTIHOST_TIMEOUT (seconds for the job, default 300), MULTIHOST_MODEL (restore --model; default lanczos, which
# keeps the test about the farm and quick: a neural model takes minutes here), KEEP=1 keeps the temporary directory.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
footage="${LUMIERE_FOOTAGE:-$repo/../shared/footage}"
input="$footage/oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv"
# Without ../shared: the copy scripts/setup.sh puts in footage/ (from Debian's python-nbsphinx-doc).
[ -f "$input" ] || [ -n "${LUMIERE_FOOTAGE:-}" ] || input="$repo/footage/Shepard_Calais_1906_FrenchGP.160p.ogv"
timeout_s="${MULTIHOST_TIMEOUT:-300}"
model="${MULTIHOST_MODEL:-lanczos}"
started=$SECONDS

# probe FILE KEY: one field of the first video stream (frames are counted by decoding).
probe() { ffprobe -v error -count_frames -select_streams v:0 -show_entries "stream=$2" -of default=nw=1 "$1" | sed -n "s/^$2=//p" | head -n 1; }
say() { printf '[multihost %3ds] %s\n' $((SECONDS - started)) "$*"; }
fail() { say "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (network namespaces); run it with sudo"
command -v ip >/dev/null || fail "needs iproute2 (apt-get install iproute2)"
command -v ffprobe >/dev/null || fail "needs ffprobe (apt-get install ffmpeg)"
[ -f "$input" ] || fail "footage missing: $input (set LUMIERE_FOOTAGE)"

if [ -z "${LUMIERE_BIN:-}" ]; then
    say "building lumiere-coordinator and lumiere-worker (release)"
    (cd "$repo" && swift build -c release --scratch-path .build-cluster --product lumiere-coordinator >/dev/null \
        && swift build -c release --scratch-path .build-cluster --product lumiere-worker >/dev/null)
    LUMIERE_BIN="$repo/.build-cluster/release"
fi
coordinator="$LUMIERE_BIN/lumiere-coordinator"
worker="$LUMIERE_BIN/lumiere-worker"
[ -x "$coordinator" ] && [ -x "$worker" ] || fail "no executables in $LUMIERE_BIN"

work="$(mktemp -d /tmp/lumiere-multihost.XXXXXX)"
source "$repo/cluster/netns/lib.sh"
cleanup() {
    local rc=$?
    lum_net_teardown
    if [ "${KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then say "logs kept in $work"; else rm -rf "$work"; fi
    say "namespaces removed; took $((SECONDS - started)) s"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the LAN --------------------------------------------------------------------------------------------
lum_net_init
lum_net_add_host head 1
for i in 1 2 3; do lum_net_add_host "w$i" $((10 + i)); done
lum_net_add_host rogue 66
say "namespaces up: head=$(lum_net_addr head) w1=$(lum_net_addr w1) w2=$(lum_net_addr w2) w3=$(lum_net_addr w3) rogue=$(lum_net_addr rogue)"

# --- keys: one pair for the coordinator, one per worker; only w1..w3 are allowed ---------------------------
umask 077
mkdir -p "$work/keys/allowed" "$work/keys/secret" "$work/keys/rogue"
"$coordinator" keygen --name coordinator --output-dir "$work/keys/secret" >/dev/null
for i in 1 2 3; do
    "$coordinator" keygen --name "w$i" --output-dir "$work/keys/secret" >/dev/null
    cp "$work/keys/secret/w$i.pub" "$work/keys/allowed/"
done
"$coordinator" keygen --name rogue --output-dir "$work/keys/rogue" >/dev/null
[ "$(stat -c %a "$work/keys/secret/w1.key")" = 600 ] || fail "secret key file is not mode 0600"
say "CURVE keys generated (coordinator + w1..w3 allowed, rogue not)"

# --- coordinator on 10.200.0.1 ---------------------------------------------------------------------------
port=5555
lum_net_exec head timeout "$timeout_s" "$coordinator" restore "$input" -o "$work/out/calais-x2.mp4" --scale 2 \
    --model "$model" --segment-seconds 1 --bind "tcp://10.200.0.1:$port" --workers 0 \
    --key "$work/keys/secret/coordinator.key" --allow-keys "$work/keys/allowed" \
    --job-dir "$work/job" --log-level info >"$work/coordinator.log" 2>&1 &
coordinator_pid=$!

# --- workers: each in its own namespace, reaching the head over the bridge ------------------------------------
start_worker() { # NAME KEYFILE
    lum_net_exec "$1" "$worker" --connect "tcp://10.200.0.1:$port" --threads 1 --name "$1" \
        --key "$2" --server-key "$work/keys/secret/coordinator.pub" --work-dir "$work/scratch-$1" \
        --log-level info >"$work/$1.log" 2>&1 &
    worker_pids+=($!)
}
worker_pids=()
mkdir -p "$work/out"
for i in 1 2 3; do start_worker "w$i" "$work/keys/secret/w$i.key"; done
start_worker rogue "$work/keys/rogue/rogue.key"
say "coordinator (pid $coordinator_pid, --model $model) and 4 workers started; waiting for the job (limit ${timeout_s} s)"

set +e
wait "$coordinator_pid"
coordinator_rc=$?
set -e
say "coordinator exited with status $coordinator_rc"

# Workers never leave on their own (they wait for the next job): ask them to (SIGTERM once = leave when idle).
kill -TERM "${worker_pids[@]}" 2>/dev/null || true
for pid in "${worker_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
still=0; for pid in "${worker_pids[@]}"; do kill -0 "$pid" 2>/dev/null && still=$((still + 1)); done
say "workers asked to leave; $still still running after 5 s"

# --- checks ------------------------------------------------------------------------------------------------
status=0
check() { if eval "$2"; then say "PASS: $1"; else say "FAIL: $1"; status=1; fi; }
show_logs() { for f in coordinator w1 w2 w3 rogue; do echo "--- $f.log (tail)"; tail -n 15 "$work/$f.log"; done; }

check "coordinator exit status 0" '[ "$coordinator_rc" = 0 ]'
check "coordinator bound with CURVE on 10.200.0.1:$port" "grep -q 'listening on tcp://10.200.0.1:$port (CURVE)' '$work/coordinator.log'"
expected=$(probe "$input" nb_read_frames)
if [ -f "$work/out/calais-x2.mp4" ]; then
    frames=$(probe "$work/out/calais-x2.mp4" nb_read_frames)
    size=$(probe "$work/out/calais-x2.mp4" width)x$(probe "$work/out/calais-x2.mp4" height)
else
    frames=none; size=none
fi
say "output: $frames frames (input $expected), $size"
check "output has the input's frame count ($expected)" '[ "$frames" = "$expected" ]'
check "output is 2x the 214x160 input (428x320)" '[ "$size" = 428x320 ]'
segments=$(grep -c 'assigning ' "$work/coordinator.log" || true)
say "coordinator made $segments assignments"
for i in 1 2 3; do
    n=$(grep -c 'assigned ' "$work/w$i.log" || true)
    say "w$i ($(lum_net_addr "w$i")): $n segments assigned"
    check "w$i did work" '[ "$n" -ge 1 ]'
done
check "rogue worker (unknown key) got no work" "! grep -q 'assigned ' '$work/rogue.log'"
check "coordinator refused the rogue's key (from 10.200.0.66)" "grep -q 'refused worker key .* from 10.200.0.66' '$work/coordinator.log'"
check "workers left on SIGTERM" '[ "$still" = 0 ]'
[ $status = 0 ] || show_logs
if [ $status = 0 ]; then say "PASS multihost: $frames frames, 3 workers over TCP+CURVE in 4 namespaces"; else say "FAIL multihost"; fi
exit $status
