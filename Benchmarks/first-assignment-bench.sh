#!/usr/bin/env bash
# Time to first assignment on a long film (issue 16, item 1): seconds from starting `restore` to the coordinator's first
# "assigning segment" log line, for two builds side by side — e.g. the commit before streaming and this one:
#   BEFORE_BIN=/path/to/old/.build/release bash Benchmarks/first-assignment-bench.sh [LOOPS]
# The film is bikes.mp4 (640x272 H.264, 250 frames, 10 s) looped LOOPS times by stream copy (default 60: 10 minutes,
# 15,000 frames). Each run is stopped (two SIGINTs) once its first segment is assigned; nothing is rendered to the end.
set -euo pipefail
cd "$(dirname "$0")/.."
AFTER_BIN=${AFTER_BIN:-$PWD/.build/release}
BEFORE_BIN=${BEFORE_BIN:-}
LOOPS=${1:-60}
FOOTAGE=${LUMIERE_FOOTAGE:-../shared/footage}
SRC=$FOOTAGE/video/bikes.mp4
[ -f "$SRC" ] || { echo "needs $SRC (../shared/footage)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ffmpeg -v error -stream_loop $((LOOPS - 1)) -i "$SRC" -c copy "$work/film.mp4"
frames=$(ffprobe -v error -count_packets -select_streams v:0 -show_entries stream=nb_read_packets -of csv=p=0 "$work/film.mp4")

first_assignment() { # BIN LABEL: prints seconds to the first assignment
  python3 - "$1/lumiere-coordinator" "$work/film.mp4" "$work/$2.mp4" <<'PY'
import os, signal, subprocess, sys, time
coordinator, film, out = sys.argv[1:4]
start = time.monotonic()
p = subprocess.Popen([coordinator, "restore", film, "-o", out, "--model", "lanczos", "--scale", "1", "--codec", "h264",
                      "--preset", "ultrafast", "--segment-seconds", "2", "--log-level", "info", "--quiet", "--job-dir", out + ".job"],
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

echo "first assignment: bikes.mp4 looped $LOOPS times ($frames frames, 640x272 H.264), lanczos ×1, 2 s segments, $(nproc) cores, $(date -u +%Y-%m-%d)"
[ -n "$BEFORE_BIN" ] && printf "%-8s %8s s\n" before "$(first_assignment "$BEFORE_BIN" before)"
printf "%-8s %8s s\n" after "$(first_assignment "$AFTER_BIN" after)"
