#!/usr/bin/env python3
"""Times ncnn (PyPI `ncnn`, CPU, fp32) on RIFE v4.0 / v4.25 for one frame pair at t = 0.5.

ncnn_rife_bench.py MODELS_DIR MODEL FIRST.png SECOND.png --threads N --runs R
The PyPI wheel has no native rife.Warp, so the warps are computed in numpy (make_reference.run_ncnn's
injection). Prints JSON: best total seconds, and best seconds with the numpy warps subtracted
(ncnn's time for everything else: a lower bound for ncnn with a free warp)."""
import argparse, json, os, sys, time
import numpy as np
import ncnn
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ncnn_reference"))
import make_reference  # noqa: E402
from ncnn_full_frames import load  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models"); ap.add_argument("model"); ap.add_argument("first"); ap.add_argument("second")
    ap.add_argument("--threads", type=int, default=1); ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    folder, m = {"rife-v4.0": ("rife-v4.0-ncnn", 32), "rife-v4.25": ("rife-v4.25-ncnn", 64)}[a.model]
    f0, f1 = load(a.first), load(a.second)
    _, h, w = f0.shape
    ph, pw = (h + m - 1) // m * m, (w + m - 1) // m * m
    pad = lambda x: np.pad(x, ((0, 0), (0, ph - h), (0, pw - w)))
    inputs = {"in0": pad(f0), "in1": pad(f1), "in2": np.full((1, ph, pw), 0.5, np.float32)}

    net = ncnn.Net()
    o = net.opt
    o.num_threads = a.threads
    o.use_vulkan_compute = False
    # fp32 like our engine, with ncnn's normal fast paths (Winograd, sgemm, packing) left on.
    o.use_fp16_storage = False; o.use_fp16_packed = False; o.use_fp16_arithmetic = False; o.use_bf16_storage = False
    param = os.path.join(a.models, folder, "flownet.param"); binf = os.path.join(a.models, folder, "flownet.bin")
    net.register_custom_layer("rife.Warp", make_reference.UnusedWarp, lambda layer: None)
    net.load_param(param); net.load_model(binf)
    warps = [l.split() for l in open(param).read().splitlines()[2:] if l.split() and l.split()[0] == "rife.Warp"]
    totals, rest = [], []
    for i in range(a.runs + 1):  # the first run warms up
        t = time.perf_counter(); warp_seconds = 0.0
        ex = net.create_extractor()
        ex.set_light_mode(False)  # keep blobs: the injected warp outputs must not trigger recomputation
        keep = []
        def feed(name, arr):
            x = np.ascontiguousarray(arr, dtype=np.float32); mat = ncnn.Mat(x).clone(); keep.append((x, mat)); ex.input(name, mat)
        for k, v in inputs.items():
            feed(k, v)
        for tok in warps:  # each warp in numpy, its output fed back (see make_reference.run_ncnn)
            _, m1 = ex.extract(tok[4]); _, m2 = ex.extract(tok[5])
            img, flow = np.array(m1), np.array(m2)
            tw = time.perf_counter(); r = make_reference.warp_reference(img, flow); warp_seconds += time.perf_counter() - tw
            feed(tok[6], r)
        ret, out = ex.extract("out0")
        dt = time.perf_counter() - t
        if i > 0:
            totals.append(dt); rest.append(dt - warp_seconds)
    print(json.dumps({"model": a.model, "threads": a.threads, "size": f"{w}x{h}", "total": min(totals), "without_warp": min(rest)}))


if __name__ == "__main__":
    main()
