#!/usr/bin/env bash
# Time to first assignment on a long film (issue 16, item 1): seconds from starting `restore` to the coordinator's first
# "assigning segment" log line, for two builds side by side — e.g. the commit before streaming and this one:
#   BEFORE_BIN=/path/to/old/.build/release bash Benchmarks/first-assignment-bench.sh [LOOPS]
# The film (FILM_KIND):
# - cuts (default): bikes.mp4 (640x272 H.264, 250 frames, 10 s, 6 shots) looped LOOPS times by stream copy (default 60:
#   10 minutes, 15,000 frames);
# - long-shot: one uncut shot of real footage — box.mp4 (640x480, 455 frames, no cut) then the same frames reversed, so
#   that the end meets the start (looping a clip makes a cut at each loop point; this loop has none), encoded once with
#   a key frame every 50 frames and looped LOOPS times by stream copy (default 20: about 10 minutes, 18,200 frames). The
#   analysis finds no cut in it, so before issue 16's ShotSplit nothing went out until it reached the film's end.
# - file: FILM=PATH, any film (e.g. the 1080p one head-node-bench.sh builds, kept with KEEP=1).
# SEGMENT_SECONDS (default 2), BEFORE_ARGS / AFTER_ARGS (more restore options for that build). Each run is stopped (two
# SIGINTs) once its first segment is assigned; nothing is rendered to the end.
set -euo pipefail
cd "$(dirname "$0")/.."
AFTER_BIN=${AFTER_BIN:-$PWD/.build/release}
BEFORE_BIN=${BEFORE_BIN:-}
FILM_KIND=${FILM_KIND:-cuts}
SEGMENT_SECONDS=${SEGMENT_SECONDS:-2}
FOOTAGE=${LUMIERE_FOOTAGE:-../shared/footage}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "$FILM_KIND" in
  cuts)
    LOOPS=${1:-60}
    SRC=$FOOTAGE/video/bikes.mp4
    [ -f "$SRC" ] || { echo "needs $SRC (../shared/footage)" >&2; exit 2; }
    ffmpeg -v error -stream_loop $((LOOPS - 1)) -i "$SRC" -c copy "$work/film.mp4"
    what="bikes.mp4 looped $LOOPS times" ;;
  long-shot)
    LOOPS=${1:-20}
    SRC=$FOOTAGE/video/box.mp4
    [ -f "$SRC" ] || { echo "needs $SRC (../shared/footage)" >&2; exit 2; }
    ffmpeg -v error -i "$SRC" -filter_complex "[0:v]split[a][b];[b]reverse[r];[a][r]concat=n=2:v=1:a=0" -an \
      -c:v libx264 -preset veryfast -crf 20 -g 50 "$work/base.mp4"
    ffmpeg -v error -stream_loop $((LOOPS - 1)) -i "$work/base.mp4" -c copy "$work/film.mp4"
    what="one uncut shot (box.mp4 forward and back, looped $LOOPS times)" ;;
  file)
    [ -f "${FILM:-}" ] || { echo "FILM_KIND=file needs FILM=PATH" >&2; exit 2; }
    ln -s "$(realpath "$FILM")" "$work/film.mp4"
    what=$(basename "$FILM") ;;
  *) echo "FILM_KIND is cuts, long-shot or file" >&2; exit 2 ;;
esac
frames=$(ffprobe -v error -count_packets -select_streams v:0 -show_entries stream=nb_read_packets -of csv=p=0 "$work/film.mp4")
size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height,codec_name -of csv=s=x:p=0 "$work/film.mp4")

first_assignment() { # BIN LABEL ARGS: prints seconds to the first assignment
  python3 - "$1/lumiere-coordinator" "$work/film.mp4" "$work/$2.mp4" "$SEGMENT_SECONDS" "$3" <<'PY'
import os, signal, subprocess, sys, time
coordinator, film, out, segment, extra = sys.argv[1:6]
start = time.monotonic()
p = subprocess.Popen([coordinator, "restore", film, "-o", out, "--model", "lanczos", "--scale", "1", "--codec", "h264",
                      "--preset", "ultrafast", "--segment-seconds", segment, "--log-level", "info", "--quiet", "--job-dir", out + ".job",
                      *extra.split()],
                     stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True)
seconds = None
for line in p.stderr:
    if "assigning segment" in line:
        seconds = time.monotonic() - start
        break
for _ in range(2):
    try: os.kill(p.pid, signal.SIGINT)
    except ProcessLookupError: pass
    time.sleep(0.5)
try: p.wait(timeout=30)
except subprocess.TimeoutExpired: os.killpg(p.pid, signal.SIGKILL)
print("%.2f" % seconds if seconds is not None else "none")
PY
}

echo "first assignment: $what ($frames frames, $size), lanczos ×1, $SEGMENT_SECONDS s segments, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"
[ -n "$BEFORE_BIN" ] && printf "%-8s %8s s  %s\n" before "$(first_assignment "$BEFORE_BIN" before "${BEFORE_ARGS:-}")" "${BEFORE_ARGS:-}"
printf "%-8s %8s s  %s\n" after "$(first_assignment "$AFTER_BIN" after "${AFTER_ARGS:-}")" "${AFTER_ARGS:-}"
