#!/usr/bin/env python3
"""ncnn reference outputs of RIFE v4.0 / v4.25 on the full real frame pairs (footage/framepairs),
padded as RIFEInterpolator pads (zeros right/bottom to 32 / 64), t = 0.5 and 0.3.
rife.Warp is computed in numpy (make_reference.run_ncnn). Writes LTEN files + manifest.json to OUT.
Usage: ncnn_full_frames.py OUT --models DIR --footage DIR"""
import argparse, json, os, subprocess, sys
import numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ncnn_reference"))
from make_reference import run_ncnn, write_tensor  # noqa: E402


def load(path):
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", path],
                           check=True, capture_output=True, text=True).stdout.split(",")
    w, h = int(probe[0]), int(probe[1])
    data = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          check=True, capture_output=True).stdout
    return np.frombuffer(data, np.uint8).reshape(h, w, 3).transpose(2, 0, 1).astype(np.float32) / 255


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out"); p.add_argument("--models", required=True); p.add_argument("--footage", required=True)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    manifest = []
    for stem in ("basketball", "rubberwhale"):
        f0 = load(os.path.join(a.footage, "framepairs", stem + "1.png"))
        f1 = load(os.path.join(a.footage, "framepairs", stem + "2.png"))
        _, h, w = f0.shape
        for model, folder, m in (("rife-v4.0", "rife-v4.0-ncnn", 32), ("rife-v4.25", "rife-v4.25-ncnn", 64)):
            ph, pw = (h + m - 1) // m * m, (w + m - 1) // m * m
            pad = lambda x: np.pad(x, ((0, 0), (0, ph - h), (0, pw - w)))
            for t in (0.5, 0.3):
                param = os.path.join(a.models, folder, "flownet.param")
                out = run_ncnn(param, os.path.join(a.models, folder, "flownet.bin"),
                               {"in0": pad(f0), "in1": pad(f1), "in2": np.full((1, ph, pw), t, np.float32)}, ["out0"], warp=True)
                name = f"{model}-{stem}-t{t}"
                base = os.path.join(a.out, name)
                write_tensor(base + ".first.lten", f0); write_tensor(base + ".second.lten", f1)
                write_tensor(base + ".out0.lten", out["out0"][:, :h, :w].copy())
                manifest.append({"name": name, "model": model, "t": t, "first": base + ".first.lten",
                                 "second": base + ".second.lten", "out0": base + ".out0.lten"})
    json.dump(manifest, open(os.path.join(a.out, "manifest.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
