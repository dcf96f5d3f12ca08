#!/usr/bin/env python3
"""RIFE vs FFmpeg minterpolate vs blend on clips where motion, not noise, decides the score.

The issue's benchmark (quality_benchmark.py, balle1 at 187 fps) is limited by each frame's own flicker
and codec noise: there every method is within 0.8 dB of a crossfade and not even a predictor given the
answers reaches minterpolate + 2 dB (its ceiling table). This script runs the same comparison on our
other real clips with larger motion between kept frames, so the gap RIFE opens where motion matters is
on record too (rife-v4.0 and rife-v4.25). Same metrics, same RIFE framing (the ncnn oracle, which our engine matches), same exact
minterpolate alignment (kept frames at 1 frame/s -> `step` frames/s, checked) as quality_benchmark.py:

  * carphone_pristine.mp4: 176x144, 29.97 fps, the lightly compressed classic test sequence; keep
    every 2nd and every 4th frame;
  * box.mp4: 640x480, 29.97 fps handheld camera, its first 241 frames; keep every 2nd;
  * trailer_bbb.mp4: 24 fps animation, scaled to 640x360 (bicubic, for every method alike), its first
    481 frames; keep every 2nd.

Groups holding a cut (two consecutive real frames more than 30/255 apart on average) are left out of
every row: no method should interpolate across a cut (the product holds the nearer frame there).

Usage: python3 scripts/rife/quality_other_clips.py [--footage DIR] [--models DIR] [--jobs N]
About 7 min with --jobs 2 on 2 cores. Needs python3, numpy, the PyPI `ncnn` package and the ffmpeg CLI.
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np

import quality_benchmark as qb

# (label, file, ffmpeg filter before the frames are taken, frames used (None: all), steps)
CLIPS = [
    ("carphone_pristine", "carphone_pristine.mp4", "null", None, (2, 4)),
    ("box", "box.mp4", "null", 241, (2,)),
    ("trailer_bbb 640x360", "trailer_bbb.mp4", "scale=640:360:flags=bicubic", 481, (2,)),
]
CUT_MEAN_DIFF = 30.0  # u8 levels; hard cuts in these clips are 60-75, real motion stays below 15


def decode(path, vf, pix_fmt, width, height, limit):
    cmd = ["ffmpeg", "-v", "error", "-i", path, "-vf", vf, "-vsync", "0"]
    if limit:
        cmd += ["-frames:v", str(limit)]
    data = subprocess.run(cmd + ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-"], check=True, capture_output=True).stdout
    frame_bytes = width * height * 3 if pix_fmt == "rgb24" else width * height * 3 // 2
    count = qb.split_frames(data, frame_bytes, f"{path} {pix_fmt}")
    return [data[i * frame_bytes:(i + 1) * frame_bytes] for i in range(count)]


def output_size(path, vf):
    """The frame size after the filter (the only resizing filter used here is scale=W:H)."""
    width, height, _ = qb.probe_size(path)
    if vf.startswith("scale="):
        width, height = (int(v) for v in vf[len("scale="):].split(":")[:2])
    return width, height


def compare(label, path, vf, limit, step, models, jobs):
    width, height = output_size(path, vf)
    # The truth is the yuv420p decode converted to rgb24 by the same swscale path as minterpolate's
    # output, so minterpolate pays no conversion its truth does not (a scaled rgb24 decode differs).
    yuv = decode(path, vf, "yuv420p", width, height, limit)
    rgb = qb.yuv_to_rgb(yuv, width, height)
    groups = (len(rgb) - 1) // step
    jumps = np.mean(np.abs(np.diff(rgb[:step * groups + 1].astype(np.int16), axis=0)), axis=(1, 2, 3))
    cut_groups = {int(f) // step for f in np.nonzero(jumps > CUT_MEAN_DIFF)[0]}
    keep = [g for g in range(groups) if g not in cut_groups]
    motion = [float(np.mean(np.abs(rgb[step * g + step].astype(np.int16) - rgb[step * g].astype(np.int16)))) for g in keep]
    print(f"\n{label}: {width}x{height}, {len(rgb)} frames, keep every {step}{'nd' if step == 2 else 'th'}: {groups} groups, "
          f"{len(cut_groups)} with a cut left out, {len(keep) * (step - 1)} rebuilt frames; "
          f"median mean |frame k+{step} - frame k| {float(np.median(motion)):.2f}/255", flush=True)

    def only_kept(scores):
        return [s for g in keep for s in scores[(step - 1) * g:(step - 1) * (g + 1)]]

    rows = [qb.row("blend", only_kept(qb.frame_scores(lambda g, i: qb.blend_frame(rgb, step, g, i), rgb, step, groups)))]
    for name, folder, multiple in qb.RIFE_MODELS:
        t0 = time.time()
        rows.append(qb.row(name, only_kept(qb.rife_scores(rgb, models, folder, multiple, step, groups, jobs))))
        print(f"{name}: {groups * (step - 1)} frames in {time.time() - t0:.0f} s", flush=True)
    vf_mci = qb.MCI.replace("fps=4", f"fps={step}")
    out = qb.minterpolate(yuv[0:step * groups + 1:step], step, groups, vf_mci, "yuv420p", rgb, width, height)
    name = "minterpolate mci (defaults), yuv420p"
    rows.append(qb.row(name, only_kept(qb.frame_scores(lambda g, i: qb.to_float(out[step * g + i]), rgb, step, groups))))
    qb.print_table(f"{label}, keep every {step}{'nd' if step == 2 else 'th'} frame", rows)
    for rife in rows[1:-1]:
        gain = rife[1] - rows[-1][1]
        print(f"{rife[0]}: {gain:+.2f} dB mean PSNR over {name}: "
              f"RIFE >= minterpolate + 2 dB {'holds' if gain >= 2 else 'does not hold'}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--footage", default=os.path.normpath(os.path.join(here, "../../../shared/footage/video")))
    ap.add_argument("--models", default=os.environ.get("LUMIERE_MODELS", os.path.normpath(os.path.join(here, "../../models"))))
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), help="RIFE frames computed in parallel processes")
    args = ap.parse_args()
    if not 1 <= args.jobs <= 64:
        sys.exit(f"--jobs {args.jobs}: use 1 to 64")
    for _, file, _, _, _ in CLIPS:
        if not os.path.isfile(os.path.join(args.footage, file)):
            sys.exit(f"{os.path.join(args.footage, file)} not found: pass --footage with the shared footage/video folder")
    sys.path.insert(0, os.path.join(here, "..", "ncnn_reference"))
    start = time.time()
    for label, file, vf, limit, steps in CLIPS:
        for step in steps:
            compare(label, os.path.join(args.footage, file), vf, limit, step, args.models, args.jobs)
    print(f"\ntotal {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
