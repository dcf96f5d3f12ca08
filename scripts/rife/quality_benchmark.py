#!/usr/bin/env python3
"""Issue 6 quality benchmark on balle1: blend, RIFE v4.0 / v4.25 (ncnn oracle) and FFmpeg `minterpolate`.

Same footing as the gated Swift test RIFEInterpolatorTests.testQualityBenchmarkOnBalle1:
  * frames: balle1-vp9.avi decoded by the ffmpeg CLI with `-vsync 0` (one frame per decoded
    picture, timestamps ignored: 295 frames; a timestamp-driven decode gives 300 because the AVI
    has no packets for pts 1..5 and CFR output repeats frames 0 and 1), rgb24, 320x240;
  * groups = (frames - 1) // 4; for group g, k = 4g, rebuild frames k+1..k+3 from k and k+4 at
    t = 1/4, 1/2, 3/4 (73 groups, 219 rebuilt frames);
  * PSNR on RGB in [0, 1] (u8 / 255 as float32), MSE over all values, 10 log10(1 / MSE);
  * SSIM on BT.601 luma, 7x7 box windows over every full window, C1 = 0.01^2, C2 = 0.03^2.

The blend row is recomputed here (float32 crossfade, as BlendInterpolator) and must reproduce the
recorded numbers: that proves these metrics are the Swift test's.

RIFE rows come from the correctness oracle, not from our engine: PyPI ncnn on CPU running
rife-v4.0-ncnn / rife-v4.25-ncnn with rife.Warp computed in numpy between extractions
(scripts/ncnn_reference/make_reference.py run_ncnn, imported), framed as RIFEInterpolator does:
u8/255 frames zero-padded right/bottom to 32 (v4.0) / 64 (v4.25), in2 a full plane of t, out0
cropped back and clamped to [0, 1]. Each must reproduce the recorded Swift row (our engine) within
0.02 dB mean and worst PSNR, or the script stops.

minterpolate alignment: the kept frames 0, 4, ..., 292 are written as a raw stream at exactly
1 frame/s and interpolated to exactly 4 frames/s, so output frame j sits at source position j / 4
(no rate rounding, no timestamp gaps), plus one copy of the last kept frame so that the last interval
is rebuilt too (minterpolate's 4-frame window emits nothing between the last two frames otherwise).
Checked on every run: 293 output frames, every 4th one bit-identical to its source frame, and the
look-ahead frame does not change an interval's frames.
Two ways in: "yuv420p" feeds the decoded yuv420p pictures (the source's own pixels) and converts
the output to rgb24 with the same swscale path as the test's decode (checked: bit-identical frames);
"rgb-planes" feeds the test's exact rgb24 frames, which removes the 8-bit yuv420p round trip that
the float RGB rows (blend, RIFE) do not pay.

Extra variants (harder; the issue's row stays the every-4th table), with blend, both RIFE models and
minterpolate mci (defaults) both ways in:
  * most motion: of the every-4th groups, the quarter (73 // 4 = 18 groups, 54 frames) whose kept
    frames k and k+4 differ most (mean |difference| over RGB u8 values); scores reused, no new runs;
  * keep every 8th frame: 36 groups, rebuild the 7 between at t = i/8 (252 frames), minterpolate
    at exactly 1 -> 8 frames/s with the same checks. Skipped with --quick.

Ceiling (skipped with --quick): how high can anything score on this clip? The every-4th frames are
rebuilt by predictors that cheat, each given more than any interpolator has: the real neighbours
j - 1 and j + 1 of the frame j being rebuilt (a quarter of the motion, frames the benchmark withholds),
averaged or interpolated by RIFE v4.0 at t = 1/2; and the same with each frame's true per-channel mean
taken from the answer (the clip flickers frame to frame); and, frame by frame, whichever real
interpolator came closest. If none reaches minterpolate + 2 dB, no interpolator working from the kept
frames can be expected to meet the target on this clip. Also one honest
variant: RIFE v4.0 test-time ensemble (the mean of k -> k+4 at t, both frames mirrored, and
k+4 -> k at 1 - t).

Usage: python3 scripts/rife/quality_benchmark.py [--video PATH] [--models DIR] [--quick] [--jobs N]
Needs python3, numpy, the PyPI `ncnn` package and the ffmpeg CLI. About 5.5-7 min with --jobs 2 on
2 busy cores (2.6-3.5 min with --quick); RIFE through the oracle is most of it (~0.35 s per frame,
single-threaded ncnn in its most exact mode plus numpy warps).
"""

import argparse
import multiprocessing
import os
import subprocess
import sys
import time

import numpy as np

RECORDED_BLEND = (41.77, 36.04, 0.9930, 0.9812)  # docs/interpolation.md, from the Swift test
MCI = "minterpolate=fps=4:mi_mode=mci"
MCI_AOBMC = MCI + ":mc_mode=aobmc:me_mode=bidir:vsbmc=1"
BLEND_8BIT = "minterpolate=fps=4:mi_mode=blend"  # its own crossfade: what the 8-bit path costs
# (row name, filter, path): "yuv420p" feeds the decoded yuv420p pictures and converts the output to
# rgb24 as the test's decode does; "rgb-planes" feeds the test's rgb24 frames as G/B/R planes
# labelled yuv444p (no colour conversion or chroma subsampling; motion is estimated on G).
MINTERPOLATE_ROWS = [
    ("minterpolate mci (defaults), yuv420p", MCI, "yuv420p"),
    ("minterpolate mci aobmc bidir vsbmc, yuv420p", MCI_AOBMC, "yuv420p"),
    ("minterpolate mci (defaults), RGB planes", MCI, "rgb-planes"),
    ("minterpolate mci aobmc bidir vsbmc, RGB planes", MCI_AOBMC, "rgb-planes"),
    ("minterpolate blend (8-bit), yuv420p", BLEND_8BIT, "yuv420p"),
    ("minterpolate blend (8-bit), RGB planes", BLEND_8BIT, "rgb-planes"),
]
ALIGNMENT_MIN_PSNR = 50.0
# Extra variants run minterpolate mci with its defaults only, both ways in (fps=4 becomes fps=8 for
# keep-every-8th).
EXTRA_MINTERPOLATE = [r for r in MINTERPOLATE_ROWS if r[1] == MCI]
EXTRA_NAMES = [r[0] for r in EXTRA_MINTERPOLATE]
RECORDED_RIFE = {"rife-v4.0": (42.54, 37.30), "rife-v4.25": (42.49, 35.13)}  # Swift test, PSNR mean / worst dB
MAX_FRAMES = 10_000  # untrusted input: refuse absurd decodes rather than exhaust memory


def probe_size(video):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,r_frame_rate",
         "-of", "default=noprint_wrappers=1", video], check=True, capture_output=True, text=True).stdout
    fields = dict(line.split("=", 1) for line in out.split())
    return int(fields["width"]), int(fields["height"]), fields["r_frame_rate"]


def split_frames(data, frame_bytes, what):
    if not data or len(data) % frame_bytes:
        sys.exit(f"{what}: ffmpeg gave {len(data)} bytes, not a positive multiple of {frame_bytes}; check the input file")
    count = len(data) // frame_bytes
    if count > MAX_FRAMES:
        sys.exit(f"{what}: {count} frames, more than the {MAX_FRAMES} this benchmark accepts")
    return count


def decode(video, pix_fmt, width, height):
    """Every decoded picture in order (-vsync 0, as the Swift test), as raw bytes per frame."""
    data = subprocess.run(["ffmpeg", "-v", "error", "-i", video, "-vf", "null", "-vsync", "0",
                           "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"], check=True, capture_output=True).stdout
    frame_bytes = width * height * 3 if pix_fmt == "rgb24" else width * height * 3 // 2
    count = split_frames(data, frame_bytes, f"decode {pix_fmt}")
    return [data[i * frame_bytes:(i + 1) * frame_bytes] for i in range(count)]


def ffmpeg_raw(frames, in_fmt, out_fmt, width, height, vf="null"):
    """Raw frames at exactly 1 frame/s through an ffmpeg filter; returns the raw output frames' bytes."""
    cmd = ["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", in_fmt, "-s", f"{width}x{height}",
           "-framerate", "1", "-i", "-", "-vf", vf, "-vsync", "0", "-f", "rawvideo", "-pix_fmt", out_fmt, "-"]
    return subprocess.run(cmd, input=b"".join(frames), check=True, capture_output=True).stdout


def yuv_to_rgb(frames_yuv, width, height, vf="null"):
    """Raw yuv420p frames through ffmpeg (optionally a filter) to rgb24 arrays (N, H, W, 3) uint8."""
    data = ffmpeg_raw(frames_yuv, "yuv420p", "rgb24", width, height, vf)
    count = split_frames(data, width * height * 3, vf)
    return np.frombuffer(data, np.uint8).reshape(count, height, width, 3)


def rgb_planes(frames_rgb, width, height, vf):
    """rgb24 frames (N, H, W, 3) fed as G, B, R planes labelled yuv444p (gbrp's plane order), so the
    filter sees the exact RGB values; the output planes are read back as RGB."""
    planes = [np.ascontiguousarray(f[..., [1, 2, 0]].transpose(2, 0, 1)).tobytes() for f in frames_rgb]
    data = ffmpeg_raw(planes, "yuv444p", "yuv444p", width, height, vf)
    count = split_frames(data, width * height * 3, vf)
    return np.ascontiguousarray(np.frombuffer(data, np.uint8).reshape(count, 3, height, width).transpose(0, 2, 3, 1)[..., [2, 0, 1]])


def to_float(frame_u8):
    return frame_u8.astype(np.float32) / np.float32(255)  # Float(u8) / 255, as the Swift decode


def psnr(a, b):
    d = a - b  # float32 difference and square, summed in double: the Swift test's order
    mse = float(np.sum((d * d).astype(np.float64))) / d.size
    return float(10 * np.log10(1 / max(mse, 1e-12)))


def ssim(a, b, r=7):
    def luma(im):
        im = im.astype(np.float64)
        return 0.299 * im[..., 0] + 0.587 * im[..., 1] + 0.114 * im[..., 2]

    x, y = luma(a), luma(b)

    def box(f):
        s = np.zeros((f.shape[0] + 1, f.shape[1] + 1))
        s[1:, 1:] = f.cumsum(0).cumsum(1)
        return (s[r:, r:] - s[:-r, r:] - s[r:, :-r] + s[:-r, :-r]) / (r * r)

    mx, my = box(x), box(y)
    vx, vy, cxy = box(x * x) - mx * mx, box(y * y) - my * my, box(x * y) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    return float(np.mean(((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))))


def frame_scores(rebuilt, truth, step, groups):
    """rebuilt(g, i) -> float32 image (H, W, 3) for frame step*g + i; [(psnr, ssim)] in group order."""
    out = []
    for g in range(groups):
        for i in range(1, step):
            img, real = rebuilt(g, i), to_float(truth[step * g + i])
            out.append((psnr(img, real), ssim(img, real)))
    return out


def row(name, scores):
    p, s = [x[0] for x in scores], [x[1] for x in scores]
    return (name, float(np.mean(p)), min(p), float(np.mean(s)), min(s), len(p))


def blend_frame(rgb, step, g, i):
    t = np.float32(i / step)  # BlendInterpolator: (1 - t) * first + t * second in float32
    return (np.float32(1) - t) * to_float(rgb[step * g]) + t * to_float(rgb[step * g + step])


# ---- RIFE through the oracle: PyPI ncnn + numpy rife.Warp (scripts/ncnn_reference/make_reference.py) ----

RIFE_MODELS = [("rife-v4.0", "rife-v4.0-ncnn", 32), ("rife-v4.25", "rife-v4.25-ncnn", 64)]
RIFE_TOLERANCE_DB = 0.02
_rife_job = {}  # set before the worker pool forks: frames, model paths, pad multiple


def rife_frame(first_u8, second_u8, t, param, weights, multiple):
    """As RIFEInterpolator: u8/255 CHW frames zero-padded right/bottom to the model's multiple,
    in2 a full plane of Float(t), out0 cropped back and clamped to [0, 1]."""
    import make_reference  # ncnn + run_ncnn (warps injected between extractions) + warp_reference
    h, w = first_u8.shape[:2]
    ph, pw = -(-h // multiple) * multiple, -(-w // multiple) * multiple

    def padded(frame):
        out = np.zeros((3, ph, pw), np.float32)
        out[:, :h, :w] = to_float(frame).transpose(2, 0, 1)
        return out

    plane = np.full((1, ph, pw), np.float32(t), np.float32)
    res = make_reference.run_ncnn(param, weights, {"in0": padded(first_u8), "in1": padded(second_u8), "in2": plane},
                                  ["out0"], warp=True)["out0"]
    if res.shape != (3, ph, pw):
        raise RuntimeError(f"{param}: out0 is {res.shape}, expected {(3, ph, pw)}")
    return np.clip(res[:, :h, :w], 0, 1).transpose(1, 2, 0)


def _rife_score(task):
    step, g, i = task
    job = _rife_job
    rgb = job["rgb"]
    img = rife_frame(rgb[step * g], rgb[step * g + step], i / step, job["param"], job["bin"], job["multiple"])
    real = to_float(rgb[step * g + i])
    return psnr(img, real), ssim(img, real)


def rife_scores(rgb, models_dir, folder, multiple, step, groups, jobs):
    """Per-frame (psnr, ssim) for every rebuilt frame of the given spacing, in group order."""
    _rife_job.update(rgb=rgb, multiple=multiple, param=os.path.join(models_dir, folder, "flownet.param"),
                     bin=os.path.join(models_dir, folder, "flownet.bin"))
    tasks = [(step, g, i) for g in range(groups) for i in range(1, step)]
    if jobs <= 1:
        return [_rife_score(t) for t in tasks]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:  # each ncnn run is single-threaded
        return pool.map(_rife_score, tasks, chunksize=4)


def with_true_means(img, real):
    """Cheat: shift each channel so its mean is the real frame's (the clip's flicker, from the answer)."""
    return img - (img.mean((0, 1)) - real.mean((0, 1)))


def _ceiling_score(j):
    """RIFE v4.0 cheats and the test-time ensemble for every-4th rebuilt frame j (see the docstring)."""
    job = _rife_job
    rgb, real = job["rgb"], to_float(job["rgb"][j])
    g, i = divmod(j, 4)
    a, b, t = rgb[4 * g], rgb[4 * g + 4], i / 4

    def run(first, second, at):
        return rife_frame(np.ascontiguousarray(first), np.ascontiguousarray(second), at, job["param"], job["bin"], job["multiple"])

    cheat = run(rgb[j - 1], rgb[j + 1], 0.5)
    ensemble = (run(a, b, t) + run(a[:, ::-1], b[:, ::-1], t)[:, ::-1] + run(b, a, 1 - t)) / np.float32(3)
    out = {"rife-v4.0 on the real frames j-1, j+1 (cheat)": cheat,
           "rife-v4.0 on j-1, j+1, true frame means (cheat)": with_true_means(cheat, real),
           "rife-v4.0 ensemble: mirrored, reversed (3 runs)": ensemble}
    return {name: (psnr(img, real), ssim(img, real)) for name, img in out.items()}


def ceiling(rgb, models_dir, groups, jobs, scores4, target):
    """The ceiling table (module docstring): cheats, the ensemble, and the per-frame best of every row."""
    folder, multiple = RIFE_MODELS[0][1], RIFE_MODELS[0][2]
    _rife_job.update(rgb=rgb, multiple=multiple, param=os.path.join(models_dir, folder, "flownet.param"),
                     bin=os.path.join(models_dir, folder, "flownet.bin"))
    frames = [4 * g + i for g in range(groups) for i in (1, 2, 3)]
    t0 = time.time()
    if jobs <= 1:
        rife = [_ceiling_score(j) for j in frames]
    else:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            rife = pool.map(_ceiling_score, frames, chunksize=4)
    print(f"ceiling: {4 * len(frames)} RIFE runs in {time.time() - t0:.0f} s", flush=True)
    scores = {}
    for j, cheats in zip(frames, rife):
        real, g, i = to_float(rgb[j]), j // 4, j % 4
        average = np.float32(0.5) * (to_float(rgb[j - 1]) + to_float(rgb[j + 1]))
        crossfade = blend_frame(rgb, 4, g, i)
        mine = {"mean of the real frames j-1, j+1 (cheat)": average,
                "mean of j-1, j+1, true frame means (cheat)": with_true_means(average, real),
                "blend, true frame means (cheat)": with_true_means(crossfade, real)}
        for name, img in mine.items():
            scores.setdefault(name, []).append((psnr(img, real), ssim(img, real)))
        for name, sc in cheats.items():
            scores.setdefault(name, []).append(sc)
    # Choosing, frame by frame, whichever real interpolator came closest needs the answer too.
    honest = list(scores4.values()) + [scores["rife-v4.0 ensemble: mirrored, reversed (3 runs)"]]
    scores["per frame, the best of blend, RIFE, minterpolate, ensemble (cheat)"] = [
        (max(s[n][0] for s in honest), max(s[n][1] for s in honest)) for n in range(len(frames))]
    rows = [row(n, s) for n, s in scores.items()]
    print_table(f"Ceiling: keep every 4th frame; the target is {target:.2f} dB mean PSNR (minterpolate mci + 2 dB)", rows)
    best = max(rows, key=lambda r: r[1])
    print(f"highest mean PSNR: {best[0]} {best[1]:.2f} dB, {best[1] - target:+.2f} dB against the target: "
          f"{'some predictor reaches it' if best[1] >= target else 'nothing reaches it, not even with the answers'}")


# ---- FFmpeg minterpolate, aligned exactly (see the module docstring) ----

def minterpolate(kept, step, groups, vf, path, rgb, width, height):
    """kept frames at 1 frame/s -> `step` frames/s; returns the output (N, H, W, 3) uint8, checked."""
    def run(frames):
        return yuv_to_rgb(frames, width, height, vf) if path == "yuv420p" else rgb_planes(frames, width, height, vf)
    # minterpolate holds 4 input frames and rebuilds between the middle two, so it emits nothing
    # between the last two kept frames unless one more frame follows: a copy of the last one.
    out = run(kept + [kept[-1]])
    if len(out) != step * groups + 1:
        sys.exit(f"{vf} ({path}): {len(out)} frames out of {len(kept)} kept (+1 copy), expected {step * groups + 1}")
    # That look-ahead frame must not change the result: swap the real one for a copy one interval earlier.
    probe = run(kept[:-1] + [kept[-2]])
    last = slice(step * (groups - 2), step * (groups - 1) + 1)
    if not np.array_equal(probe[last], out[last]):
        sys.exit(f"{vf} ({path}): the frame after an interval changes its rebuilt frames: padding with a copy is unfair")
    aligned = [psnr(to_float(out[step * g]), to_float(rgb[step * g])) for g in range(groups + 1)]
    if min(aligned) < ALIGNMENT_MIN_PSNR:
        bad = int(np.argmin(aligned))
        sys.exit(f"{vf} ({path}): output frame {step * bad} is {aligned[bad]:.2f} dB from source frame {step * bad}: misaligned")
    exact = sum(np.array_equal(out[step * g], rgb[step * g]) for g in range(groups + 1))
    print(f"{vf} ({path}): {len(out)} frames from {len(kept)} kept; every {step}th output vs its source frame: "
          f"min {min(aligned):.2f} dB, {exact}/{groups + 1} bit-identical", flush=True)
    return out


def print_table(title, rows):
    print(f"\n{title}\n| method | PSNR mean dB | PSNR worst dB | SSIM mean | SSIM worst | frames |\n|---|---|---|---|---|---|")
    for name, pm, pw, sm, sw, n in rows:
        print(f"| {name} | {pm:.2f} | {pw:.2f} | {sm:.4f} | {sw:.4f} | {n} |")


def verdict(rows, frames, scores):
    """The issue's target against each minterpolate mci (defaults) row, and where each method is worst."""
    for base in (r for r in rows if r[0] in EXTRA_NAMES):
        for r in (r for r in rows if r[0].startswith("rife")):
            gain = r[1] - base[1]
            print(f"{r[0]}: {gain:+.2f} dB mean PSNR over {base[0]}: "
                  f"RIFE >= minterpolate + 2 dB {'holds' if gain >= 2 else 'does not hold'}")
    print("worst PSNR at frame: " + ", ".join(
        f"{r[0]} {frames[int(np.argmin([x[0] for x in scores[r[0]]]))]}" for r in rows))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_video = os.path.normpath(os.path.join(here, "../../../shared/footage/video/balle1-vp9.avi"))
    default_models = os.path.normpath(os.path.join(here, "../../models"))  # shipped in the repository
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", default=default_video)
    ap.add_argument("--models", default=os.environ.get("LUMIERE_MODELS", default_models),
                    help="folder holding rife-v4.0-ncnn/ and rife-v4.25-ncnn/")
    ap.add_argument("--quick", action="store_true",
                    help="only the issue's every-4th table (skips keep-every-8th and the ceiling)")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                    help="RIFE frames computed in parallel processes (default: cores, at most 4)")
    args = ap.parse_args()
    if not os.path.isfile(args.video):
        sys.exit(f"{args.video} not found: pass --video with the path of balle1-vp9.avi")
    for _, folder, _ in RIFE_MODELS:
        for f in ("flownet.param", "flownet.bin"):
            if not os.path.isfile(os.path.join(args.models, folder, f)):
                sys.exit(f"{os.path.join(args.models, folder, f)} not found: pass --models with the shared models folder")
    if not 1 <= args.jobs <= 64:
        sys.exit(f"--jobs {args.jobs}: use 1 to 64")
    sys.path.insert(0, os.path.join(here, "..", "ncnn_reference"))
    start = time.time()

    width, height, rate = probe_size(args.video)
    rgb = np.stack([np.frombuffer(f, np.uint8).reshape(height, width, 3)
                    for f in decode(args.video, "rgb24", width, height)])
    yuv = decode(args.video, "yuv420p", width, height)
    if len(yuv) != len(rgb):
        sys.exit(f"yuv420p decode gave {len(yuv)} frames, rgb24 {len(rgb)}: the decodes disagree")
    if not np.array_equal(yuv_to_rgb(yuv, width, height), rgb):
        sys.exit("yuv420p -> rgb24 through a raw stream differs from the direct rgb24 decode: alignment check would be unfair")
    groups = (len(rgb) - 1) // 4
    print(f"{args.video}: {width}x{height}, r_frame_rate {rate}, {len(rgb)} frames decoded (-vsync 0), "
          f"{groups} groups, {3 * groups} rebuilt frames", flush=True)

    # ---- the benchmark: keep every 4th frame ----
    scores4 = {"blend": frame_scores(lambda g, i: blend_frame(rgb, 4, g, i), rgb, 4, groups)}
    blend = row("blend", scores4["blend"])
    got = (round(blend[1], 2), round(blend[2], 2), round(blend[3], 4), round(blend[4], 4))
    if got != RECORDED_BLEND:
        sys.exit(f"blend row {got} does not reproduce the Swift test's {RECORDED_BLEND}: the metrics differ")
    print("blend row reproduces the recorded Swift numbers %.2f / %.2f dB, SSIM %.4f / %.4f" % RECORDED_BLEND, flush=True)

    for name, folder, multiple in RIFE_MODELS:
        t0 = time.time()
        scores4[name] = rife_scores(rgb, args.models, folder, multiple, 4, groups, args.jobs)
        r = row(name, scores4[name])
        mean_ref, worst_ref = RECORDED_RIFE[name]
        print(f"{name} (ncnn oracle): {r[1]:.3f} / {r[2]:.3f} dB in {time.time() - t0:.0f} s; "
              f"recorded Swift row {mean_ref:.2f} / {worst_ref:.2f}", flush=True)
        if abs(r[1] - mean_ref) > RIFE_TOLERANCE_DB or abs(r[2] - worst_ref) > RIFE_TOLERANCE_DB:
            sys.exit(f"{name}: the ncnn oracle gives {r[1]:.3f} / {r[2]:.3f} dB, the Swift test recorded "
                     f"{mean_ref:.2f} / {worst_ref:.2f}: more than {RIFE_TOLERANCE_DB} dB apart; the engines or the "
                     f"pre/post-processing differ")

    kept4 = {"yuv420p": yuv[0:4 * groups + 1:4], "rgb-planes": list(rgb[0:4 * groups + 1:4])}
    for name, vf, path in MINTERPOLATE_ROWS:
        out = minterpolate(kept4[path], 4, groups, vf, path, rgb, width, height)
        scores4[name] = frame_scores(lambda g, i: to_float(out[4 * g + i]), rgb, 4, groups)
    rows4 = [row(n, s) for n, s in scores4.items()]  # blend, RIFE, then minterpolate: insertion order
    print_table("Keep every 4th frame (the issue's benchmark)", rows4)
    frames4 = [4 * g + i for g in range(groups) for i in (1, 2, 3)]
    verdict(rows4, frames4, scores4)
    if not args.quick:
        target = next(r[1] for r in rows4 if r[0] == EXTRA_NAMES[0]) + 2
        ceiling(rgb, args.models, groups, args.jobs, scores4, target)

    # ---- extra: the quarter of every-4th rebuilt frames with the most motion ----
    diff = [float(np.mean(np.abs(rgb[4 * g + 4].astype(np.int16) - rgb[4 * g].astype(np.int16)))) for g in range(groups)]
    top = sorted(sorted(range(groups), key=lambda g: -diff[g])[:groups // 4])
    picked = [3 * g + j for g in top for j in range(3)]
    print(f"\nmost motion: {len(top)} of {groups} groups (mean |frame k+4 - frame k| >= {min(diff[g] for g in top):.2f}/255, "
          f"all groups: median {float(np.median(diff)):.2f}/255), groups k = {[4 * g for g in top]}")
    extra_names = ["blend", "rife-v4.0", "rife-v4.25"] + [n for n, _, _ in EXTRA_MINTERPOLATE]
    scores_top = {n: [scores4[n][j] for j in picked] for n in extra_names}
    rows_top = [row(n, scores_top[n]) for n in extra_names]
    print_table(f"Extra: keep every 4th frame, the {len(picked)} rebuilt frames with the most motion", rows_top)
    verdict(rows_top, [frames4[j] for j in picked], scores_top)

    # ---- extra: keep every 8th frame, rebuild the 7 between ----
    if not args.quick:
        groups8 = (len(rgb) - 1) // 8
        scores8 = {"blend": frame_scores(lambda g, i: blend_frame(rgb, 8, g, i), rgb, 8, groups8)}
        for name, folder, multiple in RIFE_MODELS:
            t0 = time.time()
            scores8[name] = rife_scores(rgb, args.models, folder, multiple, 8, groups8, args.jobs)
            print(f"{name} every 8th: {7 * groups8} frames in {time.time() - t0:.0f} s", flush=True)
        kept8 = {"yuv420p": yuv[0:8 * groups8 + 1:8], "rgb-planes": list(rgb[0:8 * groups8 + 1:8])}
        for name, vf, path in EXTRA_MINTERPOLATE:
            vf8 = vf.replace("fps=4", "fps=8")
            out = minterpolate(kept8[path], 8, groups8, vf8, path, rgb, width, height)
            scores8[name] = frame_scores(lambda g, i: to_float(out[8 * g + i]), rgb, 8, groups8)
        rows8 = [row(n, scores8[n]) for n in extra_names]
        print_table(f"Extra: keep every 8th frame, rebuild the 7 between ({groups8} groups)", rows8)
        verdict(rows8, [8 * g + i for g in range(groups8) for i in range(1, 8)], scores8)
    print(f"\ntotal {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
