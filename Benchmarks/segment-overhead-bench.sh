#!/usr/bin/env bash
# What a film's segment count costs a whole restore (issue 16: the ramp at the film's start cuts its first P frames into
# 3–5 short segments): two builds restore the same short clip to the end with local workers, side by side — segments
# (plan.json), CPU seconds of the coordinator and its workers (user + system of the process tree, /usr/bin/time),
# wall seconds, output bytes — and the ratios after/before.
#   BEFORE_BIN=/path/to/old/.build/release bash Benchmarks/segment-overhead-bench.sh [FILM]
# FILM: default box.mp4 (640x480, 455 frames, one shot, 15 s) from ../shared/footage. SCALE (default 2), MODEL (default
# lanczos), PRESET (default medium: the encoder's fixed costs are what a segment adds), SEGMENT_SECONDS (default 10),
# RUNS (default 2, alternating before/after; the last run's figures are printed with the mean of CPU seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
AFTER_BIN=${AFTER_BIN:-$PWD/.build/release}
BEFORE_BIN=${BEFORE_BIN:?set BEFORE_BIN to the other build}
FOOTAGE=${LUMIERE_FOOTAGE:-../shared/footage}
FILM=${1:-$FOOTAGE/video/box.mp4}
SCALE=${SCALE:-2}; MODEL=${MODEL:-lanczos}; PRESET=${PRESET:-medium}; SEGMENT_SECONDS=${SEGMENT_SECONDS:-10}; RUNS=${RUNS:-2}
[ -f "$FILM" ] || { echo "needs $FILM" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() { # BIN LABEL: prints "segments cpu wall bytes"
  local out=$work/$2.mp4
  rm -rf "$out" "$out.job"
  /usr/bin/time -f "%U %S %e" -o "$work/time" "$1/lumiere-coordinator" restore "$FILM" -o "$out" --model "$MODEL" \
    --scale "$SCALE" --preset "$PRESET" --segment-seconds "$SEGMENT_SECONDS" --quiet --job-dir "$out.job" --keep-job \
    >/dev/null 2>"$work/$2.log" || { tail -5 "$work/$2.log" >&2; exit 1; }
  local segments
  segments=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["segments"]["segments"]))' "$out.job/plan.json")
  read -r user sys wall <"$work/time"
  echo "$segments $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') $wall $(stat -c %s "$out")"
}

frames=$(ffprobe -v error -count_packets -select_streams v:0 -show_entries stream=nb_read_packets -of csv=p=0 "$FILM")
echo "segment overhead: $(basename "$FILM") ($frames frames), $MODEL ×$SCALE, preset $PRESET, $SEGMENT_SECONDS s segments, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
sum_b=0; sum_a=0
for r in $(seq 1 "$RUNS"); do
  read -r seg_b cpu_b wall_b bytes_b < <(run "$BEFORE_BIN" before)
  read -r seg_a cpu_a wall_a bytes_a < <(run "$AFTER_BIN" after)
  printf "run %d  before: %s segments, %s CPU s, %s s wall, %s bytes | after: %s segments, %s CPU s, %s s wall, %s bytes\n" \
    "$r" "$seg_b" "$cpu_b" "$wall_b" "$bytes_b" "$seg_a" "$cpu_a" "$wall_a" "$bytes_a"
  sum_b=$(awk -v a="$sum_b" -v b="$cpu_b" 'BEGIN { print a + b }'); sum_a=$(awk -v a="$sum_a" -v b="$cpu_a" 'BEGIN { print a + b }')
done
awk -v sb="$sum_b" -v sa="$sum_a" -v n="$RUNS" -v bb="$bytes_b" -v ba="$bytes_a" -v gb="$seg_b" -v ga="$seg_a" 'BEGIN {
  printf "mean CPU s: before %.2f, after %.2f, after/before %.3f; output bytes after/before %.4f; segments %d → %d\n", sb / n, sa / n, sa / sb, ba / bb, gb, ga }'
