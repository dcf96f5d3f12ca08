# Helpers for faults/run-all.sh (issue 8): start coordinators and workers, wait for log lines, record rows.
# Sourced, not run. Every process started here is remembered by PID and killed by PID on cleanup.

FAULT_PIDS=()
ROWS=()          # "fault|what happened|identical" lines for the final table
FAILED=0

say() { printf '[faults %4ds] %s\n' $((SECONDS - FAULT_STARTED)) "$*"; }

# row NAME WHAT IDENTICAL(yes/no): one line of the final table; anything but yes fails the suite.
row() {
    ROWS+=("$1|$2|$3")
    [ "$3" = yes ] || FAILED=1
    say "ROW: $1 — $2 — identical: $3"
}

remember() { FAULT_PIDS+=("$1"); }

kill_remembered() {
    local pid
    local i alive
    for pid in "${FAULT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    # SIGTERM is a graceful leave for workers; give them 3 s before SIGKILL.
    for ((i = 0; i < 30; i++)); do
        alive=0; for pid in "${FAULT_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${FAULT_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${FAULT_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    FAULT_PIDS=()
}

# The fixed restore settings every run uses: classical Lanczos (no model: the rows are about the farm),
# x264 with a fixed preset and CRF into MP4 (deterministic muxer), 1-second segments (about 20 of them).
# --overlap 8: lanczos needs no seams (its default overlap is 0), but the faults should hit the seam path too (lossless
# overlap frames, blending, seam pieces), and the rows' timings (a permanent cut noticed, rogues while the job runs)
# assume the job these rows were written for: without seams it ended before either could happen.
restore_args() { # OUT JOBDIR
    echo restore "$FAULT_INPUT" -o "$1" --scale 2 --model lanczos --codec h264 --preset ultrafast --crf 18 \
        --segment-seconds 1 --overlap 8 --job-dir "$2" --log-level info
}

# start_coordinator LOG OUT JOBDIR ENDPOINT [extra args...] — in the background; sets COORD_PID.
start_coordinator() {
    local log="$1" out="$2" job="$3" endpoint="$4"; shift 4
    # shellcheck disable=SC2046
    ${NS_EXEC:-} timeout "$FAULT_JOB_TIMEOUT" "$BIN/lumiere-coordinator" $(restore_args "$out" "$job") \
        --bind "$endpoint" --workers 0 "$@" >"$log" 2>&1 &
    COORD_PID=$!
    remember "$COORD_PID"
}

# start_worker NAME ENDPOINT LOG [extra args...] — sets WORKER_PID. WORKER_NS_EXEC prefixes the command (netns).
start_worker() {
    local name="$1" endpoint="$2" log="$3"; shift 3
    ${WORKER_NS_EXEC:-} "$BIN/lumiere-worker" --connect "$endpoint" --threads 1 --name "$name" \
        --work-dir "$WORK/scratch-$name-$RANDOM" --log-level info "$@" >"$log" 2>&1 &
    WORKER_PID=$!
    remember "$WORKER_PID"
}

count_lines() { grep -c "$1" "$2" 2>/dev/null || true; }

# wait_for PATTERN FILE MINCOUNT SECONDS: until FILE holds at least MINCOUNT lines matching PATTERN.
wait_for() {
    local pattern="$1" file="$2" min="$3" limit="$4" i n
    for ((i = 0; i < limit * 10; i++)); do
        n=$(count_lines "$pattern" "$file")
        [ "${n:-0}" -ge "$min" ] && return 0
        sleep 0.1
    done
    return 1
}

# wait_pid PID SECONDS: the exit status of a background child, or 124 when it outlived the limit.
wait_pid() {
    local pid="$1" limit="$2" i
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid"; return $?; }
        sleep 0.1
    done
    return 124
}

identical() { # OUT → yes/no against the fault-free reference
    if [ -f "$1" ] && cmp -s "$1" "$REFERENCE"; then echo yes; else echo no; fi
}

sha() { sha256sum "$1" | cut -c1-16; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

job_summary() { # coordinator log → the scheduler's own summary: "30/30 segments done, 1 re-queued, 0 speculative copies, …"
    grep -o 'job \(complete\|failed\): .*' "$1" | tail -1 | cut -c1-200
}

print_table() {
    local r a b c
    printf '\n%-58s | %-9s | %s\n' "fault / input" "identical" "what happened"
    printf '%s\n' "$(printf -- '-%.0s' $(seq 1 140))"
    for r in "${ROWS[@]}"; do
        IFS='|' read -r a b c <<<"$r"
        printf '%-58s | %-9s | %s\n' "$a" "$c" "$b"
    done
    local total=${#ROWS[@]} bad; bad=$(printf '%s\n' "${ROWS[@]}" | grep -vc '|yes$')
    printf '\n%d rows, %d not identical/failed\n' "$total" "$bad"
}
