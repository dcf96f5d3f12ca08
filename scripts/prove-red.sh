#!/usr/bin/env bash
# Shows that the test suite turns red on deliberate breakage (issue 14): each case changes one line of the product,
# rebuilds, runs the tests that must catch it and expects them to FAIL, then restores the file. Exit 0 only when
# every break was caught. Cases: seam (the crossfade takes the wrong side), nan (the super-resolution processor
# emits NaN), hang (the coordinator never finishes a job). About 2 minutes per case plus the hang's 4-minute limit.
#   bash scripts/prove-red.sh            # all cases
#   bash scripts/prove-red.sh seam nan   # some
set -uo pipefail
cd "$(dirname "$0")/.."
CASES=("${@:-seam nan hang}")
CASES=(${CASES[*]})
ORIGINAL=""
restore() { [ -n "$ORIGINAL" ] && [ -f "$ORIGINAL.prove-red" ] && mv "$ORIGINAL.prove-red" "$ORIGINAL"; ORIGINAL=""; }
trap 'restore; exit 130' INT TERM
trap restore EXIT
caught=0; missed=()

# mutate NAME FILE FROM TO TEST-FILTER: FROM must occur exactly once in FILE.
mutate() {
    local name="$1" file="$2" from="$3" to="$4" filter="$5"
    printf '\n== %s: %s\n' "$name" "$file"
    cp "$file" "$file.prove-red"; ORIGINAL="$file"
    python3 - "$file" "$from" "$to" <<'PY' || { echo "the line to change is not in $file (once): update this script"; exit 2; }
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1: sys.exit(1)
open(path, "w").write(text.replace(old, new))
PY
    swift build -c release --build-tests 2>&1 | grep -E "error:" && { echo "the broken build does not compile"; exit 2; }
    local out; out=$(swift test -c release --disable-swift-testing --skip-build --filter "$filter" 2>&1)
    local rc=$?
    grep -E "error:|Executed [0-9]+ tests?" <<<"$out" | head -6
    if [ $rc != 0 ]; then echo "RED as it must be: $name caught by $filter"; caught=$((caught + 1)); else echo "GREEN: $name NOT caught"; missed+=("$name"); fi
    restore
}

for c in "${CASES[@]}"; do
    case "$c" in
        seam) mutate seam Sources/Coordinator/Restore/StitchAssembler.swift \
                  "let w = Crossfade.rightWeight(k, window: window)" "let w = 1 - Crossfade.rightWeight(k, window: window)" \
                  "StitchAssemblerTests" ;;
        nan) mutate nan Sources/Processors/NeuralUpscaler.swift \
                 "return RGBImage(width: size.width, height: size.height, pixels: pixels)" \
                 "return RGBImage(width: size.width, height: size.height, pixels: pixels.map { _ in Float.nan })" \
                 "NeuralUpscalerTests|ModelRestoreTests" ;;
        hang) mutate hang Sources/Coordinator/Restore/StitchAssembler.swift \
                  "let stitch = StitchPlan(plan: plan)" "while plan.frameCount >= 0 { sleep(1) }; let stitch = StitchPlan(plan: plan)" \
                  "DefaultPathEndToEndTests" ;;
        *) echo "unknown case $c (seam, nan, hang)"; exit 2 ;;
    esac
done
printf '\nrebuilding the unbroken product\n'
swift build -c release --build-tests 2>&1 | grep -E "error:|Compiling|Build complete" | tail -1
echo "caught $caught of ${#CASES[@]}${missed:+; missed: ${missed[*]}}"
[ ${#missed[@]} = 0 ]
