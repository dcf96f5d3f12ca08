#!/usr/bin/env bash
# What one frame costs through each path (issue 16, item 7), same machine, same build, same run:
#   engine       lumiere-engine-bench: the model alone on one frame of the clip's size
#   in-process   restore --in-process (decode, model, x264 in one process)
#   farm         restore (the default: local workers over the farm protocol; workers encode, the head node joins;
#                no overlap for this per-frame model, so no seams)
#   farm-seams   restore --overlap 8 (the old default: 8-frame seams, rendered twice, sent back lossless, blended)
#   farm-lossless restore --no-workers-encode (results come back lossless, the head node encodes the whole film)
# For both farm paths it also prints the bytes workers sent back and the head node's closing phase alone (a second
# run of the same command reuses every segment, so it does only the check pass and the join or encode).
# usage: bash Benchmarks/pipeline-bench.sh [MODEL] [FRAMES]      (default realesr-animevideov3, 50 frames of box.mp4, ×4)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LUMIERE_BIN:-$PWD/.build/release}
MODEL=${1:-realesr-animevideov3}
FRAMES=${2:-50}
FOOTAGE=${LUMIERE_FOOTAGE:-../shared/footage}
SRC=$FOOTAGE/video/box.mp4
[ -f "$SRC" ] || { echo "needs $SRC (../shared/footage)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# 640x480 at 29.97 fps: FRAMES frames, several 1-second segments in one shot.
ffmpeg -v error -i "$SRC" -frames:v "$FRAMES" -an -c:v libx264 -crf 12 "$work/clip.mp4"
cores=$(nproc)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

seconds() { /usr/bin/time -f "%e" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }; cat "$work/t"; }

engine=$("$BIN/lumiere-engine-bench" --frame 640x480 --model "$MODEL-x4" --threads "$cores" | sed -E 's/.*: ([0-9.]+) s,.*/\1/')
inproc=$(seconds "$BIN/lumiere-coordinator" restore "$work/clip.mp4" -o "$work/in.mp4" --model "$MODEL" --scale 4 --in-process --quiet)
farm=$(seconds "$BIN/lumiere-coordinator" restore "$work/clip.mp4" -o "$work/farm.mp4" --model "$MODEL" --scale 4 --segment-seconds 1 --keep-job --quiet)
farm_bytes=$(du -sb "$work/farm.mp4.lumiere-job/results" | cut -f1)
rm -f "$work/farm.mp4"
farm_close=$(seconds "$BIN/lumiere-coordinator" restore "$work/clip.mp4" -o "$work/farm.mp4" --model "$MODEL" --scale 4 --segment-seconds 1 --quiet)
seams=$(seconds "$BIN/lumiere-coordinator" restore "$work/clip.mp4" -o "$work/seams.mp4" --model "$MODEL" --scale 4 --segment-seconds 1 --overlap 8 --keep-job --quiet)
seams_bytes=$(du -sb "$work/seams.mp4.lumiere-job/results" | cut -f1)
old=$(seconds "$BIN/lumiere-coordinator" restore "$work/clip.mp4" -o "$work/old.mp4" --model "$MODEL" --scale 4 --segment-seconds 1 --no-workers-encode --keep-job --quiet)
old_bytes=$(du -sb "$work/old.mp4.lumiere-job/results" | cut -f1)
rm -f "$work/old.mp4"
old_close=$(seconds "$BIN/lumiere-coordinator" restore "$work/clip.mp4" -o "$work/old.mp4" --model "$MODEL" --scale 4 --segment-seconds 1 --no-workers-encode --quiet)

echo "pipeline: $MODEL ×4, $FRAMES frames of 640x480 (box.mp4) -> 2560x1920 H.264, $cores cores, $(date -u +%Y-%m-%d), load at start: $load0"
printf "%-44s %9s %9s\n" "path" "s/frame" "× engine"
row() { awk -v n="$1" -v t="$2" -v f="$FRAMES" -v e="$engine" 'BEGIN { printf "%-44s %9.3f %9.2f\n", n, t / f, t / f / e }'; }
row "engine alone (lumiere-engine-bench)" "$(awk -v e="$engine" -v f="$FRAMES" 'BEGIN { print e * f }')"
row "restore --in-process" "$inproc"
row "restore (workers encode, head node joins)" "$farm"
row "restore --overlap 8 (seams, as before)" "$seams"
row "restore --no-workers-encode (head encodes)" "$old"
awk -v a="$farm_bytes" -v s="$seams_bytes" -v b="$old_bytes" -v f="$FRAMES" 'BEGIN { printf "results sent back: %.1f MB (%.0f KB/frame) joined, %.1f MB (%.0f KB/frame) with 8-frame seams, %.1f MB (%.0f KB/frame) lossless\n", a/1e6, a/f/1e3, s/1e6, s/f/1e3, b/1e6, b/f/1e3 }'
echo "closing phase alone (check pass + join / encode, every segment reused): joined ${farm_close} s, head encodes ${old_close} s"
