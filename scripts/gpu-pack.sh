#!/usr/bin/env bash
# Packs everything scripts/gpu-check.sh needs on the GPU machine (issue 17 item 7) into .gpu/ (git-ignored):
# that machine has no network, no Swift toolchain and no ffmpeg CLI, and a device call carries at most 64 MiB.
#   bin/   lumiere-engine-bench, built with --static-swift-stdlib, stripped, xz-compressed (built on Debian 12 it needs
#          glibc >= 2.35 and GLIBCXX_3.4.30 there: objdump -T; the GPU machine's Python 3.12.3 image is newer)
#   lib/   the shared libraries it links that a plain Linux lacks (OpenBLAS and its Fortran runtime), xz-compressed
#   debs/  the Vulkan loader (libvulkan1) and the GL-vendor libraries the NVIDIA driver's ICD needs (device README's list)
#   whl/   the PyPI ncnn wheel for CPython 3.12 manylinux x86_64 (numpy, tqdm, requests, portalocker are already there)
#   repo/  Benchmarks/ncnn_bench.py and the make_reference.py it imports
#   models/ the shipped models the benchmark and --check use (see MODELS below; what does not fit is left out)
#   frames/ real pictures as xz-compressed PPM: a 1920x1080 centre crop of LadyBird.jpg, and a 1080p pair (two consecutive
#          frames of trailer_bbb.mp4, 1280x720, scaled to 1920x1080 with bicubic) for RIFE
#   gpu-check.sh, MANIFEST
# Usage: scripts/gpu-pack.sh        (PY=3.11 packs a cp311 wheel instead, for a local test with that Python)
# Fails when the folder exceeds 64 MiB. Then run it there:  .gpu/gpu-check.sh  (or on lavapipe here: .gpu/gpu-check.sh --small)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PACK=$ROOT/.gpu
PY=${PY:-3.12}
LIMIT=$((64 * 1024 * 1024))
FOOTAGE=${LUMIERE_FOOTAGE:-$ROOT/../shared/footage}
say() { printf '==> %s\n' "$*" >&2; }
# The models in the pack: the three benchmark cases' (animevideov3-x4, general-x4v3, rife-v4.25) and the rest of the
# shipped models for --check, except realesrgan-x4plus (33 MB) and rife-v4.0 (10 MB, the same layer kinds as v4.25):
# with them the pack is over 64 MiB (measured: binary + libraries 20 MB, wheel 11 MB, frames 9 MB, these models 21 MB).
MODELS=(realesr-animevideov3/realesr-animevideov3-x2 realesr-animevideov3/realesr-animevideov3-x3
        realesr-animevideov3/realesr-animevideov3-x4 realesr-general-x4v3/RealESRGAN_General_x4_v3
        realesr-general-wdn-x4v3/RealESRGAN_General_WDN_x4_v3 waifu2x-upconv7-photo/noise1_scale2.0x_model
        rife-v4.25-ncnn/flownet)

exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
rm -rf "$PACK"
mkdir -p "$PACK"/{bin,lib,debs,whl,repo/Benchmarks,repo/scripts/ncnn_reference,models,frames}

say "building lumiere-engine-bench with the Swift standard library linked statically"
swift build -c release --static-swift-stdlib --product lumiere-engine-bench --scratch-path "$ROOT/.build-static" >&2
BIN=$ROOT/.build-static/release/lumiere-engine-bench
strip -o "$PACK/bin/lumiere-engine-bench" "$BIN"
xz -T0 -6 "$PACK/bin/lumiere-engine-bench"

say "its shared libraries (ldd), except the C/C++ runtime every Linux has and the Vulkan loader (from debs/)"
ldd "$BIN" | awk '/=>/ { print $1, $3 }' | while read -r soname path; do
    case "$soname" in
        libc.so*|libm.so*|libstdc++.so*|libgcc_s.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libvulkan.so*) continue ;;
    esac
    say "  $soname ($(readlink -f "$path"))"
    xz -T0 -6 -c "$(readlink -f "$path")" > "$PACK/lib/$soname.xz"
done

say "the Vulkan loader and GL-vendor libraries (Debian packages, amd64)"
apt_o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
mkdir -p /tmp/amd64/partial
apt-get "${apt_o[@]}" update -qq >&2
(cd "$PACK/debs" && apt-get "${apt_o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >&2)

NCNN_VERSION=$(python3 -c 'import importlib.metadata as m; print(m.version("ncnn"))' 2>/dev/null || echo 1.0.20261020)
say "the ncnn $NCNN_VERSION wheel for CPython $PY"
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$PY" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
    -d "$PACK/whl" "ncnn==$NCNN_VERSION" >&2

cp Benchmarks/ncnn_bench.py "$PACK/repo/Benchmarks/"
cp scripts/ncnn_reference/make_reference.py "$PACK/repo/scripts/ncnn_reference/"
cp scripts/gpu-check.sh "$PACK/"
for m in "${MODELS[@]}"; do
    mkdir -p "$PACK/models/$(dirname "$m")"
    cp "models/$m.param" "models/$m.bin" "$PACK/models/$(dirname "$m")/"
done

say "frames from $FOOTAGE"
ffmpeg -v error -y -i "$FOOTAGE/photos/LadyBird.jpg" -vf crop=1920:1080 -frames:v 1 -pix_fmt rgb24 "$PACK/frames/photo.ppm"
ffmpeg -v error -y -i "$FOOTAGE/video/trailer_bbb.mp4" -vf "select=eq(n\,600)+eq(n\,601),scale=1920:1080:flags=bicubic" \
    -fps_mode passthrough -frames:v 2 -pix_fmt rgb24 "$PACK/frames/pair%d.ppm"
xz -T0 -6 "$PACK"/frames/*.ppm

{
    echo "packed $(date -u +%FT%TZ) from $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes') by scripts/gpu-pack.sh"
    (cd "$PACK" && find . -type f ! -name MANIFEST -printf '%s %p\n' | sort -k2)
} > "$PACK/MANIFEST"

size=$(du -sb "$PACK" | cut -f1)
echo ".gpu/ holds $(mib "$size") MiB (limit 64 MiB for everything a device call carries)"
if [ "$size" -gt "$LIMIT" ]; then
    echo "gpu-pack: .gpu/ is over 64 MiB; drop models from MODELS in scripts/gpu-pack.sh" >&2
    exit 1
fi
# The repository itself travels too (tracked and untracked-not-ignored files); say what the whole call would carry.
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
echo "with the working tree ($(mib "$tree") MiB) a device call carrying .gpu would send $(mib $((tree + size))) MiB"
if [ $((tree + size)) -gt "$LIMIT" ]; then
    echo "gpu-pack: WARNING: working tree + .gpu is over 64 MiB: the device call would be refused. The shipped models/ are" >&2
    echo "          tracked (66 MiB); a device call needs a checkout without them (the pack carries its own copies)." >&2
fi
