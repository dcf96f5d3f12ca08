#!/usr/bin/env bash
# What a job costs the head node (issue 16, item 8), for two builds side by side on the same film:
#   BEFORE_BIN=/path/to/old/.build/release bash Benchmarks/head-node-bench.sh [MINUTES]      (default 10)
# The film: real footage at 1080p looped to at least MINUTES minutes (there is no 1080p clip in ../shared/footage, so
# trailer_bbb.mp4, 1280x720 H.264 + MP3, is scaled to 1920x1080 once with the ffmpeg CLI, then looped by stream copy;
# below 55 s the scaled clip itself is cut to MINUTES). It is restored 1080p -> UHD (3840x2160, --scale 2) with the
# classical lanczos processor, so no model hides the head node's own work. The coordinator serves on loopback TCP with
# --workers 0 and WORKERS worker processes (default: one per core, --threads cores/WORKERS, like the local default) are
# started beside it, so each process's CPU time is its own (getrusage of each child, threads included).
# Printed for each build: time to the first assignment, head-node CPU seconds per output frame and as a share of all
# CPU, the job directory's peak bytes (sampled every 0.5 s), bytes sent to and received from workers (the
# coordinator's own end-of-job report), the output's and the compressed input's size; then the issue's goals.
# Environment: AFTER_BIN (default ./.build/release), BEFORE_BIN (optional), PRESET (x264 preset, default medium: the
# product's default), SEGMENT_SECONDS (default: the product's 10), WORKERS, FILM (use this film instead of building
# one), KEEP=1 (keep the film, outputs and logs), LUMIERE_FOOTAGE, BEFORE_ARGS / AFTER_ARGS (more restore options for
# that build, e.g. BEFORE_BIN=$AFTER_BIN BEFORE_ARGS="--overlap 8" compares the seams of the old default overlap).
set -euo pipefail
cd "$(dirname "$0")/.."
AFTER_BIN=${AFTER_BIN:-$PWD/.build/release}
BEFORE_BIN=${BEFORE_BIN:-}
MINUTES=${1:-10}
PRESET=${PRESET:-medium}
CORES=$(nproc)
WORKERS=${WORKERS:-$CORES}
FOOTAGE=${LUMIERE_FOOTAGE:-../shared/footage}
work=$(mktemp -d)
if [ -n "${KEEP:-}" ]; then echo "work directory (kept): $work"; else trap 'rm -rf "$work"' EXIT; fi

film=${FILM:-}
if [ -z "$film" ]; then
  # A real 1080p clip if the footage has one, else the largest clip scaled to 1920x1080.
  src=""
  for f in "$FOOTAGE"/video/*; do
    [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=height -of csv=p=0 "$f" 2>/dev/null)" = 1080 ] && src=$f && break
  done
  seconds=$(awk -v m="$MINUTES" 'BEGIN { print m * 60 }')
  if [ -n "$src" ]; then
    cp "$src" "$work/base.${src##*.}"; base=$work/base.${src##*.}
  else
    src=$FOOTAGE/video/trailer_bbb.mp4
    [ -f "$src" ] || { echo "needs $src (../shared/footage)" >&2; exit 2; }
    base=$work/base.mp4
    # A keyframe every 2 s, as streaming masters have: with x264's default (250 frames, 10 s) and short segments
    # the coordinator finds the cuts would hold over 3x their frames in packets and falls back to lossless inputs.
    ffmpeg -v error -t "$seconds" -i "$src" -vf scale=1920:1080:flags=lanczos -c:v libx264 -preset veryfast -crf 20 -g 48 \
      -c:a copy "$base"
  fi
  length=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$base")
  loops=$(awk -v s="$seconds" -v l="$length" 'BEGIN { n = int(s / l); if (n * l < s - 0.01) n++; print (n < 1 ? 1 : n) }')
  film=$work/film.mp4
  ffmpeg -v error -stream_loop $((loops - 1)) -i "$base" -c copy "$film"
fi

python3 - "$film" "$work" "$PRESET" "$WORKERS" "$CORES" "$AFTER_BIN" "$BEFORE_BIN" "${SEGMENT_SECONDS:-}" "${BEFORE_ARGS:-}" "${AFTER_ARGS:-}" <<'PY'
import json, os, re, signal, socket, subprocess, sys, threading, time
film, work, preset, workers, cores, after_bin, before_bin, segment_seconds, before_args, after_args = sys.argv[1:11]
workers, cores = int(workers), int(cores)

def probe(path, entries, stream=True):
    sel = ["-select_streams", "v:0"] if stream else []
    out = subprocess.run(["ffprobe", "-v", "error", *sel, "-count_packets", "-show_entries", entries, "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True).stdout.strip()
    return out.split("\n")[0].strip(",")

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try: total += os.lstat(os.path.join(root, name)).st_size
            except OSError: pass  # removed while we walked
    return total

def cpu(rusage): return rusage.ru_utime + rusage.ru_stime

segment = ["--segment-seconds", segment_seconds] if segment_seconds else []

def run(label, bin_dir, extra):
    out, job = os.path.join(work, label + ".mp4"), os.path.join(work, label + ".job")
    endpoint = "tcp://127.0.0.1:%d" % free_port()
    log = open(os.path.join(work, label + ".log"), "w")
    start = time.monotonic()
    coordinator = subprocess.Popen([os.path.join(bin_dir, "lumiere-coordinator"), "restore", film, "-o", out, "--scale", "2",
                                    "--model", "lanczos", "--preset", preset, "--bind", endpoint, "--workers", "0",
                                    "--job-dir", job, "--log-level", "info", "--status", "log", *segment, *extra.split()],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    state = {"first": None, "report": None, "peak": 0, "tail": []}
    listening = threading.Event()
    def read():
        for line in coordinator.stderr:
            log.write(line)
            if "listening on" in line: listening.set()
            if state["first"] is None and "assigning" in line: state["first"] = time.monotonic() - start
            if line.startswith("throughput:"): state["report"] = line
            state["tail"] = (state["tail"] + [line])[-20:]
    done = threading.Event()  # set once wait4 has reaped the coordinator (poll() here would race it)
    def sample():
        while not done.is_set():
            state["peak"] = max(state["peak"], tree_bytes(job))
            done.wait(0.5)
    threads = [threading.Thread(target=read), threading.Thread(target=sample)]
    for t in threads: t.start()
    # Workers start once the coordinator listens, as on a farm whose workers wait for jobs: a worker started before
    # the bind backs off (Paranoid Pirate, up to 32 s) and would add its back-off to the time to the first assignment.
    while not listening.wait(0.05) and threads[0].is_alive(): pass  # the reader ends when the coordinator exits
    farm = [subprocess.Popen([os.path.join(bin_dir, "lumiere-worker"), "--connect", endpoint, "--threads", str(max(1, cores // workers)),
                              "--name", "bench-%d" % i, "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=log)
            for i in range(workers)]
    _, status, head_usage = os.wait4(coordinator.pid, 0)
    coordinator.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    wall = time.monotonic() - start
    worker_cpu = 0.0
    for w in farm:
        w.send_signal(signal.SIGTERM)
        worker_cpu += cpu(os.wait4(w.pid, 0)[2])
    for t in threads: t.join()
    log.close()
    if coordinator.returncode != 0 or state["report"] is None:
        sys.exit("%s: restore failed (exit %s):\n%s" % (label, coordinator.returncode, "".join(state["tail"])))
    sent, received = (float(x) * 1e6 for x in re.search(r"([0-9.]+) MB out, ([0-9.]+) MB back", state["report"]).groups())
    frames = int(probe(out, "stream=nb_read_packets"))
    return {"first": state["first"], "head_cpu": cpu(head_usage), "worker_cpu": worker_cpu, "frames": frames,
            "peak": state["peak"], "sent": sent, "received": received, "output": os.path.getsize(out), "wall": wall}

size, fps = probe(film, "stream=width,height,r_frame_rate"), None
frames_in = int(probe(film, "stream=nb_read_packets"))
duration = float(probe(film, "format=duration", stream=False))
print("head node: %s, %.1f min (%d frames, %s, %.1f MB) -> 3840x2160 lanczos, x264 %s, %s, %d workers x %d threads, %d cores, "
      "load %s at start, %s" % (os.path.basename(film), duration / 60, frames_in, size.replace(",", " "), os.path.getsize(film) / 1e6,
      preset, "segments of %s s" % (segment_seconds or "10 (default)"), workers, max(1, cores // workers), cores, " ".join(open("/proc/loadavg").read().split()[:3]), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
builds = ([("before", before_bin, before_args)] if before_bin else []) + [("today", after_bin, after_args)]
for label, path, extra in builds:
    if extra: print("%s: %s" % (label, extra))
results = {label: run(label, path, extra) for label, path, extra in builds}
input_bytes = os.path.getsize(film)

def row(name, fmt, f):
    print("%-44s" % name + "".join("%16s" % (fmt % f(results[l])) for l, _, _ in builds))
print("%-44s" % "" + "".join("%16s" % l for l, _, _ in builds))
row("time to first assignment (s)", "%.2f", lambda r: r["first"])
row("head-node CPU (s)", "%.1f", lambda r: r["head_cpu"])
row("worker CPU (s)", "%.1f", lambda r: r["worker_cpu"])
row("head-node CPU per output frame (ms)", "%.1f", lambda r: 1000 * r["head_cpu"] / r["frames"])
row("head-node share of all CPU (%)", "%.1f", lambda r: 100 * r["head_cpu"] / (r["head_cpu"] + r["worker_cpu"]))
row("job directory peak (MB)", "%.1f", lambda r: r["peak"] / 1e6)
row("sent to workers (MB)", "%.1f", lambda r: r["sent"] / 1e6)
row("received from workers (MB)", "%.1f", lambda r: r["received"] / 1e6)
row("output (MB)", "%.1f", lambda r: r["output"] / 1e6)
row("compressed input (MB)", "%.1f", lambda r: input_bytes / 1e6)
row("output frames", "%d", lambda r: r["frames"])
row("wall (s, machine shared)", "%.0f", lambda r: r["wall"])
goals = [("first assignment <= 5 s", lambda r: r["first"] <= 5),
         ("job directory peak <= 1.5x final file", lambda r: r["peak"] <= 1.5 * r["output"]),
         ("head-node CPU <= 10% of the farm's", lambda r: r["head_cpu"] <= 0.10 * (r["head_cpu"] + r["worker_cpu"])),
         ("network bytes <= 3x (compressed input + output)", lambda r: r["sent"] + r["received"] <= 3 * (input_bytes + r["output"]))]
for name, ok in goals:
    row("goal: " + name, "%s", lambda r: "PASS" if ok(r) else "FAIL")
with open(os.path.join(work, "results.json"), "w") as f: json.dump(results, f)
PY
