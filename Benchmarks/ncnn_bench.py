#!/usr/bin/env python3
"""Times ncnn (PyPI `ncnn`, CPU or Vulkan) on one model; used by the lumiere-engine-bench executable.

ncnn_bench.py PARAM BIN INPUTS OUTPUT_JSON [--threads N] [--runs R] [--fp16] [--vulkan [--gpu N]]
ncnn_bench.py --list-devices

INPUTS is one LTEN file (fed to the graph's first Input) or `name=file.lten[,name=file.lten...]`
(RIFE: in0, in1 and the timestep plane in2). Default is fp32 everywhere (fp16/bf16 storage and
arithmetic off) with ncnn's normal fast paths (Winograd, sgemm, packing); --fp16 leaves ncnn's
defaults on (fp16 storage, and on Vulkan fp16 arithmetic where the device has it).
--vulkan runs on Vulkan device N (ncnn's `use_vulkan_compute`); uploads and downloads are timed
with the run, as our engine's GPU `run` is.

The PyPI wheel has no native rife.Warp, so graphs with warps get them computed in numpy between
extracts (make_reference.run_ncnn's injection); on Vulkan that adds a download and an upload per
warp. Each run's warp seconds are reported separately ("warp_seconds") so the caller can subtract
them: ncnn with a free warp, the conservative comparison.

The first run warms up (allocations, weight transforms, Vulkan pipelines) and is not timed.
Writes {"seconds": [...], "warp_seconds": [...], "device": name, "output": OUTPUT_JSON.out.lten}.
"""
import argparse, json, os, struct, sys, time
import numpy as np
import ncnn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "ncnn_reference"))
import make_reference  # noqa: E402  (warp_reference, UnusedWarp, write_tensor)


def read_lten(path):
    d = open(path, "rb").read()
    if d[:4] != b"LTEN" or len(d) < 20:
        sys.exit(f"ncnn_bench: {path} is not an LTEN tensor file")
    dims, c, h, w = struct.unpack("<4i", d[4:20])
    if min(c, h, w) < 1 or (len(d) - 20) != 4 * c * h * w:
        sys.exit(f"ncnn_bench: {path} holds {len(d) - 20} bytes, expected {4 * c * h * w} for {c}x{h}x{w}")
    return np.frombuffer(d[20:], dtype=np.float32).reshape(c, h, w)


def list_devices():
    n = ncnn.get_gpu_count()
    print(f"ncnn sees {n} Vulkan device(s)")
    kinds = {0: "discrete", 1: "integrated", 2: "virtual", 3: "cpu"}
    for i in range(n):
        info = ncnn.get_gpu_info(i)
        print(f"  gpu:{i} {info.device_name()} ({kinds.get(info.type(), info.type())}) vendor 0x{info.vendor_id():04x}")


def graph_lines(param):
    return [l.split() for l in open(param).read().splitlines()[2:] if l.strip()]


def main():
    if sys.argv[1:] == ["--list-devices"]:
        return list_devices()
    ap = argparse.ArgumentParser()
    ap.add_argument("param"); ap.add_argument("bin"); ap.add_argument("inputs"); ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=1); ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fp16", action="store_true")
    ap.add_argument("--vulkan", action="store_true"); ap.add_argument("--gpu", type=int, default=0)
    a = ap.parse_args()

    lines = graph_lines(a.param)
    if "=" in a.inputs:
        inputs = {k: read_lten(v) for k, v in (p.split("=", 1) for p in a.inputs.split(","))}
    else:
        inputs = {next(l[4] for l in lines if l[0] == "Input"): read_lten(a.inputs)}
    last = lines[-1]; outname = last[4 + int(last[2])]
    warps = [l for l in lines if l[0] == "rife.Warp"]

    net = ncnn.Net()
    o = net.opt
    o.num_threads = a.threads
    device = "cpu"
    if a.vulkan:
        if a.gpu >= ncnn.get_gpu_count():
            sys.exit(f"ncnn_bench: no Vulkan device {a.gpu} (ncnn sees {ncnn.get_gpu_count()}); is the Vulkan loader on LD_LIBRARY_PATH?")
        o.use_vulkan_compute = True
        net.set_vulkan_device(a.gpu)
        device = ncnn.get_gpu_info(a.gpu).device_name()
    else:
        o.use_vulkan_compute = False
    if not a.fp16:
        o.use_fp16_storage = False; o.use_fp16_packed = False; o.use_fp16_arithmetic = False
        o.use_bf16_storage = False; o.use_bf16_packed = False
    if warps:
        net.register_custom_layer("rife.Warp", make_reference.UnusedWarp, lambda layer: None)
    net.load_param(a.param); net.load_model(a.bin)

    times, warp_times = [], []
    for i in range(a.runs + 1):  # the first run warms up
        t = time.perf_counter(); warp_seconds = 0.0
        ex = net.create_extractor()
        ex.set_light_mode(not warps)  # with warps, keep blobs: the injected outputs must not trigger recomputation
        keep = []
        def feed(name, arr):
            x = np.ascontiguousarray(arr, dtype=np.float32); m = ncnn.Mat(x).clone(); keep.append((x, m)); ex.input(name, m)
        for k, v in inputs.items():
            feed(k, v)
        for tok in warps:  # each warp in numpy, its output fed back (see make_reference.run_ncnn)
            _, m1 = ex.extract(tok[4]); _, m2 = ex.extract(tok[5])
            img, flow = np.array(m1), np.array(m2)
            tw = time.perf_counter(); r = make_reference.warp_reference(img, flow); warp_seconds += time.perf_counter() - tw
            feed(tok[6], r)
        ret, m = ex.extract(outname)
        out = np.array(m)  # the download, on Vulkan, is part of the run
        dt = time.perf_counter() - t
        if ret != 0:
            sys.exit(f"ncnn_bench: extracting {outname} failed with {ret}")
        if i > 0:
            times.append(dt); warp_times.append(warp_seconds)
    outpath = a.out + ".out.lten"
    make_reference.write_tensor(outpath, out)
    json.dump({"seconds": times, "warp_seconds": warp_times, "device": device, "output": outpath}, open(a.out, "w"))


if __name__ == "__main__":
    main()
