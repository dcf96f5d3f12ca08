#!/usr/bin/env bash
# Lumière's reliability and security suite (issue 8), from one command:
#
#   sudo bash faults/run-all.sh                 # everything below; prints the table; exit 0 only if every row is yes
#   FAULT_ONLY="farm media" bash faults/run-all.sh   # a subset: farm network rogue media models resume fuzz soak sanitizers
#
# Rows: a fault-free reference (run twice: deterministic), farm faults (SIGKILL of a worker, of all workers,
# a 10x straggler), network faults between namespaces (10 s cut, permanent cut) and rogue peers, hostile media
# and model files, coordinator SIGKILL + resume and disk full (job journal), libFuzzer on the message decoder,
# a soak run with simulated workers, and the test suite under ASan/TSan. Every fault run's final output is
# compared byte for byte with the fault-free reference.
#
# Environment: LUMIERE_BIN (directory with lumiere-coordinator and lumiere-worker; default: build them with
# `swift build -c release --scratch-path .build-faults`), LUMIERE_FOOTAGE (default ../shared/footage),
# FAULT_JOB_TIMEOUT (s per job, 600), FUZZ_SECONDS (300), SOAK_MINUTES (10), SOAK_WORKERS (200),
# KEEP=1 keeps the work directory. Needs root + iproute2 for the network rows, python3 with pyzmq for rogue peers.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FOOTAGE="${LUMIERE_FOOTAGE:-$REPO/../shared/footage}"
FAULT_INPUT="$FOOTAGE/oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv"
# Without ../shared: the copy scripts/setup.sh puts in footage/ (the farm, network and resume rows need only this film).
[ -f "$FAULT_INPUT" ] || [ -n "${LUMIERE_FOOTAGE:-}" ] || FAULT_INPUT="$REPO/footage/Shepard_Calais_1906_FrenchGP.160p.ogv"
FAULT_JOB_TIMEOUT="${FAULT_JOB_TIMEOUT:-600}"
FAULT_ONLY="${FAULT_ONLY:-farm network rogue media models resume fuzz soak sanitizers}"
FAULT_STARTED=$SECONDS
export LUMIERE_FOOTAGE="$FOOTAGE"

source "$REPO/faults/lib.sh"
source "$REPO/faults/farm-faults.sh"
source "$REPO/faults/network-faults.sh"
source "$REPO/faults/hostile-input.sh"
source "$REPO/faults/resume-faults.sh"
source "$REPO/faults/checks.sh"

want() { [[ " $FAULT_ONLY " == *" $1 "* ]]; }

[ -f "$FAULT_INPUT" ] || { echo "footage missing: $FAULT_INPUT (set LUMIERE_FOOTAGE)"; exit 2; }
if [ -z "${LUMIERE_BIN:-}" ]; then
    say "building lumiere-coordinator and lumiere-worker (release, .build-faults)"
    (cd "$REPO" && swift build -c release --scratch-path .build-faults --product lumiere-coordinator >/dev/null \
        && swift build -c release --scratch-path .build-faults --product lumiere-worker >/dev/null) || { echo "build failed"; exit 2; }
    LUMIERE_BIN="$REPO/.build-faults/release"
fi
BIN="$LUMIERE_BIN"
[ -x "$BIN/lumiere-coordinator" ] && [ -x "$BIN/lumiere-worker" ] || { echo "no executables in $BIN"; exit 2; }

WORK="$(mktemp -d /tmp/lumiere-faults.XXXXXX)"
NETNS_READY=0
cleanup() {
    kill_remembered
    [ "$NETNS_READY" = 1 ] && lum_net_teardown
    [ -n "${TMPFS_DIR:-}" ] && umount "$TMPFS_DIR" 2>/dev/null
    if [ "${KEEP:-0}" = 1 ] || [ "$FAILED" = 1 ]; then say "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "work directory $WORK; input $(basename "$FAULT_INPUT"); binaries $BIN"
fault_reference || { print_table; exit 1; }

if want farm; then
    fault_worker_sigkill
    fault_all_workers_sigkill
    fault_straggler
fi
if want network || want rogue; then
    if [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
        netns_setup
        if want network; then fault_network_cut 10; fault_network_cut permanent; fi
        want rogue && fault_rogue_peers
    else
        row "network cut / rogue peers" "not run: needs root and iproute2 (network namespaces)" no
    fi
fi
want media && fault_hostile_media
want models && fault_hostile_models
if want resume; then fault_coordinator_sigkill_resume; fault_disk_full; fi
want fuzz && check_fuzzer
want soak && check_soak
want sanitizers && check_sanitizers

print_table
say "suite took $((SECONDS - FAULT_STARTED)) s"
[ "$FAILED" = 0 ]
