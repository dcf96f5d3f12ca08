# Network faults and rogue peers across network namespaces (cluster/netns/lib.sh): the coordinator on
# 10.200.0.1 with CURVE keys, workers on their own "hosts". Needs root and iproute2. Sourced by run-all.sh.

netns_setup() {
    source "$REPO/cluster/netns/lib.sh"
    LUM_NET_PREFIX="lf$(( $$ % 100000 ))"
    lum_net_init
    lum_net_add_host head 1
    local i; for i in 1 2 3; do lum_net_add_host "w$i" $((10 + i)); done
    lum_net_add_host rogue 66
    umask 077
    mkdir -p "$WORK/keys/allowed" "$WORK/keys/secret" "$WORK/keys/rogue"
    "$BIN/lumiere-coordinator" keygen --name coordinator --output-dir "$WORK/keys/secret" >/dev/null
    for i in w1 w2 w3 w4 w5 w6 insider; do
        "$BIN/lumiere-coordinator" keygen --name "$i" --output-dir "$WORK/keys/secret" >/dev/null
        cp "$WORK/keys/secret/$i.pub" "$WORK/keys/allowed/"
    done
    "$BIN/lumiere-coordinator" keygen --name rogue --output-dir "$WORK/keys/rogue" >/dev/null
    umask 022
    NETNS_READY=1
}

netns_coordinator() { # LOG OUT JOB PORT
    NS_EXEC="lum_net_exec head" start_coordinator "$1" "$2" "$3" "tcp://10.200.0.1:$4" \
        --key "$WORK/keys/secret/coordinator.key" --allow-keys "$WORK/keys/allowed"
}

netns_worker() { # HOSTNS KEYNAME PORT LOG
    WORKER_NS_EXEC="lum_net_exec $1" start_worker "$1-$2" "tcp://10.200.0.1:$3" "$4" \
        --key "$WORK/keys/secret/$2.key" --server-key "$WORK/keys/secret/coordinator.pub"
}

# cut_scenario SECONDS|permanent: w1 loses its cable while it holds a lease.
fault_network_cut() {
    local mode="$1" port=$((5600 + RANDOM % 300)) tag="cut-$1"
    local out="$WORK/$tag.mp4" log="$WORK/$tag.log"
    netns_coordinator "$log" "$out" "$WORK/job-$tag" "$port"; local coord=$COORD_PID
    netns_worker w1 w1 "$port" "$WORK/$tag-w1.log"
    netns_worker w2 w2 "$port" "$WORK/$tag-w2.log"
    local what injected=no
    if wait_for 'assigned ' "$WORK/$tag-w1.log" 2 120 && kill -0 "$coord" 2>/dev/null; then
        lum_net_cut w1; injected=yes
        if [ "$mode" = permanent ]; then
            what="w1 cable pulled holding a lease, never plugged back"
        else
            sleep "$mode"; lum_net_heal w1
            what="w1 cable pulled for ${mode} s holding a lease"
        fi
    else
        what="FAULT NOT INJECTED: w1 never got 2 leases"
    fi
    wait_pid "$coord" "$FAULT_JOB_TIMEOUT"; local rc=$?
    local rejoined; rejoined=$(count_lines 'welcome\|registered' "$WORK/$tag-w1.log")
    [ "$mode" = permanent ] || lum_net_heal w1
    kill_remembered
    local name="network cut ${mode} s (coordinator ns ↔ worker ns)"
    [ "$mode" = permanent ] && name="network cut, permanent"
    local gone; gone=$(count_lines 'gone' "$log")
    # A cut that outlasts the worker expiry must be noticed; a 10 s cut may heal before it (the lease is kept).
    local noticed=yes; [ "$mode" = permanent ] && [ "$gone" -lt 1 ] && noticed=no
    row "$name" "$what; coordinator: $gone 'worker gone', exit $rc; $(job_summary "$log")" \
        "$([ $injected = yes ] && [ $noticed = yes ] && [ $rc = 0 ] && identical "$out" || echo no)"
}

# Rogue peers during a real job: no key, an unknown key, garbage from a peer holding an allowed key,
# and raw non-ZeroMQ bytes on the TCP port. All from the "rogue" host (10.200.0.66).
fault_rogue_peers() {
    local port=$((5900 + RANDOM % 90)) out="$WORK/rogue.mp4" log="$WORK/rogue.log"
    netns_coordinator "$log" "$out" "$WORK/job-rogue" "$port"; local coord=$COORD_PID
    netns_worker w1 w1 "$port" "$WORK/rogue-w1.log"
    netns_worker w2 w2 "$port" "$WORK/rogue-w2.log"
    local injected=yes
    wait_for 'assigning ' "$log" 2 120 || injected=no
    local ep="tcp://10.200.0.1:$port" mode verdicts=() rogues=()
    # All four at once, while the job runs (it takes about 25 s; each rogue lingers 4 s listening).
    for mode in nokey wrongkey garbage rawtcp; do
        lum_net_exec rogue python3 "$REPO/faults/rogue-peer.py" "$mode" "$ep" \
            --server-key "$WORK/keys/secret/coordinator.pub" --allowed-key "$WORK/keys/secret/insider.key" \
            --rogue-key "$WORK/keys/rogue/rogue.key" --seconds 4 >"$WORK/rogue-$mode.out" 2>&1 &
        rogues+=($!)
    done
    wait "${rogues[@]}"
    local running=no; kill -0 "$coord" 2>/dev/null && running=yes
    for mode in nokey wrongkey garbage rawtcp; do verdicts+=("$mode: $(tail -1 "$WORK/rogue-$mode.out")"); done
    wait_pid "$coord" "$FAULT_JOB_TIMEOUT"; local rc=$?
    kill_remembered
    local refused rejected leaked=0
    refused=$(count_lines 'refused worker key' "$log")
    rejected=$(count_lines 'rejected a message' "$log")
    grep -q 'GOT DATA' "$WORK"/rogue-*.out && leaked=1
    row "rogue peers (no key, wrong key, garbage, raw TCP)" \
        "$(IFS=';'; echo "${verdicts[*]}"); job still running after the rogues: $running; coordinator logged $refused key refusals (ZAP), $rejected rejected messages; exit $rc" \
        "$([ $injected = yes ] && [ $rc = 0 ] && [ $running = yes ] && [ $leaked = 0 ] && [ "$refused" -ge 1 ] && [ "$rejected" -ge 1 ] && identical "$out" || echo no)"
}
