#!/usr/bin/env bash
# The GPU check (issue 17 item 7), run on the GPU machine from the folder scripts/gpu-pack.sh makes (.gpu/, copied there
# as gpu-check.sh beside the packed files). That machine has no network, no Swift toolchain, no ffmpeg CLI; it has python3
# with numpy. Everything is unpacked into a fresh /tmp folder; nothing is installed into the system.
#   1. the Vulkan loader from debs/ (dpkg -x into that folder, LD_LIBRARY_PATH at it, not at the system's); the NVIDIA
#      driver's ICD through VK_DRIVER_FILES when no ICD file is in the standard places; the ncnn wheel into site/
#   2. lumiere-engine-bench --list-devices, then --check (every packed model: our GPU engine fp32/fp16 and ncnn-Vulkan
#      against our CPU engine on a real-frame crop)
#   3. issue 17's three cases, ours next to ncnn-Vulkan at fp32 and fp16, and one table of them at the end; where our
#      listing says "coopmat conv3x3 yes" (VK_NV_cooperative_matrix, 16x16x16 fp16->fp32: NVIDIA), fp16 once more with
#      LUMIERE_GPU_COOPMAT=on (tensor cores; --check then also checks that path on every model, and fails if it did not run)
# Usage: gpu-check.sh [--small]     --small: tiny sizes and one run, for lavapipe (Mesa's CPU Vulkan) here
#   GPU=N picks Vulkan device N (default: the first that is not a CPU implementation; with --small, the first of all)
#   PYTHON (default python3) must have numpy, tqdm, requests, portalocker (the ncnn wheel's requirements)
#   $OUT, when set (the device tool), receives gpu-check.log and gpu-check-table.md
# Exit status: 0 all ran and --check passed; 1 a step failed; 3 it ran, but our GPU engine could not run some case (a layer
# type without a GPU shader yet, fp16 not written yet: the cell says which).
#
# Time budget (must finish in under 8 minutes on an H100; BUDGET seconds, default 420, after which steps are skipped):
#   unpacking (59 MB binary, wheel) ~10 s; each ncnn process ~5 s to start Vulkan and build its pipelines.
#   --check at 256x256: 7 models × (our CPU reference on 16 cores < 0.5 s + ours fp32/fp16 + one ncnn process) ≈ 7 × 10 s.
#   Cases, best of 3 after a warm-up = 4 runs each, per precision: anime 640x480 (0.38 TFLOP direct-conv equivalent:
#   ~0.05 s at 10 TFLOP/s effective) ~1 s; general 1920x1080 (5.1 TFLOP: ~0.5 s at 10 TFLOP/s) ~2 s; rife 1920x1088 is
#   dominated by ncnn's 18 numpy warps (0.08 s each at 640x480 here, ×6.8 pixels ≈ 0.5 s each, ~9 s per run) ~40 s.
#   Ours at 10× slower than ncnn would add ~25 s. About (5 + 1 + 5 + 2 + 5 + 40 + 25) × 2 + 80 ≈ 5 min; each case is also
#   capped at 150 s by timeout. On a device with the cooperative-matrix convolution, the fp16 coopmat rows add one more
#   fp16 pass (~1 min: ncnn's RIFE warps again) and --check one more fp16 run per model (~7 × 2 s); past BUDGET they skip.
set -uo pipefail
PACK=$(cd "$(dirname "$0")" && pwd)
SMALL=0
[ "${1:-}" = --small ] && SMALL=1
PYTHON=${PYTHON:-python3}
BUDGET=${BUDGET:-420}
W=$(mktemp -d /tmp/gpu-check.XXXXXX)
LOG=$W/gpu-check.log
exec > >(tee "$LOG") 2>&1
say() { printf '==> [%3ds] %s\n' "$SECONDS" "$*"; }
status=0

unxz_to() {  # xz -d, or Python's lzma where the xz CLI is missing
    if command -v xz >/dev/null; then xz -dc "$1" > "$2"
    else "$PYTHON" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}

say "unpacking $PACK into $W"
mkdir -p "$W/root" "$W/lib" "$W/frames"
for f in "$PACK"/debs/*.deb; do dpkg -x "$f" "$W/root" || { echo "gpu-check: cannot unpack $f (is dpkg there?)"; exit 1; }; done
unxz_to "$PACK/bin/lumiere-engine-bench.xz" "$W/lumiere-engine-bench" && chmod +x "$W/lumiere-engine-bench"
for f in "$PACK"/lib/*.xz; do [ -e "$f" ] && unxz_to "$f" "$W/lib/$(basename "$f" .xz)"; done
for f in "$PACK"/frames/*.xz; do unxz_to "$f" "$W/frames/$(basename "$f" .xz)"; done
# ncnn dlopens libvulkan.so before libvulkan.so.1: without this link a system's dev link would win over our loader.
ln -sf libvulkan.so.1 "$W/root/usr/lib/x86_64-linux-gnu/libvulkan.so"
export LD_LIBRARY_PATH=$W/root/usr/lib/x86_64-linux-gnu:$W/lib
# The device README's fallback: the NVIDIA driver's ICD file lives under /usr/local/nvidia, where the loader does not look.
icd=$(ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ /usr/local/share/vulkan/icd.d/ 2>/dev/null | grep -i nvidia | head -1)
if [ -z "$icd" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json VK_ICD_FILENAMES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    say "no NVIDIA ICD file in the standard places: VK_DRIVER_FILES=$VK_DRIVER_FILES"
fi
"$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$W/site" "$PACK"/whl/*.whl \
    || { echo "gpu-check: cannot install the ncnn wheel with $PYTHON (it needs CPython $(ls "$PACK"/whl | grep -o 'cp3[0-9]*' | head -1))"; exit 1; }
export PYTHONPATH=$W/site${PYTHONPATH:+:$PYTHONPATH}
export LUMIERE_MODELS=$PACK/models LUMIERE_REPO=$PACK/repo LUMIERE_PYTHON=$PYTHON
BENCH=$W/lumiere-engine-bench
missing=$(ldd "$BENCH" | grep 'not found')
[ -z "$missing" ] || { echo "gpu-check: the bench lacks libraries: $missing"; exit 1; }
# Built on Debian 12: it needs glibc >= 2.35 and libstdc++ >= GLIBCXX_3.4.30 (GCC 12), as objdump -T shows.
"$BENCH" --help >/dev/null 2>&1 || { echo "gpu-check: the bench does not start here: $("$BENCH" --help 2>&1 | head -3)"; exit 1; }
say "Vulkan loader in use: $("$PYTHON" -c 'import ncnn; ncnn.get_gpu_count(); print(next((l.split()[-1] for l in open("/proc/self/maps") if "/libvulkan.so" in l), "none"))' 2>/dev/null)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

say "devices"
"$BENCH" --list-devices 2>&1 | grep -v '^\[[0-9]' | tee "$W/devices.txt"
# The device index from ncnn's list (same loader, same order as ours): the first that is not a CPU implementation.
sed -n '/^ncnn sees/,$p' "$W/devices.txt" > "$W/ncnn-devices.txt"
if [ -n "${GPU:-}" ]; then gpu=$GPU
elif [ $SMALL = 1 ]; then gpu=$(grep -o '^  gpu:[0-9]*' "$W/ncnn-devices.txt" | head -1 | cut -d: -f2)
else gpu=$(grep '^  gpu:' "$W/ncnn-devices.txt" | grep -v '(cpu)' | grep -o '^  gpu:[0-9]*' | head -1 | cut -d: -f2); fi
if [ -z "$gpu" ]; then
    echo "gpu-check: no Vulkan GPU found (ncnn's list above); on lavapipe run with --small or GPU=N"; exit 1
fi

declare -A sizes
# --small: our reference shaders on lavapipe took 105 s for one 64x48 animevideov3-x4 frame here (ncnn-Vulkan 7 s), so
# the lavapipe test runs 16x16 crops.
if [ $SMALL = 1 ]; then sizes=([anime]=16x16 [general]=16x16 [rife]=16x16); check=16x16; runs=1
else sizes=([anime]=640x480 [general]=1920x1080 [rife]=1920x1080); check=256x256; runs=3; fi

say "--check on gpu:$gpu at $check"
timeout 200 "$BENCH" --check --device "gpu:$gpu" --size "$check" --photo "$W/frames/photo.ppm" \
    --pair "$W/frames/pair1.ppm,$W/frames/pair2.ppm" 2>&1 | grep -v '^\[[0-9]' | tee "$W/check.txt"
rc=${PIPESTATUS[0]}
case $rc in 0) ;; 3) status=3 ;; *) echo "gpu-check: --check exited $rc"; status=1 ;; esac

# Our listing's line for that device says whether the cooperative-matrix convolution can run there.
coopmat=0
sed -n '/^our engine:/,/^ncnn sees/p' "$W/devices.txt" | grep -E "^ *gpu:$gpu " | grep -q 'coopmat conv3x3 yes' && coopmat=1
say "cooperative-matrix convolution on gpu:$gpu: $([ $coopmat = 1 ] && echo yes || echo 'no (not offered: no fp16 coopmat rows)')"

rows=()
for precision in fp32 fp16 fp16-coopmat; do
    [ $precision = fp16-coopmat ] && [ $coopmat = 0 ] && { rows+=("| (all) | — | — | gpu:$gpu | fp16 coopmat | not offered by this device (--list-devices) | | | | |"); continue; }
    for c in anime general rife; do
        if [ $SECONDS -gt "$BUDGET" ]; then rows+=("| $c | — | ${sizes[$c]} | gpu:$gpu | $precision | skipped: past the ${BUDGET} s budget | | | |"); continue; fi
        say "$c at ${sizes[$c]}, $precision"
        coopenv=off; [ $precision = fp16-coopmat ] && coopenv=on
        LUMIERE_GPU_COOPMAT=$coopenv timeout 150 "$BENCH" --device "gpu:$gpu" --precision "${precision%-coopmat}" --case "$c" --size "${sizes[$c]}" --runs "$runs" \
            --photo "$W/frames/photo.ppm" --pair "$W/frames/pair1.ppm,$W/frames/pair2.ppm" 2>&1 | grep -v '^\[[0-9]' | tee "$W/case.txt"
        rc=${PIPESTATUS[0]}
        case $rc in 0) ;; 3) [ $status = 1 ] || status=3 ;; *) echo "gpu-check: $c $precision exited $rc"; status=1 ;; esac
        row=$(grep "^| $c |" "$W/case.txt")
        rows+=("${row:-| $c | — | ${sizes[$c]} | gpu:$gpu | $precision | failed (exit $rc), see the log | | | | |}")
    done
done

echo
echo "## GPU check, $(date -u +%F\ %H:%MZ), $(grep -m1 '^  gpu:'"$gpu " "$W/ncnn-devices.txt" | sed 's/^  //'), best of $runs after a warm-up, ${SECONDS} s in all"
echo
HEADER="| case | model | input | device | precision | ours s/frame | ncnn-vulkan s/frame | ratio ncnn-vulkan/ours | ours vs ncnn max abs diff | ours GPU busy |"
SEPARATOR="|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n%s\n' "$HEADER" "$SEPARATOR"
printf '%s\n' "${rows[@]}"
echo
ours=$(grep '| ours gpu' "$W/check.txt"); peer=$(grep '| ncnn-vulkan' "$W/check.txt")
echo "--check at $check, our GPU engine vs our CPU engine: $(grep -c '| ok |' <<<"$ours") ok, $(grep -c 'FAIL' <<<"$ours") failed," \
     "$(grep -c 'not run' <<<"$ours") not run (why: table above); ncnn-Vulkan fp32 vs our CPU engine: $(grep -c '| ok |' <<<"$peer") ok," \
     "$(grep -c 'differs' <<<"$peer") differ"
if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then
    cp "$LOG" "$OUT/gpu-check.log"
    { printf '%s\n%s\n' "$HEADER" "$SEPARATOR"; printf '%s\n' "${rows[@]}"; } > "$OUT/gpu-check-table.md"
fi
exit $status
