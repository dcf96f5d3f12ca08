#!/usr/bin/env python3
"""Times ncnn (PyPI `ncnn`, CPU) on one model; used by the lumiere-engine-bench executable.

ncnn_bench.py PARAM BIN INPUT.lten OUTPUT_JSON --threads N --runs R [--fp16]
Default is fp32 everywhere (fp16/bf16 storage off) with ncnn's normal fast paths (Winograd, sgemm,
packing); --fp16 leaves ncnn's defaults (fp16 storage) on. Writes {"seconds": [...], "output": path}.
"""
import argparse, json, struct, time
import numpy as np
import ncnn


def read_lten(path):
    d = open(path, "rb").read()
    dims, c, h, w = struct.unpack("<4i", d[4:20])
    return np.frombuffer(d[20:], dtype=np.float32).reshape(c, h, w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("param"); ap.add_argument("bin"); ap.add_argument("input"); ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=1); ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fp16", action="store_true")
    a = ap.parse_args()
    net = ncnn.Net()
    o = net.opt
    o.num_threads = a.threads
    o.use_vulkan_compute = False
    if not a.fp16:
        o.use_fp16_storage = False; o.use_fp16_packed = False; o.use_fp16_arithmetic = False; o.use_bf16_storage = False
    net.load_param(a.param); net.load_model(a.bin)
    lines = [l.split() for l in open(a.param).read().splitlines()[2:] if l.strip()]
    inp = next(l[4] for l in lines if l[0] == "Input")
    last = lines[-1]; outname = last[4 + int(last[2])]
    x = np.ascontiguousarray(read_lten(a.input))
    times = []
    for i in range(a.runs + 1):  # first run warms up (allocations, weight transforms)
        t = time.perf_counter()
        ex = net.create_extractor()
        ex.input(inp, ncnn.Mat(x).clone())
        ret, m = ex.extract(outname)
        dt = time.perf_counter() - t
        if i > 0: times.append(dt)
    out = np.array(m)
    outpath = a.out + ".out.npy"
    np.save(outpath, out)
    json.dump({"seconds": times, "output": outpath}, open(a.out, "w"))


if __name__ == "__main__":
    main()
