#!/usr/bin/env bash
# Measures the super-resolution processors on real photos: downscale x4 (bicubic), restore x4, PSNR against the original.
# Uses the ffmpeg CLI to make inputs and measure (tooling only; the product never shells out to ffmpeg).
# This is the PSNR table in README ("Choosing a model"). To *look* at models side by side on your own film, use
#   lumiere-coordinator compare FILM --at 12,16 --models lanczos,realesr-general-wdn,waifu2x-photo:noise=2 -o sheet.png
# (a labelled contact sheet made by the same processors as restore; README shows one from the 1906 film).
set -euo pipefail
cd "$(dirname "$0")/.."
PHOTOS=${LUMIERE_FOOTAGE:-../shared/footage}/photos
BIN=.build/release/lumiere-coordinator
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
printf '%-10s %-22s %s\n' photo processor "PSNR (dB)"
for p in astronaut coffee camera; do
    W=$(ffprobe -v error -show_entries stream=width -of csv=p=0 "$PHOTOS/$p.png"); H=$(ffprobe -v error -show_entries stream=height -of csv=p=0 "$PHOTOS/$p.png")
    W4=$((W / 8 * 2)); H4=$((H / 8 * 2))
    ffmpeg -y -v error -i "$PHOTOS/$p.png" -vf "scale=$((W4 * 4)):$((H4 * 4)):flags=bicubic,format=rgb24" "$work/ref-$p.png"
    ffmpeg -y -v error -i "$work/ref-$p.png" -vf "scale=$W4:$H4:flags=bicubic" "$work/low-$p.png"
    for m in lanczos realesr-general realesr-general-wdn realesr-animevideov3; do
        "$BIN" restore "$work/low-$p.png" -o "$work/$p-$m.mkv" --scale 4 --model "$m" --codec ffv1 --pixel-format yuv444p --in-process --quiet
        psnr=$(ffmpeg -i "$work/$p-$m.mkv" -i "$work/ref-$p.png" -lavfi '[1]format=yuv444p[r];[0][r]psnr' -f null - 2>&1 | grep -o 'average:[0-9.]*' | cut -d: -f2)
        printf '%-10s %-22s %s\n' "$p" "$m" "$psnr"
    done
done
