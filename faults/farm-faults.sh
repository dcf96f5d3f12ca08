# Farm faults on loopback: real coordinator and worker processes, the final file compared with the reference.
# Sourced by run-all.sh; each function adds one row.

# The fault-free reference: 3 workers, nothing happens. Run twice: the second run proves the output is
# deterministic, so "identical" in every other row means something.
fault_reference() {
    local ep out i
    for i in 1 2; do
        ep="tcp://127.0.0.1:$(free_port)"; out="$WORK/reference-$i.mp4"
        start_coordinator "$WORK/reference-$i.log" "$out" "$WORK/job-reference-$i" "$ep" $([ $i = 2 ] && echo --keep-job)
        local coord=$COORD_PID w
        for w in a b c; do start_worker "ref$i$w" "$ep" "$WORK/reference-$i-$w.log"; done
        local t0=$SECONDS
        wait_pid "$coord" "$FAULT_JOB_TIMEOUT"; local rc=$?
        REFERENCE_SECONDS=$((SECONDS - t0))
        kill_remembered
        [ $rc = 0 ] && [ -f "$out" ] || { row "fault-free reference" "coordinator exit $rc (see $WORK/reference-$i.log)" no; return 1; }
    done
    REFERENCE="$WORK/reference-1.mp4"
    local same; same=$(identical "$WORK/reference-2.mp4")
    row "fault-free run, twice" "$(count_lines 'assigning ' "$WORK/reference-1.log") assignments, ${REFERENCE_SECONDS} s, sha256 $(sha "$REFERENCE")…; second run" "$same"
}

# SIGKILL of one worker while it holds a lease (it has just been assigned its second segment).
fault_worker_sigkill() {
    local ep="tcp://127.0.0.1:$(free_port)" out="$WORK/worker-kill.mp4" log="$WORK/worker-kill.log"
    start_coordinator "$log" "$out" "$WORK/job-worker-kill" "$ep"; local coord=$COORD_PID
    start_worker victim "$ep" "$WORK/worker-kill-victim.log"; local victim=$WORKER_PID
    start_worker k2 "$ep" "$WORK/worker-kill-2.log"; start_worker k3 "$ep" "$WORK/worker-kill-3.log"
    local what injected=no
    if wait_for 'assigned ' "$WORK/worker-kill-victim.log" 2 120; then
        kill -KILL "$victim"; what="victim SIGKILLed holding its 2nd lease"; injected=yes
    else
        what="FAULT NOT INJECTED: victim never got 2 leases"
    fi
    wait_pid "$coord" "$FAULT_JOB_TIMEOUT"; local rc=$?
    kill_remembered
    local gone; gone=$(count_lines 'gone' "$log")
    # The row proves something only if the kill happened and the coordinator noticed it.
    row "SIGKILL one worker mid-segment" "$what; coordinator exit $rc; $gone 'worker gone'; $(job_summary "$log")" \
        "$([ $injected = yes ] && [ "$gone" -ge 1 ] && [ $rc = 0 ] && identical "$out" || echo no)"
}

# SIGKILL of every worker mid-job; the coordinator waits (it has --workers 0, no deadline); two new
# workers join 5 s later and finish the job.
fault_all_workers_sigkill() {
    local ep="tcp://127.0.0.1:$(free_port)" out="$WORK/all-kill.mp4" log="$WORK/all-kill.log" pids=() n
    start_coordinator "$log" "$out" "$WORK/job-all-kill" "$ep"; local coord=$COORD_PID
    for n in 1 2 3; do start_worker "first$n" "$ep" "$WORK/all-kill-first$n.log"; pids+=("$WORKER_PID"); done
    local injected=yes
    wait_for 'assigning ' "$log" 5 120 || injected=no
    # Killed mid-job only if the job had not finished yet.
    kill -0 "$coord" 2>/dev/null || injected=no
    kill -KILL "${pids[@]}"
    local done_before; done_before=$(count_lines 'assigning ' "$log")
    sleep 5
    for n in 1 2; do start_worker "second$n" "$ep" "$WORK/all-kill-second$n.log"; done
    wait_pid "$coord" "$FAULT_JOB_TIMEOUT"; local rc=$?
    kill_remembered
    local second; second=$(cat "$WORK"/all-kill-second*.log | grep -c 'assigned ')
    [ $injected = yes ] || done_before="FAULT NOT INJECTED (job not running or fewer than 5 assignments): $done_before"
    row "SIGKILL all 3 workers, 2 new join 5 s later" "killed after $done_before assignments; newcomers did $second segments; coordinator exit $rc; $(job_summary "$log")" \
        "$([ $injected = yes ] && [ $rc = 0 ] && [ "$second" -ge 1 ] && identical "$out" || echo no)"
}

# A worker about 100x slower than the others: every 500 ms it runs 5 ms and is stopped (SIGSTOP) for 495 ms,
# so it still heartbeats (expiry 3 s) and progresses, only slowly. It takes the first, longest segment and still
# holds it when the queue drains, so the scheduler's speculative re-issue must race a copy: the row fails without
# one. (At 10x, measured 2026-12-05, its short segments finished before the queue drained: no speculation.)
fault_straggler() {
    local ep="tcp://127.0.0.1:$(free_port)" out="$WORK/straggler.mp4" log="$WORK/straggler.log"
    start_coordinator "$log" "$out" "$WORK/job-straggler" "$ep"; local coord=$COORD_PID
    start_worker slow "$ep" "$WORK/straggler-slow.log"; local slow=$WORKER_PID
    # Alone, it registers and takes the first (longest) segment at full speed; then it is slowed down, holding a lease.
    local injected=yes
    wait_for 'assigned ' "$WORK/straggler-slow.log" 1 60 || injected=no
    ( while kill -0 "$slow" 2>/dev/null; do
          kill -STOP "$slow" 2>/dev/null; sleep 0.495; kill -CONT "$slow" 2>/dev/null; sleep 0.005
      done ) &
    local throttle=$!; remember "$throttle"
    start_worker fast1 "$ep" "$WORK/straggler-fast1.log"; start_worker fast2 "$ep" "$WORK/straggler-fast2.log"
    local t0=$SECONDS
    wait_pid "$coord" "$FAULT_JOB_TIMEOUT"; local rc=$?
    local took=$((SECONDS - t0))
    kill "$throttle" 2>/dev/null; kill -CONT "$slow" 2>/dev/null
    kill_remembered
    local summary; summary=$(job_summary "$log")
    local copies; copies=$(sed -n 's/.* \([0-9]*\) speculative cop.*/\1/p' <<<"$summary")
    local mechanism="speculative re-issue ($copies copies raced; the straggler's lease cancelled)"
    # The row is about speculation: without a raced copy the fault was not exercised, and the row fails.
    [ "${copies:-0}" -gt 0 ] || mechanism="FAULT NOT EXERCISED: no speculative copy was raced"
    [ $injected = yes ] || mechanism="FAULT NOT INJECTED: the slow worker never got a lease; $mechanism"
    local slow_leases; slow_leases=$(count_lines 'assigned ' "$WORK/straggler-slow.log")
    local bound=$((REFERENCE_SECONDS * 3 + 30))
    row "straggler (one worker ~100x slow: SIGSTOP 495 ms of every 500 ms)" "finished in ${took} s (bound ${bound} s, reference ${REFERENCE_SECONDS} s); mechanism: $mechanism; slow worker got $slow_leases leases; $summary" \
        "$([ $injected = yes ] && [ $rc = 0 ] && [ "${copies:-0}" -gt 0 ] && [ $took -le $bound ] && identical "$out" || echo no)"
}
