#!/usr/bin/env python3
"""Reference blobs for Lumière's inference-engine tests, computed by ncnn (PyPI `ncnn`).

Usage: make_reference.py OUT_DIR [--footage DIR] [--models DIR] [--only layers|models]

Writes small layer cases (a .param written here, a .bin with random fp32/fp16 weights, random
inputs) and end-to-end model cases (a real photo crop decoded with the ffmpeg CLI) plus
manifest.json. Tensors are stored as 'LTEN' + int32 dims, c, h, w + float32 values (little endian).
ncnn runs in fp32 with Winograd/sgemm off, i.e. its most exact CPU path.
"""
import argparse, json, os, struct, subprocess, sys
import numpy as np
import ncnn

FP16_TAG = 0x01306B47
rng = np.random.default_rng(1906)


def write_tensor(path, a):
    a = np.ascontiguousarray(a, dtype=np.float32)
    dims = a.ndim
    c, h, w = ((1, 1) + a.shape)[-3:] if dims < 3 else a.shape
    with open(path, "wb") as f:
        f.write(b"LTEN" + struct.pack("<4i", dims, c, h, w) + a.tobytes())


def tagged(values, fp16=False):
    v = np.asarray(values, dtype=np.float32).ravel()
    if not fp16:
        return struct.pack("<I", 0) + v.tobytes()
    raw = v.astype(np.float16).tobytes()
    raw += b"\0" * ((4 - len(raw) % 4) % 4)
    return struct.pack("<I", FP16_TAG) + raw


def raw(values):
    return np.asarray(values, dtype=np.float32).ravel().tobytes()


def options(net, threads=1):
    o = net.opt
    o.num_threads = threads
    o.use_vulkan_compute = False
    o.use_fp16_storage = False
    o.use_fp16_packed = False
    o.use_fp16_arithmetic = False
    o.use_bf16_storage = False
    o.use_winograd_convolution = False
    o.use_sgemm_convolution = False


def run_ncnn(param_path, bin_path, inputs, outputs, warp=False):
    """Runs ncnn and extracts `outputs`. With warp=True every rife.Warp output is computed in numpy
    from the blobs ncnn extracted for it and fed back with ex.input (custom Python layers with two
    inputs return unreliable blobs in the ncnn wheel), so ncnn computes everything else."""
    net = ncnn.Net()
    options(net)
    if warp:
        net.register_custom_layer("rife.Warp", UnusedWarp, lambda layer: None)
    if net.load_param(param_path) != 0:
        raise RuntimeError("ncnn rejected " + param_path)
    if net.load_model(bin_path) != 0:
        raise RuntimeError("ncnn rejected " + bin_path)
    ex = net.create_extractor()
    ex.set_light_mode(False)  # keep every blob: injected Warp outputs must never need recomputing
    keep = []  # ncnn.Mat shares the numpy buffer: keep both alive until extraction is done
    def feed(name, arr):
        a = np.ascontiguousarray(arr, dtype=np.float32)
        m = ncnn.Mat(a).clone()  # in-place layers crash on a Mat wrapping numpy memory
        keep.append((a, m))
        ex.input(name, m)
    for name, arr in inputs.items():
        feed(name, arr)
    if warp:
        for line in open(param_path).read().splitlines()[2:]:
            tok = line.split()
            if tok and tok[0] == "rife.Warp":
                image, flow, top = tok[4], tok[5], tok[6]
                r1, m1 = ex.extract(image)
                r2, m2 = ex.extract(flow)
                if r1 != 0 or r2 != 0:
                    raise RuntimeError("ncnn extract for " + tok[1] + " failed")
                feed(top, warp_reference(np.array(m1).copy(), np.array(m2).copy()))
    res = {}
    for name in outputs:
        ret, m = ex.extract(name)
        if ret != 0:
            raise RuntimeError(f"ncnn extract {name} failed")
        res[name] = np.array(m).copy()
    return res


class Case:
    def __init__(self, name):
        self.name, self.layers, self.blobs, self.bin = name, [], set(), b""

    def layer(self, typ, lname, bottoms, tops, params=""):
        self.layers.append(f"{typ} {lname} {len(bottoms)} {len(tops)} {' '.join(bottoms + tops)} {params}".rstrip())
        self.blobs.update(bottoms + tops)

    def param_text(self):
        return "7767517\n%d %d\n%s\n" % (len(self.layers), len(self.blobs), "\n".join(self.layers))


def conv_case(name, cin, cout, h, w, params, k=(3, 3), bias=True, fp16=False, layer="Convolution"):
    c = Case(name)
    c.layer("Input", "input", [], ["in0"])
    kw, kh = k
    wcount = cout * cin * kw * kh
    c.layer(layer, "conv", ["in0"], ["out0"], f"0={cout} 1={kw} 11={kh} 5={1 if bias else 0} 6={wcount} {params}")
    c.bin = tagged(rng.standard_normal(wcount) * 0.2, fp16) + (raw(rng.standard_normal(cout) * 0.1) if bias else b"")
    return c, {"in0": rng.standard_normal((cin, h, w)).astype(np.float32)}


def layer_cases():
    cases = []
    # Convolution: Winograd-eligible, no padding + leaky (waifu2x), strided, dilated/asymmetric, 1x1, SAME
    cases.append(conv_case("Convolution_3x3_pad1_winograd", 16, 24, 23, 19, "4=1"))
    cases.append(conv_case("Convolution_3x3_nopad_leaky_fp16", 8, 16, 20, 21, "9=2 -23310=1,0.1", fp16=True))
    cases.append(conv_case("Convolution_3x3_s2_relu", 3, 16, 17, 15, "3=2 4=1 9=1"))
    cases.append(conv_case("Convolution_5x3_dilated_asym_clip", 4, 6, 16, 18, "2=2 12=1 3=1 13=2 4=1 15=2 14=0 16=1 9=3 -23310=2,-0.5,0.7", k=(5, 3)))
    cases.append(conv_case("Convolution_1x1_sigmoid", 12, 5, 9, 11, "9=4", k=(1, 1)))
    cases.append(conv_case("Convolution_3x3_same_upper", 6, 7, 10, 13, "3=2 4=-233", bias=False))
    cases.append(conv_case("Convolution_3x3_winograd_wide_prelu_in_graph", 32, 64, 30, 31, "4=1 9=2 -23310=1,0.2"))
    # Deconvolution: waifu2x (4x4 s2 pad 3), RIFE-like (4x4 s2 pad 1, bias), output_pad + leaky
    cases.append(conv_case("Deconvolution_4x4_s2_pad3", 16, 3, 10, 12, "3=2 4=3", k=(4, 4), layer="Deconvolution", fp16=True))
    cases.append(conv_case("Deconvolution_4x4_s2_pad1_bias", 8, 4, 9, 7, "3=2 4=1", k=(4, 4), layer="Deconvolution"))
    cases.append(conv_case("Deconvolution_3x3_outpad_leaky", 5, 6, 7, 8, "3=2 18=1 9=2 -23310=1,0.2", k=(3, 3), layer="Deconvolution"))
    # PReLU per channel / single; ReLU; Sigmoid
    c = Case("PReLU_per_channel"); c.layer("Input", "input", [], ["in0"]); c.layer("PReLU", "p", ["in0"], ["out0"], "0=5")
    c.bin = raw(rng.uniform(-0.5, 0.5, 5)); cases.append((c, {"in0": rng.standard_normal((5, 6, 7))}))
    c = Case("PReLU_single"); c.layer("Input", "input", [], ["in0"]); c.layer("PReLU", "p", ["in0"], ["out0"], "0=1")
    c.bin = raw([0.25]); cases.append((c, {"in0": rng.standard_normal((3, 4, 9))}))
    c = Case("ReLU_plain_and_slope"); c.layer("Input", "input", [], ["in0"]); c.layer("Split", "s", ["in0"], ["a", "b"])
    c.layer("ReLU", "r0", ["a"], ["out0"]); c.layer("ReLU", "r1", ["b"], ["out1"], "0=2.000000e-01")
    cases.append((c, {"in0": rng.standard_normal((3, 5, 6))}))
    c = Case("Sigmoid_plain"); c.layer("Input", "input", [], ["in0"]); c.layer("Sigmoid", "s", ["in0"], ["out0"])
    cases.append((c, {"in0": rng.standard_normal((2, 5, 6)) * 4}))
    # Convolution followed by PReLU (fused in our engine)
    c = Case("Convolution_fused_PReLU"); c.layer("Input", "input", [], ["in0"])
    c.layer("Convolution", "conv", ["in0"], ["c"], "0=16 1=3 4=1 5=1 6=2304"); c.layer("PReLU", "p", ["c"], ["out0"], "0=16")
    c.bin = tagged(rng.standard_normal(2304) * 0.1, True) + raw(rng.standard_normal(16) * 0.1) + raw(rng.uniform(0, 0.3, 16))
    cases.append((c, {"in0": rng.standard_normal((16, 20, 22))}))
    # PixelShuffle
    for r, mode in [(2, 0), (4, 0), (2, 1)]:
        c = Case(f"PixelShuffle_r{r}_mode{mode}"); c.layer("Input", "input", [], ["in0"])
        c.layer("PixelShuffle", "ps", ["in0"], ["out0"], f"0={r} 1={mode}")
        cases.append((c, {"in0": rng.standard_normal((3 * r * r, 5, 7))}))
    # Interp
    for tag, p in [("nearest_x4", "0=1 1=4.0 2=4.0"), ("nearest_size", "0=1 3=11 4=7"), ("nearest_x0.5", "0=1 1=0.5 2=0.5"),
                   ("bilinear_x2", "0=2 1=2.0 2=2.0"), ("bilinear_x0.25", "0=2 1=0.25 2=0.25"), ("bilinear_size", "0=2 3=13 4=9"),
                   ("bilinear_align", "0=2 1=2.0 2=2.0 6=1"), ("bicubic_x0.5", "0=3 1=0.5 2=0.5"), ("bicubic_x2", "0=3 1=2.0 2=2.0"),
                   ("bicubic_x0.75", "0=3 1=0.75 2=0.75"), ("bicubic_size", "0=3 3=9 4=21")]:
        c = Case(f"Interp_{tag}"); c.layer("Input", "input", [], ["in0"]); c.layer("Interp", "i", ["in0"], ["out0"], p)
        cases.append((c, {"in0": rng.standard_normal((3, 16, 12))}))
    # BinaryOp: same shape, scalar forms, broadcast per-channel (MemoryData), plane broadcast
    for op in range(4):
        c = Case(f"BinaryOp_same_op{op}"); c.layer("Input", "i0", [], ["in0"]); c.layer("Input", "i1", [], ["in1"])
        c.layer("BinaryOp", "b", ["in0", "in1"], ["out0"], f"0={op}")
        cases.append((c, {"in0": rng.standard_normal((3, 4, 5)), "in1": rng.uniform(0.5, 2, (3, 4, 5))}))
    for op in [0, 1, 2, 3, 7, 8]:
        c = Case(f"BinaryOp_scalar_op{op}"); c.layer("Input", "i0", [], ["in0"])
        c.layer("BinaryOp", "b", ["in0"], ["out0"], f"0={op} 1=1 2=1.500000e+00")
        cases.append((c, {"in0": rng.uniform(0.5, 2, (2, 3, 4))}))
    c = Case("BinaryOp_broadcast_channel"); c.layer("Input", "i0", [], ["in0"]); c.layer("MemoryData", "m", [], ["k"], "0=1 1=1 2=4")
    c.layer("BinaryOp", "b", ["in0", "k"], ["out0"], "0=2"); c.bin = raw(rng.standard_normal(4))
    cases.append((c, {"in0": rng.standard_normal((4, 5, 6))}))
    c = Case("BinaryOp_broadcast_plane"); c.layer("Input", "i0", [], ["in0"]); c.layer("Input", "i1", [], ["in1"])
    c.layer("BinaryOp", "b", ["in1", "in0"], ["out0"], "0=1")
    cases.append((c, {"in0": rng.standard_normal((3, 5, 6)), "in1": rng.standard_normal((1, 5, 6))}))
    # Eltwise
    for op, p in [(0, "0=0"), (1, "0=1"), (2, "0=2"), (3, "0=1 -23301=3,1.000000e+00,-2.000000e+00,5.000000e-01")]:
        c = Case(f"Eltwise_{op}"); c.layer("Input", "i0", [], ["in0"]); c.layer("Input", "i1", [], ["in1"]); c.layer("Input", "i2", [], ["in2"])
        c.layer("Eltwise", "e", ["in0", "in1", "in2"], ["out0"], p)
        cases.append((c, {k: rng.standard_normal((2, 3, 4)) for k in ["in0", "in1", "in2"]}))
    # Concat
    for ax, shapes in [(0, [(2, 4, 5), (3, 4, 5)]), (1, [(2, 3, 5), (2, 4, 5)]), (2, [(2, 4, 3), (2, 4, 6)]), (-3, [(1, 4, 5), (2, 4, 5)])]:
        c = Case(f"Concat_axis{ax}"); c.layer("Input", "i0", [], ["in0"]); c.layer("Input", "i1", [], ["in1"])
        c.layer("Concat", "c", ["in0", "in1"], ["out0"], f"0={ax}")
        cases.append((c, {"in0": rng.standard_normal(shapes[0]), "in1": rng.standard_normal(shapes[1])}))
    # Crop
    for tag, p in [("array_channels", "-23309=1,1 -23310=1,4 -23311=1,0"), ("array_rest", "-23309=1,2 -23310=1,-233 -23311=1,0"),
                   ("array_hw_negative", "-23309=2,1,-5 -23310=2,-1,-1 -23311=2,1,2"), ("array_end0", "-23309=1,2 -23310=1,0 -23311=1,0"),
                   ("offsets", "0=1 1=2 2=1 3=4 4=3 5=2"), ("offsets_rest", "0=2 1=1 3=-233 4=-233 5=-233 6=1 7=2")]:
        c = Case(f"Crop_{tag}"); c.layer("Input", "input", [], ["in0"]); c.layer("Crop", "c", ["in0"], ["out0"], p)
        cases.append((c, {"in0": rng.standard_normal((5, 8, 9))}))
    c = Case("Crop_reference"); c.layer("Input", "i0", [], ["in0"]); c.layer("Input", "i1", [], ["in1"])
    c.layer("Crop", "c", ["in0", "in1"], ["out0"], "0=1 1=2")
    cases.append((c, {"in0": rng.standard_normal((3, 8, 9)), "in1": rng.standard_normal((3, 5, 6))}))
    # Slice
    for tag, p, n in [("channels_rest", "-23300=3,1,-233,-233 1=0", 3), ("height", "-23300=2,3,-233 1=1", 2), ("width_neg", "-23300=2,-233,-233 1=-1", 2),
                      ("indices", "-23302=2,2,5 1=0", 3)]:
        c = Case(f"Slice_{tag}"); c.layer("Input", "input", [], ["in0"]); c.layer("Slice", "s", ["in0"], [f"out{i}" for i in range(n)], p)
        cases.append((c, {"in0": rng.standard_normal((7, 6, 8))}))
    # MemoryData alone (2-D and 3-D) added to input
    c = Case("MemoryData_add"); c.layer("Input", "i0", [], ["in0"]); c.layer("MemoryData", "m", [], ["k"], "0=6 1=5 2=3")
    c.layer("BinaryOp", "b", ["in0", "k"], ["out0"], "0=0"); c.bin = raw(rng.standard_normal(90))
    cases.append((c, {"in0": rng.standard_normal((3, 5, 6))}))
    c = Case("Split_Input_three_way"); c.layer("Input", "i0", [], ["in0"]); c.layer("Split", "s", ["in0"], ["a", "b", "c"])
    c.layer("BinaryOp", "x", ["a", "b"], ["ab"], "0=2"); c.layer("BinaryOp", "y", ["ab", "c"], ["out0"], "0=0")
    cases.append((c, {"in0": rng.standard_normal((2, 3, 4))}))
    return cases


def warp_reference(img, flow):
    """rife.Warp as rife-ncnn-vulkan's shader: bilinear at (x+dx, y+dy), every tap clamped."""
    c, h, w = img.shape
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    sx = gx + flow[0]; sy = gy + flow[1]
    fx = np.floor(sx); fy = np.floor(sy)
    a = (sx - fx).astype(np.float32); b = (sy - fy).astype(np.float32)
    x0 = np.clip(fx.astype(np.int64), 0, w - 1); x1 = np.clip(fx.astype(np.int64) + 1, 0, w - 1)
    y0 = np.clip(fy.astype(np.int64), 0, h - 1); y1 = np.clip(fy.astype(np.int64) + 1, 0, h - 1)
    return ((img[:, y0, x0] * (1 - a) + img[:, y0, x1] * a) * (1 - b) + (img[:, y1, x0] * (1 - a) + img[:, y1, x1] * a) * b).astype(np.float32)


class UnusedWarp(ncnn.Layer):
    """Lets ncnn load graphs with rife.Warp; never runs (its outputs are supplied, see run_ncnn)."""
    live = []

    def __init__(self):
        ncnn.Layer.__init__(self)
        self.one_blob_only = False
        UnusedWarp.live.append(self)


def photo_crop(footage, name, x, y, w, h, folder="photos"):
    path = os.path.join(footage, folder, name)
    data = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vf", f"crop={w}:{h}:{x}:{y}", "-frames:v", "1",
                           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    img = np.frombuffer(data, dtype=np.uint8).reshape(h, w, 3)
    return (img.transpose(2, 0, 1).astype(np.float32) / 255.0)


def io_names(param_path):
    lines = [l.split() for l in open(param_path).read().splitlines()[2:] if l.strip()]
    inp = next(l[4] for l in lines if l[0] == "Input")
    last = lines[-1]
    nb, nt = int(last[2]), int(last[3])
    return inp, last[4 + nb]


MODELS = [
    ("realesr-animevideov3-x2", "realesr-animevideov3/realesr-animevideov3-x2", "astronaut.png", (200, 150, 40, 32)),
    ("realesr-animevideov3-x3", "realesr-animevideov3/realesr-animevideov3-x3", "coffee.png", (300, 120, 40, 32)),
    ("realesr-animevideov3-x4", "realesr-animevideov3/realesr-animevideov3-x4", "chelsea.png", (150, 60, 48, 36)),
    ("realesr-general-x4v3", "realesr-general-x4v3/RealESRGAN_General_x4_v3", "camera.png", (180, 100, 40, 32)),
    ("realesr-general-wdn-x4v3", "realesr-general-wdn-x4v3/RealESRGAN_General_WDN_x4_v3", "LadyBird.jpg", (900, 500, 40, 32)),
    ("realesrgan-x4plus", "realesrgan-x4plus/realesrgan-x4plus", "LadyBird.jpg", (700, 400, 40, 32)),
] + [(f"waifu2x-photo-{n}", f"waifu2x-upconv7-photo/{n}_model", "flower.png", (1000, 600, 44, 40))
     for n in ["scale2.0x", "noise0_scale2.0x", "noise1_scale2.0x", "noise2_scale2.0x", "noise3_scale2.0x"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    def first_dir(env, local, marker):
        if os.environ.get(env):
            return os.environ[env]
        here_local = os.path.join(repo, local)
        return here_local if os.path.isdir(os.path.join(here_local, marker)) else os.path.join(repo, "..", "shared", local)
    ap.add_argument("--footage", default=first_dir("LUMIERE_FOOTAGE", "footage", "photos"))
    ap.add_argument("--models", default=first_dir("LUMIERE_MODELS", "models", "realesr-animevideov3"))
    ap.add_argument("--only", choices=["layers", "models"], default=None)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    manifest = []
    if a.only in (None, "layers"):
        for case, inputs in layer_cases():
            base = os.path.join(a.out, case.name)
            open(base + ".param", "w").write(case.param_text())
            open(base + ".bin", "wb").write(case.bin)
            outs = sorted(b for b in case.blobs if b.startswith("out"))
            res = run_ncnn(base + ".param", base + ".bin", inputs, outs)
            entry = {"name": case.name, "kind": "layer", "param": base + ".param", "bin": base + ".bin", "inputs": {}, "outputs": {}}
            for k, v in inputs.items():
                write_tensor(f"{base}.{k}.lten", v); entry["inputs"][k] = f"{base}.{k}.lten"
            for k, v in res.items():
                write_tensor(f"{base}.{k}.lten", v); entry["outputs"][k] = f"{base}.{k}.lten"
            manifest.append(entry)
    if a.only in (None, "models"):
        for name, rel, photo, (x, y, w, h) in MODELS:
            param = os.path.join(a.models, rel + ".param"); binf = os.path.join(a.models, rel + ".bin")
            inp, outp = io_names(param)
            img = photo_crop(a.footage, photo, x, y, w, h)
            res = run_ncnn(param, binf, {inp: img}, [outp])
            base = os.path.join(a.out, name)
            write_tensor(base + ".in.lten", img); write_tensor(base + ".out.lten", res[outp])
            manifest.append({"name": name, "kind": "model", "param": param, "bin": binf,
                             "inputs": {inp: base + ".in.lten"}, "outputs": {outp: base + ".out.lten"}})
            if name.startswith("waifu2x-photo-"):
                # waifu2x convolves without padding (7 pixels lost per side): Lumiere replicate-pads the frame by 7,
                # so its whole-frame result is ncnn's on the edge-padded crop (input: the crop, output: 2x its size).
                padded = np.pad(img, ((0, 0), (7, 7), (7, 7)), mode="edge")
                res = run_ncnn(param, binf, {inp: padded}, [outp])
                base = os.path.join(a.out, "edgepad-" + name)
                write_tensor(base + ".in.lten", img); write_tensor(base + ".out.lten", res[outp])
                manifest.append({"name": "edgepad-" + name, "kind": "model-edgepad", "param": param, "bin": binf,
                                 "inputs": {inp: base + ".in.lten"}, "outputs": {outp: base + ".out.lten"}})
    if a.only in (None, "models"):
        # RIFE (needs rife.Warp: a numpy version here, a Swift one in the tests), real frame pair, t = 0.5
        for name, folder, (w, h) in [("rife-v4.0", "rife-v4.0-ncnn", (96, 64)), ("rife-v4.25", "rife-v4.25-ncnn", (128, 64))]:
            param = os.path.join(a.models, folder, "flownet.param"); binf = os.path.join(a.models, folder, "flownet.bin")
            f0 = photo_crop(a.footage, "rubberwhale1.png", 200, 150, w, h, "framepairs")
            f1 = photo_crop(a.footage, "rubberwhale2.png", 200, 150, w, h, "framepairs")
            t = np.full((1, h, w), 0.5, np.float32)
            # Every blob, in layer order, so a mismatch can be traced to the first layer that diverges.
            blobs = []
            for l in open(param).read().splitlines()[2:]:
                tok = l.split()
                if len(tok) >= 4 and tok[0] != "Input":
                    nb, nt = int(tok[2]), int(tok[3])
                    blobs += [b for b in tok[4 + nb:4 + nb + nt] if b not in blobs]
            res = run_ncnn(param, binf, {"in0": f0, "in1": f1, "in2": t}, blobs, warp=True)
            base = os.path.join(a.out, name)
            entry = {"name": name, "kind": "rife", "param": param, "bin": binf, "inputs": {}, "outputs": {"out0": base + ".out0.lten"},
                     "trace": []}
            for i, b in enumerate(blobs):
                path = f"{base}.trace{i:04d}.lten"
                write_tensor(path, res[b]); entry["trace"].append([b, path])
            for k, v in (("in0", f0), ("in1", f1), ("in2", t)):
                write_tensor(f"{base}.{k}.lten", v); entry["inputs"][k] = f"{base}.{k}.lten"
            write_tensor(base + ".out0.lten", res["out0"])
            manifest.append(entry)
    json.dump(manifest, open(os.path.join(a.out, "manifest.json"), "w"), indent=1)
    print(f"wrote {len(manifest)} cases to {a.out}")


if __name__ == "__main__":
    main()
