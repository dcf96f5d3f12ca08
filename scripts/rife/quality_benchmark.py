#!/usr/bin/env python3
"""Issue 6 quality benchmark, FFmpeg `minterpolate` rows (and the blend row as a metric check).

Same footing as the gated Swift test RIFEInterpolatorTests.testQualityBenchmarkOnBalle1:
  * frames: balle1-vp9.avi decoded by the ffmpeg CLI with `-vsync 0` (one frame per decoded
    picture, timestamps ignored: 295 frames; a timestamp-driven decode gives 300 because the AVI
    has no packets for pts 1..5 and CFR output repeats frames 0 and 1), rgb24, 320x240;
  * groups = (frames - 1) // 4; for group g, k = 4g, rebuild frames k+1..k+3 from k and k+4
    (73 groups, 219 rebuilt frames);
  * PSNR on RGB in [0, 1] (u8 / 255 as float32), MSE over all values, 10 log10(1 / MSE);
  * SSIM on BT.601 luma, 7x7 box windows over every full window, C1 = 0.01^2, C2 = 0.03^2.

The blend row is recomputed here (float32 crossfade, as BlendInterpolator) and must reproduce the
recorded numbers: that proves these metrics are the Swift test's.

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

Usage: python3 scripts/rife/quality_benchmark.py [--video PATH]
Needs python3, numpy and the ffmpeg CLI. Takes about a minute on one core.
"""

import argparse
import os
import subprocess
import sys

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


def score(name, rebuilt, truth, groups):
    """rebuilt(g, i) -> float32 image for frame 4g+i; returns the row."""
    psnrs, ssims = [], []
    for g in range(groups):
        for i in (1, 2, 3):
            img, real = rebuilt(g, i), to_float(truth[4 * g + i])
            psnrs.append(psnr(img, real))
            ssims.append(ssim(img, real))
    return (name, float(np.mean(psnrs)), min(psnrs), float(np.mean(ssims)), min(ssims), len(psnrs))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_video = os.path.normpath(os.path.join(here, "../../../shared/footage/video/balle1-vp9.avi"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", default=default_video)
    args = ap.parse_args()
    if not os.path.isfile(args.video):
        sys.exit(f"{args.video} not found: pass --video with the path of balle1-vp9.avi")

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
          f"{groups} groups, {3 * groups} rebuilt frames")

    rows = []
    blend = score("blend", lambda g, i: (np.float32(1) - np.float32(i / 4)) * to_float(rgb[4 * g])
                  + np.float32(i / 4) * to_float(rgb[4 * g + 4]), rgb, groups)
    got = (round(blend[1], 2), round(blend[2], 2), round(blend[3], 4), round(blend[4], 4))
    if got != RECORDED_BLEND:
        sys.exit(f"blend row {got} does not reproduce the Swift test's {RECORDED_BLEND}: the metrics differ")
    print("blend row reproduces the recorded Swift numbers %.2f / %.2f dB, SSIM %.4f / %.4f" % RECORDED_BLEND)
    rows.append(blend)

    kept = {"yuv420p": yuv[0:4 * groups + 1:4], "rgb-planes": list(rgb[0:4 * groups + 1:4])}
    for name, vf, path in MINTERPOLATE_ROWS:
        def run(frames):
            return yuv_to_rgb(frames, width, height, vf) if path == "yuv420p" else rgb_planes(frames, width, height, vf)
        k = kept[path]
        # minterpolate holds 4 input frames and rebuilds between the middle two, so it emits nothing
        # between the last two kept frames unless one more frame follows: a copy of the last one.
        out = run(k + [k[-1]])
        if len(out) != 4 * groups + 1:
            sys.exit(f"{vf} ({path}): {len(out)} frames out of {len(k)} kept (+1 copy), expected {4 * groups + 1}")
        # That look-ahead frame must not change the result: swap the real one for a copy one interval earlier.
        probe = run(k[:-1] + [k[-2]])
        last = slice(4 * (groups - 2), 4 * (groups - 1) + 1)
        if not np.array_equal(probe[last], out[last]):
            sys.exit(f"{vf} ({path}): the frame after an interval changes its rebuilt frames: padding with a copy is unfair")
        aligned = [psnr(to_float(out[4 * g]), to_float(rgb[4 * g])) for g in range(groups + 1)]
        if min(aligned) < ALIGNMENT_MIN_PSNR:
            bad = int(np.argmin(aligned))
            sys.exit(f"{vf} ({path}): output frame {4 * bad} is {aligned[bad]:.2f} dB from source frame {4 * bad}: misaligned")
        exact = sum(np.array_equal(out[4 * g], rgb[4 * g]) for g in range(groups + 1))
        print(f"{vf} ({path}): {len(out)} frames from {len(k)} kept; every 4th output vs its source frame: "
              f"min {min(aligned):.2f} dB, {exact}/{groups + 1} bit-identical")
        rows.append(score(name, lambda g, i: to_float(out[4 * g + i]), rgb, groups))

    print("| method | PSNR mean dB | PSNR worst dB | SSIM mean | SSIM worst | frames |")
    print("|---|---|---|---|---|---|")
    for name, pm, pw, sm, sw, n in rows:
        print(f"| {name} | {pm:.2f} | {pw:.2f} | {sm:.4f} | {sw:.4f} | {n} |")


if __name__ == "__main__":
    main()
