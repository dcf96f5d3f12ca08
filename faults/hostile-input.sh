# Hostile media and model files through the real command line (`lumiere-coordinator restore`, local default).
# A row passes when the command exits non-zero with ONE clear line on stderr (no crash, no signal), and
# the output directory holds nothing afterwards (no partial output, no temporary file). Sourced by run-all.sh.

# expect_clear_error NAME INPUT [restore args...] — adds a row.
expect_clear_error() {
    local name="$1" input="$2"; shift 2
    local dir="$WORK/hostile-$RANDOM"; mkdir -p "$dir/out"
    local t0=$SECONDS
    timeout "${HOSTILE_TIMEOUT:-120}" "$BIN/lumiere-coordinator" restore "$input" -o "$dir/out/result.mp4" --model lanczos --preset ultrafast \
        --segment-seconds 1 "$@" >"$dir/stdout" 2>"$dir/stderr"
    local rc=$? took=$((SECONDS - t0))
    local lines; lines=$(grep -c . "$dir/stderr")
    local message; message=$(grep '^error:' "$dir/stderr" | head -1 | cut -c1-160)
    local noise; noise=$(grep -c '^\[' "$dir/stderr")   # FFmpeg's own log lines ([demuxer @ 0x…] …) before ours
    # The job directory is kept after a failure by design (resume); allowed only when it holds no result or segment.
    local jobdir="$dir/out/result.mp4.lumiere-job" note=""
    if [ -d "$jobdir" ] && [ -z "$(find "$jobdir" -type f -path '*/results/*' -o -type f -path '*/inputs/*')" ]; then
        rm -rf "$jobdir"; note="; an empty job directory (no inputs, no results) was left"
    fi
    local left; left=$(ls -A "$dir/out" | tr '\n' ' ')
    local ok=yes
    [ $rc -ne 0 ] && [ $rc -lt 124 ] || ok=no           # failed, but not by a signal or our timeout
    [ -z "$left" ] || ok=no                              # nothing at the output path, no temporary files
    [[ "$message" == error:* ]] || ok=no
    grep -qi 'fatal error\|stack dump\|segmentation' "$dir/stderr" && ok=no
    [ $rc = 124 ] && message="still running after ${HOSTILE_TIMEOUT:-120} s (killed): $(tail -c 300 "$dir/stderr" | tr '\r' '\n' | grep . | tail -1 | cut -c1-100)"
    row "$name" "exit $rc in ${took} s: \"$message\"$([ "$noise" -gt 0 ] && echo " (+$noise FFmpeg log lines)")$note$([ -n "$left" ] && echo "; LEFT: $left")" "$ok"
}

make_hostile_media() {
    local m="$WORK/media"; mkdir -p "$m"
    : >"$m/zero-bytes.mp4"
    local pens="$FOOTAGE/video/pens.mp4"
    head -c $(( $(stat -c %s "$pens") / 2 )) "$pens" >"$m/truncated-half.mp4"
    head -c 4000 "$pens" >"$m/truncated-header.mp4"
    yes 'not a film at all' | head -c 20000 >"$m/text-named.mp4"
    cp "$FAULT_INPUT" "$m/ogg-film-named.mp4"
    # Raw YUV4MPEG2 claiming a 65535x65535 picture (a 6 GB frame) followed by a few bytes.
    { printf 'YUV4MPEG2 W65535 H65535 F25:1 Ip A1:1 C420jpeg\nFRAME\n'; head -c 4096 /dev/zero; } >"$m/huge-65535.y4m"
    # An IVF (VP8) file whose header claims 65535x65535: a real 64x64 clip with the header's size patched.
    ffmpeg -v error -y -f lavfi -i testsrc2=size=64x64:rate=10:duration=1 -c:v libvpx -b:v 200k "$m/small.ivf"
    python3 - "$m/small.ivf" "$m/huge-65535.ivf" <<'PY'
import sys, struct
data = bytearray(open(sys.argv[1], "rb").read())
assert data[:4] == b"DKIF"
struct.pack_into("<HH", data, 12, 65535, 65535)       # IVF header: width, height at offset 12
# The VP8 key frame header too (3-byte frame tag, start code 9d 01 2a, then 14-bit width/height).
i = data.find(b"\x9d\x01\x2a", 32)
if i > 0: struct.pack_into("<HH", data, i + 3, 0x3fff, 0x3fff)
open(sys.argv[2], "wb").write(data)
PY
    # An MP4 whose track header (tkhd) and H.264 SPS-derived size are left alone but the sample entry
    # (avc1 width/height, 16-bit) claims 65535x65535.
    python3 - "$pens" "$m/huge-65535-avc1.mp4" <<'PY'
import sys, struct
data = bytearray(open(sys.argv[1], "rb").read())
i = data.find(b"avc1")
assert i > 0
struct.pack_into(">HH", data, i + 4 + 24, 65535, 65535)   # VisualSampleEntry: 6 reserved + 2 index + 16 pre-defined
j = data.find(b"tkhd")
ver = data[j + 4]  # full box: version, flags; times and ids; 16 bytes reserved/layer/volume; 36 matrix; width, height (16.16)
struct.pack_into(">II", data, j + 4 + 4 + (20 if ver == 0 else 32) + 16 + 36, 65535 << 16, 65535 << 16)
open(sys.argv[2], "wb").write(data)
PY
    # Broken timestamps: the 1906 film with every timestamp after frame 30 set back to zero (the Matroska
    # muxer clamps them, so all later frames share one timestamp), and one with a three-hour jump after frame 30.
    ffmpeg -v error -y -i "$FAULT_INPUT" -c:v copy -an -bsf:v 'setts=ts=if(gte(N\,30)\,0\,TS)' "$m/timestamps-backwards.mkv"
    ffmpeg -v error -y -i "$FAULT_INPUT" -c:v copy -an -bsf:v 'setts=ts=if(gte(N\,30)\,TS+10800000\,TS)' "$m/timestamps-3h-gap.mkv"
}

fault_hostile_media() {
    make_hostile_media
    local m="$WORK/media"
    expect_clear_error "media: zero-byte file" "$m/zero-bytes.mp4"
    expect_clear_error "media: truncated MP4 (first half)" "$m/truncated-half.mp4"
    expect_clear_error "media: truncated MP4 (4 kB of header)" "$m/truncated-header.mp4"
    expect_clear_error "media: text file named .mp4" "$m/text-named.mp4"
    expect_clear_error "media: Y4M claiming 65535x65535" "$m/huge-65535.y4m"
    expect_clear_error "media: IVF/VP8 claiming 65535x65535" "$m/huge-65535.ivf"
    # FFmpeg takes an H.264 picture size from the parameter sets, not from these boxes: the right outcome
    # is a normal restore at the real size (352x288), with no allocation sized by the forged boxes.
    local forged="$WORK/forged-boxes.mp4"
    /usr/bin/time -f '%M' -o "$WORK/forged.rss" "$BIN/lumiere-coordinator" restore "$m/huge-65535-avc1.mp4" -o "$forged" \
        --model lanczos --preset ultrafast --segment-seconds 1 >/dev/null 2>"$WORK/forged.err"
    local frc=$? fsize; fsize=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of default=nw=1:nk=1 "$forged" 2>/dev/null | head -2 | paste -sd x)
    row "media: MP4 avc1 sample entry + tkhd claiming 65535x65535" "exit $frc; restored at the real size: ${fsize:-none}; peak RSS $(( $(cat "$WORK/forged.rss" 2>/dev/null || echo 0) / 1024 )) MiB" \
        "$([ $frc = 0 ] && [ "$fsize" = 352x288 ] && echo yes || echo no)"
    expect_clear_error "media: timestamps reset to 0 after frame 30 (stuck)" "$m/timestamps-backwards.mkv"
    expect_clear_error "media: 3-hour timestamp gap" "$m/timestamps-3h-gap.mkv"
    expect_clear_error "output with a wrong extension (.txt)" "$FAULT_INPUT" -o "$WORK/media/out.txt"
    # A real film with the wrong extension is not hostile: FFmpeg probes the content; it must restore exactly.
    local out="$WORK/media-ogg-named-mp4.mp4"
    # shellcheck disable=SC2046
    "$BIN/lumiere-coordinator" $(FAULT_INPUT="$m/ogg-film-named.mp4" restore_args "$out" "$WORK/job-ogg-named") >"$WORK/ogg-named.log" 2>&1
    local rc=$?
    row "media: Ogg film named .mp4 (local default, no --bind)" "exit $rc; content probed, restored" \
        "$([ $rc = 0 ] && identical "$out" || echo no)"
}

fault_hostile_models() {
    local models="$WORK/models" name=realesr-animevideov3 src="$REPO/models/realesr-animevideov3"
    local variant
    for variant in truncated-bin garbled-param absurd-channels absurd-layer-count; do
        local dir="$models/$variant/$name"; mkdir -p "$dir"
        cp "$src"/realesr-animevideov3-x2.* "$dir/"; chmod u+w "$dir"/*
        case $variant in
            truncated-bin) truncate -s 100000 "$dir/$name-x2.bin" ;;
            garbled-param) python3 -c "
import random,sys; r=random.Random(7); p='$dir/$name-x2.param'; d=bytearray(open(p,'rb').read())
for _ in range(200): d[r.randrange(len(d))]=r.randrange(256)
open(p,'wb').write(d)" ;;
            absurd-channels) sed -i '0,/0=64 1=3/s//0=2000000000 1=3/; 0,/6=1728/s//6=2147483647/' "$dir/$name-x2.param" ;;
            absurd-layer-count) sed -i '2s/.*/2000000000 2000000000/' "$dir/$name-x2.param" ;;
        esac
        LUMIERE_MODELS="$models/$variant" expect_clear_error "model: $variant" "$FAULT_INPUT" --model "$name" --scale 2
    done
}
