#!/usr/bin/env bash
# Static checks of the systemd units: `systemd-analyze verify` (syntax, keys, specifiers, executables) must
# print nothing, and `systemd-analyze security --offline` must rate both units "OK" or better (exposure < 4).
# It does not start them: that needs systemd as PID 1 (see docs/operations.md for a manual check on a real host).
#
#   bash cluster/systemd/verify.sh      # needs systemd-analyze (Debian: systemd); LUMIERE_BIN as for the tests
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${LUMIERE_BIN:-$here/../../.build-cluster/release}"
command -v systemd-analyze >/dev/null || { echo "FAIL: needs systemd-analyze (apt-get install systemd)"; exit 1; }
[ -x "$bin/lumiere-worker" ] || { echo "FAIL: no lumiere-worker in $bin (build it, or set LUMIERE_BIN)"; exit 1; }
t="$(mktemp -d)"; trap 'rm -rf "$t"' EXIT
cp "$here"/*.service "$t/"
# verify checks that ExecStart= points at an executable: use the ones just built instead of /usr/local/bin.
sed -i "s|/usr/local/bin/|$(cd "$bin" && pwd)/|" "$t"/*.service
# The scratch-disk drop-in, applied: the worker unit with the drop-in's [Service] lines appended (an empty
# ExecStart= resets the list, as in a real drop-in).
cp "$t/lumiere-worker@.service" "$t/lumiere-worker-scratch@.service"
sed -n '/^\[Service\]/,$p' "$here/examples/scratch-disk.conf" | sed "s|/usr/local/bin/|$(cd "$bin" && pwd)/|" \
    >>"$t/lumiere-worker-scratch@.service"
status=0
out="$(cd "$t" && systemd-analyze verify lumiere-worker@1.service lumiere-coordinator@job.service \
    lumiere-worker-scratch@1.service 2>&1)" || status=1
if [ -n "$out" ] || [ $status != 0 ]; then echo "$out"; echo "FAIL: systemd-analyze verify"; exit 1; fi
echo "PASS: systemd-analyze verify lumiere-worker@1.service lumiere-coordinator@job.service lumiere-worker@1 + scratch-disk.conf (no findings)"
for unit in lumiere-worker@.service lumiere-coordinator@.service; do
    line="$(cd "$t" && systemd-analyze security --offline=true "$unit" 2>&1 | grep 'Overall exposure level')"
    score="$(echo "$line" | grep -o 'level for [^ ]*: [0-9.]*' | awk '{print $NF}')"
    if awk -v s="$score" 'BEGIN { exit !(s != "" && s < 4.0) }'; then echo "PASS: $line"; else echo "FAIL: $line"; status=1; fi
done
exit $status
