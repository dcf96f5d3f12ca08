#!/usr/bin/env bash
# Installs what Lumière needs on Debian/Ubuntu, checks the shipped models, puts the sample film in place, builds in release mode,
# then puts the commands on PATH with their man pages and bash/zsh/fish completions (step 5).
# Safe to run again: it only installs what is missing, and step 5 replaces only what an earlier run put there.
#   LUMIERE_MODELS   folder with the ncnn models (default: models/, shipped in the repository); checked against models/SHA256SUMS
#   LUMIERE_FOOTAGE  folder with sample footage (default: ../shared/footage when present)
#   LUMIERE_SKIP_BUILD=1  install and fetch only (no build, so no step 5)
#   LUMIERE_PREFIX   where step 5 installs (default: /usr/local as root, else ~/.local): PREFIX/bin (links to the build),
#                    PREFIX/share/man/man1, PREFIX/share/{bash-completion/completions,zsh/site-functions,fish/vendor_completions.d}
#   LUMIERE_SKIP_INSTALL=1  build, but install nothing outside the checkout
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "need root for: $*" >&2; exit 1; fi; }

# 1. Debian packages: FFmpeg's libraries (libavfilter: deinterlacing, and drawtext for `compare`'s labels with the DejaVu
#    font), ZeroMQ, OpenBLAS, oneDNN; the ffmpeg CLI, Python's ncnn,
#    iproute2 (the multi-host test's network namespaces) and python3-zmq (the fault suite's rogue peers) are for tests only.
#    libvulkan-dev (the header; the loader is opened at run time), glslang-tools (shaders compiled at build time) and
#    mesa-vulkan-drivers (lavapipe, the CPU Vulkan device the GPU backend's tests run on) are for the Vulkan backend.
#    prometheus (prometheus and promtool) checks cluster/monitoring/ and scrapes a real job in MonitoringConfigTests.
#    chromium (headless) is for the web page's browser test only.
PACKAGES=(pkg-config libavformat-dev libavcodec-dev libavutil-dev libavfilter-dev libswscale-dev libswresample-dev
          libzmq3-dev libopenblas-dev libdnnl-dev fonts-dejavu-core ffmpeg python3 python3-pip python3-numpy python3-zmq iproute2
          libvulkan-dev glslang-tools mesa-vulkan-drivers prometheus chromium)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null; then
    echo "Swift 6 is not on PATH: install it from swift.org (e.g. swiftly) and run this again." >&2; exit 1
fi
if ! python3 -c 'import ncnn, numpy, zmq' 2>/dev/null; then
    # Debian's python3-zmq serves /usr/bin/python3; a python3 of its own (pyenv, venv) gets pyzmq from PyPI.
    say "installing the ncnn reference engine and pyzmq (PyPI) for the tests"
    python3 -m pip install -q ncnn numpy pyzmq 2>/dev/null || python3 -m pip install -q --break-system-packages ncnn numpy pyzmq
fi

# 2. Models: they ship in the repository (models/, see models/README.md); check every file against models/SHA256SUMS.
#    $LUMIERE_MODELS, when set, overrides the folder (the programs look there first too) and is checked the same way.
models_dir="${LUMIERE_MODELS:-models}"
say "checking the models in $models_dir"
if [ ! -f models/SHA256SUMS ]; then
    echo "models/SHA256SUMS is missing: this is not a complete Lumière checkout. Fix: git checkout -- models (or clone again)." >&2; exit 1
fi
if ! (cd "$models_dir" && sha256sum --quiet -c "$ROOT/models/SHA256SUMS" >/dev/null 2>&1); then
    (cd "$models_dir" && sha256sum -c "$ROOT/models/SHA256SUMS" 2>/dev/null || true) | sed -n \
        -e "s#^\(.*\): FAILED open or read\$#  missing: $models_dir/\1#p" -e "s#^\(.*\): FAILED\$#  damaged (checksum differs): $models_dir/\1#p" >&2
    if [ -n "${LUMIERE_MODELS:-}" ]; then
        echo "the models in LUMIERE_MODELS=$LUMIERE_MODELS are damaged or incomplete (files above). Fix: unset LUMIERE_MODELS to use the repository's models/, or copy them there: cp -r $ROOT/models/. \"$LUMIERE_MODELS\"" >&2
    else
        echo "model files above are damaged or missing. Fix: git checkout -- models (in $ROOT), or clone the repository again." >&2
    fi
    exit 1
fi

# 3. The sample film (public domain, 1906) for the README's first command.
mkdir -p footage
FILM=footage/Shepard_Calais_1906_FrenchGP.160p.ogv
if [ ! -e "$FILM" ]; then
    shared="${LUMIERE_FOOTAGE:-../shared/footage}"
    if [ -f "$shared/oldfilm/Shepard_Calais_1906_FrenchGP.160p.ogv" ]; then
        ln -s "$(cd "$shared/oldfilm" && pwd)/Shepard_Calais_1906_FrenchGP.160p.ogv" "$FILM"
    else
        say "fetching the 1906 film from Debian's python-nbsphinx-doc package"
        tmp=$(mktemp -d)
        (cd "$tmp" && apt-get download python-nbsphinx-doc >/dev/null && dpkg -x python-nbsphinx-doc_*.deb x)
        cp "$tmp"/x/usr/share/doc/python-nbsphinx/html/www/wikimediacommons/Shepard_Calais_1906_FrenchGP.ogv.160p.ogv "$FILM"
        rm -rf "$tmp"
    fi
fi

# 4. Build.
if [ "${LUMIERE_SKIP_BUILD:-0}" != 1 ]; then
    say "building (release)"
    swift build -c release 2>&1 | grep -v -- "-isystem" | tail -3
fi

# 5. The commands on PATH, their man pages (swift-argument-parser's generate-manual plugin: no network, it builds its
#    tool from the package's own checkout) and shell completions (--generate-completion-script), all made from the
#    commands' --help so they never disagree with it. Nothing of the user's is replaced: PREFIX/bin gets symbolic links
#    to this checkout's build (an existing file of that name that is not such a link is left, with a note), and the
#    man pages and completion files carry the commands' own names.
if [ "${LUMIERE_SKIP_BUILD:-0}" != 1 ] && [ "${LUMIERE_SKIP_INSTALL:-0}" != 1 ]; then
    if [ -n "${LUMIERE_PREFIX:-}" ]; then prefix="$LUMIERE_PREFIX"
    elif [ "$(id -u)" = 0 ]; then prefix=/usr/local
    else prefix="$HOME/.local"; fi
    say "installing the commands, man pages and completions under $prefix"
    swift package plugin generate-manual 2>&1 | grep -v -- "-isystem" | grep -i 'error' || true
    mkdir -p "$prefix/bin" "$prefix/share/man/man1" "$prefix/share/bash-completion/completions" \
             "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d"
    for exe in lumiere-coordinator lumiere-worker; do
        built="$ROOT/.build/release/$exe"
        link="$prefix/bin/$exe"
        if [ -L "$link" ] || [ ! -e "$link" ]; then ln -sfn "$built" "$link"
        else echo "note: $link exists and is not a link to a Lumière build; left as it is (run $built directly)" >&2; fi
        page="$ROOT/.build/plugins/GenerateManual/outputs/$exe/$exe.1"
        if [ -f "$page" ]; then install -m 644 "$page" "$prefix/share/man/man1/$exe.1"
        else echo "note: no man page for $exe (swift package plugin generate-manual failed; see its output)" >&2; fi
        "$built" --generate-completion-script bash >"$prefix/share/bash-completion/completions/$exe"
        "$built" --generate-completion-script zsh >"$prefix/share/zsh/site-functions/_$exe"
        "$built" --generate-completion-script fish >"$prefix/share/fish/vendor_completions.d/$exe.fish"
    done
    case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "note: add $prefix/bin to PATH (man finds $prefix/share/man through it)" >&2 ;; esac
    # bash-completion and fish look in these folders by themselves (system-wide and ~/.local/share); zsh's fpath
    # holds /usr/local/share/zsh/site-functions on Debian but no folder in the home directory.
    if [ "$prefix" != /usr/local ] && [ "$prefix" != /usr ]; then
        echo "note: zsh: add 'fpath=($prefix/share/zsh/site-functions \$fpath)' before compinit in ~/.zshrc" >&2
    fi
fi
