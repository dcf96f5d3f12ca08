#!/usr/bin/env bash
# Every check of the launch kit, one after the other; prints one PASS/FAIL line per check and a closing
# "cluster: N passed, N failed". Needs root for the two live tests (network namespaces, Slurm daemons).
#
#   sudo bash cluster/test-all.sh            # ~1 minute after the build (measured: netns 26 s, Slurm 14 s)
#   CLUSTER_TESTS="netns systemd" bash cluster/test-all.sh
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
if [ -z "${LUMIERE_BIN:-}" ]; then
    (cd "$repo" && swift build -c release --scratch-path .build-cluster --product lumiere-coordinator >/dev/null \
        && swift build -c release --scratch-path .build-cluster --product lumiere-worker >/dev/null) || { echo "FAIL: build"; exit 1; }
    export LUMIERE_BIN="$repo/.build-cluster/release"
fi
passed=0; failed=0
run() { # NAME COMMAND...
    local name="$1" start=$SECONDS; shift
    if "$@" >"/tmp/lumiere-cluster-$name.log" 2>&1; then
        passed=$((passed + 1)); echo "PASS $name ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1)); echo "FAIL $name ($((SECONDS - start)) s):"; tail -n 40 "/tmp/lumiere-cluster-$name.log"
    fi
}
for t in ${CLUSTER_TESTS:-systemd kubernetes netns slurm}; do
    case "$t" in
        systemd) run systemd bash "$here/systemd/verify.sh" ;;
        kubernetes) run kubernetes bash "$here/kubernetes/validate.sh" ;;
        netns) run netns bash "$here/netns/multihost-test.sh" ;;
        slurm) run slurm bash "$here/slurm/test-single-node.sh" ;;
        *) echo "unknown test $t"; failed=$((failed + 1)) ;;
    esac
done
echo "cluster: $passed passed, $failed failed"
[ "$failed" = 0 ]
