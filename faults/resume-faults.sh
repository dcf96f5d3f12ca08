# Coordinator death and a full disk: both rely on the job journal (job-dir/journal.json, written atomically)
# and on `restore` resuming from it when the same command runs again. Sourced by run-all.sh.

journal_entries() { python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['entries']))" "$1" 2>/dev/null || echo invalid; }
plan_line() { grep -o 'plan: .* to restore' "$1" | tail -1; }

# SIGKILL of the coordinator once some results are journaled; the workers stay up and reconnect to the
# same command run again on the same endpoint, which must only restore what the journal does not hold.
fault_coordinator_sigkill_resume() {
    local port; port=$(free_port)
    local ep="tcp://127.0.0.1:$port" out="$WORK/coord-kill.mp4" job="$WORK/job-coord-kill"
    start_coordinator "$WORK/coord-kill-1.log" "$out" "$job" "$ep"; local coord=$COORD_PID
    local n; for n in 1 2 3; do start_worker "ck$n" "$ep" "$WORK/coord-kill-w$n.log"; done
    local i entries=0
    for ((i = 0; i < 1200; i++)); do
        entries=$(journal_entries "$job/journal.json"); [[ "$entries" =~ ^[0-9]+$ ]] && [ "$entries" -ge 4 ] && break
        sleep 0.1
    done
    # $coord is the `timeout` wrapper: SIGKILL the coordinator itself (its child), then reap the wrapper.
    local injected=yes
    kill -0 "$coord" 2>/dev/null || injected=no # finished (or died) before the kill: nothing was injected
    local real; real=$(pgrep -P "$coord" | head -1)
    kill -KILL "${real:-$coord}"; wait "$coord" 2>/dev/null
    local after; after=$(journal_entries "$job/journal.json")
    local partial=no; [ -e "$out" ] && partial=yes
    start_coordinator "$WORK/coord-kill-2.log" "$out" "$job" "$ep"; coord=$COORD_PID
    wait_pid "$coord" "$FAULT_JOB_TIMEOUT"; local rc=$?
    kill_remembered
    local plan; plan=$(plan_line "$WORK/coord-kill-2.log")
    local total todo
    total=$(sed -n 's/.* \([0-9]*\) segments, \([0-9]*\) to restore/\1/p' <<<"$plan")
    todo=$(sed -n 's/.* \([0-9]*\) segments, \([0-9]*\) to restore/\2/p' <<<"$plan")
    row "SIGKILL coordinator mid-job, same command again" \
        "$([ $injected = yes ] && echo killed || echo 'FAULT NOT INJECTED: coordinator had already exited;') with $after results journaled (output present after kill: $partial); rerun: \"$plan\", exit $rc" \
        "$([ $injected = yes ] && [ $rc = 0 ] && [ "$partial" = no ] && [ -n "$todo" ] && [ "$todo" -lt "$total" ] && identical "$out" || echo no)"
}

# The job directory on a small tmpfs: the job must stop with a clear "no space left" error, the journal
# must still parse and list what finished, and after the tmpfs grows the same command must finish the job.
fault_disk_full() {
    TMPFS_DIR="$WORK/tmpfs"; mkdir -p "$TMPFS_DIR"
    # Size: the segment inputs fit, about half the results do (measured on the reference's kept job directory).
    local inputs results size
    inputs=$(du -sk "$WORK/job-reference-2/inputs" | cut -f1); results=$(du -sk "$WORK/job-reference-2/results" | cut -f1)
    size=$((inputs + results / 2 + 64))
    mount -t tmpfs -o size=${size}k lumiere-faults "$TMPFS_DIR" || { row "disk full in the job directory" "could not mount a tmpfs" no; return; }
    local port; port=$(free_port)
    local ep="tcp://127.0.0.1:$port" out="$WORK/disk-full.mp4" job="$TMPFS_DIR/job"
    start_coordinator "$WORK/disk-full-1.log" "$out" "$job" "$ep"; local coord=$COORD_PID
    local n; for n in 1 2 3; do start_worker "df$n" "$ep" "$WORK/disk-full-w$n.log"; done
    wait_pid "$coord" "$FAULT_JOB_TIMEOUT"; local rc1=$?
    local line; line=$(grep -i 'error' "$WORK/disk-full-1.log" | grep -i 'space' | head -1)
    local message="${line:0:90} … ${line: -110}"
    [ -n "$line" ] || message=""
    local entries; entries=$(journal_entries "$job/journal.json")
    local partial=no; [ -e "$out" ] && partial=yes
    mount -o remount,size=$((inputs + results * 3 + 4096))k "$TMPFS_DIR"
    start_coordinator "$WORK/disk-full-2.log" "$out" "$job" "$ep"; coord=$COORD_PID
    wait_pid "$coord" "$FAULT_JOB_TIMEOUT"; local rc2=$?
    kill_remembered
    umount "$TMPFS_DIR" && TMPFS_DIR=""
    row "disk full in the job directory (tmpfs ${size} kB), then space freed" \
        "1st run exit $rc1: \"$message\"; journal valid with $entries entries; partial output: $partial; rerun: \"$(plan_line "$WORK/disk-full-2.log")\", exit $rc2" \
        "$([ $rc1 != 0 ] && [ -n "$message" ] && [[ "$entries" =~ ^[0-9]+$ ]] && [ "$partial" = no ] && [ $rc2 = 0 ] && identical "$out" || echo no)"
}
