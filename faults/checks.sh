# Long checks that are not faults of one job: libFuzzer on the decoder, the soak run, sanitizers.
# Sourced by run-all.sh; each adds one row (or two).

# libFuzzer (coverage-guided, with AddressSanitizer) on MessageCodec.decode for FUZZ_SECONDS.
# -malloc_limit_mb=64: any single allocation past 64 MB is reported as a crash (the decoder must refuse
# huge announced lengths before allocating); -rss_limit_mb=1024 bounds the whole process.
check_fuzzer() {
    local seconds="${FUZZ_SECONDS:-300}" log="$WORK/fuzz.log"
    (cd "$REPO/Fuzz" && swift build -c release -Xswiftc -sanitize=fuzzer,address --scratch-path "$REPO/.build-fuzz" >"$WORK/fuzz-build.log" 2>&1) \
        || { row "libFuzzer on MessageCodec.decode" "fuzzer build failed (see $WORK/fuzz-build.log)" no; return; }
    mkdir -p "$WORK/fuzz-corpus" "$WORK/fuzz-artifacts"
    "$REPO/.build-fuzz/release/MessageDecoderFuzzer" "$WORK/fuzz-corpus" "$REPO/Fuzz/corpus" \
        -max_total_time="$seconds" -rss_limit_mb=1024 -malloc_limit_mb=64 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$WORK/fuzz-artifacts/" >"$log" 2>&1
    local rc=$?
    local runs cov units
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    units=$(ls "$WORK/fuzz-corpus" | wc -l)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    local crashes; crashes=$(ls "$WORK/fuzz-artifacts" | wc -l)
    row "libFuzzer + ASan on MessageCodec.decode, ${seconds} s" "exit $rc; ${runs:-?} executions; $cov; corpus $units new inputs; $crashes crashes/leaks/OOMs" \
        "$([ $rc = 0 ] && [ "$crashes" = 0 ] && echo yes || echo no)"
}

# The soak run: SOAK_WORKERS simulated worker processes, many short segments, SOAK_MINUTES minutes;
# the coordinator's RSS and open descriptors are sampled (Tests/FaultTests/SoakTest.swift).
check_soak() {
    local log="$WORK/soak.log"
    (cd "$REPO" && swift build -c release --build-tests --scratch-path .build-faults >"$WORK/soak-build.log" 2>&1) \
        || { row "soak" "test build failed (see $WORK/soak-build.log)" no; return; }
    (cd "$REPO" && ulimit -n 65536 && FAULT_SOAK=1 SOAK_WORKERS="${SOAK_WORKERS:-200}" SOAK_MINUTES="${SOAK_MINUTES:-10}" \
        swift test -c release --skip-build --scratch-path .build-faults --filter 'FaultTests.SoakTest' >"$log" 2>&1)
    local rc=$?
    local summary; summary=$(grep -o 'soak: .*' "$log" | tail -1)
    row "soak: ${SOAK_WORKERS:-200} simulated workers, ${SOAK_MINUTES:-10} min" "${summary:-no summary (see $log)}; test exit $rc" \
        "$([ $rc = 0 ] && [ -n "$summary" ] && echo yes || echo no)"
}

# The test suite (SANITIZER_FILTER, default: farm, fault, media, planning and shared tests) under ASan and TSan.
# ASan runs with detect_leaks=0: LeakSanitizer reports (most inside Foundation's Process/URL/Thread, a few
# retain cycles of ours, see docs/reliability.md) would fail every child process at exit and hide memory errors;
# SANITIZER_LEAKS=1 turns it back on to list them.
check_sanitizers() {
    local filter="${SANITIZER_FILTER:-FarmTests|FaultTests|MediaTests|PlanningTests|SharedTests}" s
    for s in address thread; do
        local scratch="$REPO/.build-faults-${s:0:1}san" log="$WORK/sanitize-$s.log" t0=$SECONDS
        (cd "$REPO" && swift build --build-tests --sanitize="$s" --scratch-path "$scratch" >"$log" 2>&1 \
            && ASAN_OPTIONS="detect_leaks=${SANITIZER_LEAKS:-0}" swift test --skip-build --sanitize="$s" --scratch-path "$scratch" \
                --filter "$filter" >>"$log" 2>&1)
        local rc=$?
        local result; result=$(grep -E 'Executed [0-9]+ tests' "$log" | tail -1 | sed 's/^ *//')
        local reports; reports=$(grep -c 'ERROR: AddressSanitizer\|WARNING: ThreadSanitizer' "$log")
        row "test suite under -sanitize=$s ($filter)" "exit $rc in $((SECONDS - t0)) s; ${result:-no summary}; $reports sanitizer reports" \
            "$([ $rc = 0 ] && [ "$reports" = 0 ] && echo yes || echo no)"
    done
}
