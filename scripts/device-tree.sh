#!/usr/bin/env bash
# Makes this checkout small enough for one GPU-machine call (issue 17 item 7), and puts it back afterwards.
#
# A device call sends the checkout's tracked files (and untracked ones git does not ignore) plus what it carries, at
# most 64 MiB in all. The tracked models/ are 66 MiB on their own (realesrgan-x4plus is 32 MiB of it), so no call fits
# while they are tracked; `scripts/gpu-pack.sh` copies the models the check needs into .gpu/ (58.5 MiB) anyway.
#
#   scripts/device-tree.sh hide      take models/ out of the index (the files stay on disk) and ignore them locally;
#                                    prints what a call would then send
#   scripts/device-tree.sh restore   put models/ back in the index exactly as HEAD has them
#   scripts/device-tree.sh status    say which state the checkout is in, and the size a call would send
#
# While hidden, a commit would delete the models from the project: a pre-commit hook this script installs refuses
# every commit until `restore` has run. Nothing here edits a tracked file.
set -euo pipefail
cd "$(dirname "$0")/.."
GIT_DIR=$(git rev-parse --git-dir)
EXCLUDE=$GIT_DIR/info/exclude
HOOK=$GIT_DIR/hooks/pre-commit
MARK='# lumiere: device-tree.sh hide'
LIMIT=$((64 * 1024 * 1024))

hidden() { grep -qxF "$MARK" "$EXCLUDE" 2>/dev/null; }

# What a call sends: tracked files plus untracked files git does not ignore, plus .gpu/ when it exists (it is carried).
call_bytes() {
    local files gpu=0
    files=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r du -cb 2>/dev/null | awk '/\ttotal$/ { s += $1 } END { print s + 0 }')
    [ -d .gpu ] && gpu=$(du -sb .gpu | cut -f1)
    echo "$files $gpu"
}

report() {
    read -r tree gpu < <(call_bytes)
    awk -v t="$tree" -v g="$gpu" -v l="$LIMIT" 'BEGIN {
        printf "working tree %.1f MiB, .gpu %.1f MiB, a call carrying .gpu: %.1f MiB of 64 MiB%s\n",
            t / 1048576, g / 1048576, (t + g) / 1048576, (t + g > l ? " - TOO LARGE" : "") }'
}

case "${1:-status}" in
hide)
    if hidden; then echo "models/ are already hidden"; report; exit 0; fi
    if ! git diff --quiet HEAD -- models; then
        echo "models/ differ from HEAD: commit or discard those changes first" >&2; exit 1
    fi
    mkdir -p "$(dirname "$EXCLUDE")" "$(dirname "$HOOK")"
    if [ -e "$HOOK" ] && ! grep -qF "$MARK" "$HOOK"; then
        echo "$HOOK exists and is not ours: move it away first (it would be replaced)" >&2; exit 1
    fi
    printf '%s\n/models/\n' "$MARK" >> "$EXCLUDE"
    cat > "$HOOK" <<EOF
#!/bin/sh
$MARK
echo "models/ are hidden for a device call: run scripts/device-tree.sh restore before committing" >&2
exit 1
EOF
    chmod +x "$HOOK"
    git rm -r -q --cached models
    echo "models/ hidden (files kept on disk; commits refused until: scripts/device-tree.sh restore)"
    report
    ;;
restore)
    if ! hidden; then echo "models/ are not hidden"; report; exit 0; fi
    git reset -q HEAD -- models
    # Drop our two lines from the exclude file and our hook; leave everything else as it was.
    awk -v mark="$MARK" '$0 == mark { skip = 1; next } skip && $0 == "/models/" { skip = 0; next } { skip = 0; print }' \
        "$EXCLUDE" > "$EXCLUDE.tmp" && mv "$EXCLUDE.tmp" "$EXCLUDE"
    if [ -e "$HOOK" ] && grep -qF "$MARK" "$HOOK"; then rm -f "$HOOK"; fi
    if ! git diff --quiet --cached HEAD -- models || ! git diff --quiet HEAD -- models; then
        echo "models/ do not match HEAD after restore: check git status" >&2; exit 1
    fi
    echo "models/ restored: the index matches HEAD"
    report
    ;;
status)
    if hidden; then echo "models/ are hidden (commits refused)"; else echo "models/ are tracked as usual"; fi
    report
    ;;
*)
    echo "usage: scripts/device-tree.sh hide|restore|status" >&2; exit 64
    ;;
esac
