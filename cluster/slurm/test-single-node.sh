#!/usr/bin/env bash
# Real Slurm test on one machine: stands up munge + slurmctld + slurmd (no systemd needed) in a temporary
# directory, submits cluster/slurm/lumiere-restore.sbatch with sbatch (1 coordinator task + 2 worker tasks,
# CURVE keys made inside the job), checks the restored film (frame count and size), and tears everything down.
#
#   sudo bash cluster/slurm/test-single-node.sh     # root; installs slurm-wlm and munge with apt when missing
#
# Environment: LUMIERE_BIN (directory with the executables; default: release build in .build-cluster),
# LUMIERE_FOOTAGE (default ../shared/footage), SLURM_TEST_TIMEOUT (seconds for the job, default 300),
# SLURM_TEST_PORT (slurmctld port; slurmd uses the next one; default 16817), SLURM_TEST_MODEL (restore --model,
# default lanczos: quick; a neural model takes minutes here), KEEP=1 keeps the directory.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
footage="${LUMIERE_FOOTAGE:-$repo/../shared/footage}"
film="$footage/video/pens.mp4"
timeout_s="${SLURM_TEST_TIMEOUT:-300}"
ctld_port="${SLURM_TEST_PORT:-16817}"
started=$SECONDS
# probe FILE KEY: one field of the first video stream (frames are counted by decoding).
probe() { ffprobe -v error -count_frames -select_streams v:0 -show_entries "stream=$2" -of default=nw=1 "$1" | sed -n "s/^$2=//p" | head -n 1; }
say() { printf '[slurm-test %3ds] %s\n' $((SECONDS - started)) "$*"; }
fail() { say "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (slurmd and munged run here as services); run it with sudo"
[ -f "$film" ] || fail "footage missing: $film (set LUMIERE_FOOTAGE)"
command -v ffprobe >/dev/null || fail "needs ffprobe (apt-get install ffmpeg)"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

if [ -z "${LUMIERE_BIN:-}" ]; then
    say "building lumiere-coordinator and lumiere-worker (release)"
    (cd "$repo" && swift build -c release --scratch-path .build-cluster --product lumiere-coordinator >/dev/null \
        && swift build -c release --scratch-path .build-cluster --product lumiere-worker >/dev/null)
    LUMIERE_BIN="$repo/.build-cluster/release"
fi
[ -x "$LUMIERE_BIN/lumiere-coordinator" ] && [ -x "$LUMIERE_BIN/lumiere-worker" ] || fail "no executables in $LUMIERE_BIN"

t="$(mktemp -d /tmp/lumiere-slurm.XXXXXX)"
chmod 755 "$t"
pids=()
cleanup() {
    local rc=$? pid
    # Only the daemons this script started, newest first; then their leftovers are gone with the directory.
    # Jobs first (their slurmstepd processes outlive slurmd), while slurmctld and munge still answer.
    if [ -n "${SLURM_CONF:-}" ] && squeue -h -o %i >/dev/null 2>&1; then
        squeue -h -o %i | xargs -r scancel 2>/dev/null || true
        for _ in $(seq 150); do squeue -h -o %i 2>/dev/null | grep -q . || break; sleep 0.1; done
    fi
    # One at a time, so slurmd and slurmctld still have munge while they shut down.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        pid="${pids[$i]}"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then say "files kept in $t"; else rm -rf "$t"; fi
    say "slurmctld, slurmd and munged stopped; took $((SECONDS - started)) s"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- munge: our own key and socket, so a munged already on the machine is left alone ----------------------
install -d -o munge -g munge -m 0700 "$t/munge"
install -d -o munge -g munge -m 0755 "$t/munge-run" # munged wants everyone able to reach its socket
mungekey --create --keyfile="$t/munge/munge.key" --force
chown munge:munge "$t/munge/munge.key"
runuser -u munge -- /usr/sbin/munged -F --socket="$t/munge-run/munge.sock" --key-file="$t/munge/munge.key" \
    --log-file="$t/munge/munged.log" --pid-file="$t/munge-run/munged.pid" --seed-file="$t/munge/munged.seed" \
    >"$t/munge/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$t/munge-run/munge.sock" ] && break; sleep 0.1; done
munge --socket="$t/munge-run/munge.sock" -n | unmunge --socket="$t/munge-run/munge.sock" >/dev/null || fail "munge does not work: $(cat "$t/munge/munged.out")"
say "munged up (socket $t/munge-run/munge.sock)"

# --- slurm: one node, this machine, layout as slurmd sees it ---------------------------------------------------
host="$(hostname -s)"
layout="$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')"
mkdir -p "$t/spool/ctld" "$t/spool/d" "$t/log" "$t/shared"
cat >"$t/slurm.conf" <<EOF
ClusterName=lumieretest
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$((ctld_port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$t/munge-run/munge.sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=$t/spool/ctld
SlurmdSpoolDir=$t/spool/d
SlurmctldPidFile=$t/slurmctld.pid
SlurmdPidFile=$t/slurmd.pid
SlurmctldLogFile=$t/log/slurmctld.log
SlurmdLogFile=$t/log/slurmd.log
KillWait=10
NodeName=$host $layout State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
export SLURM_CONF="$t/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >"$t/log/slurmctld.out" 2>&1 &
pids+=($!)
sleep 1
slurmd -D -f "$SLURM_CONF" >"$t/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    state="$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true)"
    [ "$state" = idle ] && break
    sleep 0.2
done
[ "$state" = idle ] || fail "node did not become idle (state '$state'); see $t/log"
say "slurm up: $(sinfo -h -N -o '%N %T cpus=%c' | head -n 1)"

# --- the job: input and output on "shared storage" ($t/shared); 1 coordinator + 2 workers -----------------------
cp "$film" "$t/shared/pens.mp4"
# This machine has fewer cores than tasks: --overcommit lets 3 single-threaded tasks share them.
job=$(cd "$t/shared" && LUMIERE_BIN="$LUMIERE_BIN" sbatch --parsable --ntasks=3 --overcommit --time=10 \
        --output="$t/shared/job-%j.log" "$repo/cluster/slurm/lumiere-restore.sbatch" \
        "$t/shared/pens.mp4" "$t/shared/pens-x2.mp4" --scale 2 --model "${SLURM_TEST_MODEL:-lanczos}" --segment-seconds 1)
say "submitted job $job"
deadline=$((SECONDS + timeout_s))
while squeue -h -j "$job" 2>/dev/null | grep -q .; do
    [ $SECONDS -lt $deadline ] || { scancel "$job"; fail "job $job still running after ${timeout_s} s"; }
    sleep 1
done
job_state="$(scontrol show job "$job" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)"
job_exit="$(scontrol show job "$job" | grep -o ' ExitCode=[0-9:]*' | cut -d= -f2)"
say "job $job ended: $job_state, exit code $job_exit"
echo "----- job log (sbatch --output) -----"
grep -v '^[0-9]*: *$' "$t/shared/job-$job.log" | grep -Ev 'split: |restore: |encode: ' | tail -n 40 || true
echo "-------------------------------------"

# --- checks ---------------------------------------------------------------------------------------------------------
status=0
check() { if eval "$2"; then say "PASS: $1"; else say "FAIL: $1"; status=1; fi; }
check "job completed with exit code 0:0" '[ "$job_state" = COMPLETED ] && [ "$job_exit" = 0:0 ]'
frames=none; size=none
if [ -f "$t/shared/pens-x2.mp4" ]; then
    frames=$(probe "$t/shared/pens-x2.mp4" nb_read_frames)
    size=$(probe "$t/shared/pens-x2.mp4" width)x$(probe "$t/shared/pens-x2.mp4" height)
fi
say "output on shared storage: $frames frames, $size"
check "output has 64 frames" '[ "$frames" = 64 ]'
check "output is 352x288 (2x 176x144)" '[ "$size" = 352x288 ]'
check "coordinator ran under CURVE" "grep -q '(CURVE)' '$t/shared/job-$job.log'"
for i in 1 2; do
    check "worker-$i registered with the coordinator" "grep -q 'worker $host-$job-$i on .* registered' '$t/shared/job-$job.log'"
done
check "both workers left cleanly on SIGTERM" '[ "$(grep -c "worker exiting: shutdown requested" "$t/shared/job-$job.log")" = 2 ]'
check "the job's keys were removed" "! ls -d '$t/shared/.lumiere-keys-$job' 2>/dev/null"
[ $status = 0 ] || { tail -n 30 "$t/log/slurmctld.log" "$t/log/slurmd.log" || true; }
if [ $status = 0 ]; then say "PASS slurm single-node: sbatch job $job restored pens.mp4 to $frames frames $size"; else say "FAIL slurm single-node"; fi
exit $status
