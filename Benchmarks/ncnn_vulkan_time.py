#!/usr/bin/env python3
"""Seconds per run of ncnn's Vulkan path (PyPI `ncnn`, fp32) for the GPU section of docs/engine.md, measured next to
GPUBenchmarkTests on the same device. Wall and process CPU seconds (lavapipe's threads included): on a loaded
shared machine the CPU seconds are the steadier comparison: animevideov3-x2 at WxH and one 64 → 64 3×3 convolution at WxH.

ncnn_vulkan_time.py STEM WxH [--gpu N] [--runs R]   (STEM: models/realesr-animevideov3/realesr-animevideov3-x2)
"""
import argparse, os, tempfile, time
import numpy as np
import ncnn

ap = argparse.ArgumentParser()
ap.add_argument("stem"); ap.add_argument("size"); ap.add_argument("--gpu", type=int, default=0); ap.add_argument("--runs", type=int, default=2)
a = ap.parse_args()
w, h = map(int, a.size.split("x"))


def timed(param, binary, inp, out, x):
    net = ncnn.Net()
    net.opt.use_vulkan_compute = True
    net.opt.use_fp16_packed = net.opt.use_fp16_storage = net.opt.use_fp16_arithmetic = False
    net.set_vulkan_device(a.gpu)
    net.load_param(param); net.load_model(binary)
    def once():
        ex = net.create_extractor(); ex.input(inp, ncnn.Mat(x)); return ex.extract(out)[1]
    once()  # warm-up: pipelines, weight uploads
    start, cpu = time.time(), time.process_time()   # process CPU time counts lavapipe's worker threads too
    for _ in range(a.runs): once()
    return (time.time() - start) / a.runs, (time.process_time() - cpu) / a.runs


rng = np.random.default_rng(1)
(model, modelCPU) = timed(a.stem + ".param", a.stem + ".bin", "data", "output", rng.random((3, h, w), dtype=np.float32))
with tempfile.TemporaryDirectory() as d:
    open(os.path.join(d, "c.param"), "w").write("7767517\n2 2\nInput in0 0 1 in0\nConvolution conv 1 1 in0 out 0=64 1=3 4=1 5=1 6=36864\n")
    weights = np.concatenate([np.zeros(1, np.float32), rng.uniform(-0.5, 0.5, 36864).astype(np.float32), rng.random(64, dtype=np.float32)])
    weights.tofile(os.path.join(d, "c.bin"))  # leading 0: ncnn's fp32 weight tag
    (layer, layerCPU) = timed(os.path.join(d, "c.param"), os.path.join(d, "c.bin"), "in0", "out", rng.random((64, h, w), dtype=np.float32))
print(f"ncnn-vulkan ({ncnn.get_gpu_info(a.gpu).device_name()}) {w}x{h}: animevideov3-x2 {model:.3f} s per run "
      f"({modelCPU:.3f} s CPU); 64→64 3x3 conv {layer:.4f} s per run ({layerCPU:.4f} s CPU)")
