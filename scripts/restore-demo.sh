#!/usr/bin/env bash
# The README's first command: set up, then restore the 1906 film "Calais" to 4x with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
# --overwrite: the demo's own output in out/ (ignored by git), so that running the demo again makes it again.
.build/release/lumiere-coordinator restore footage/Shepard_Calais_1906_FrenchGP.160p.ogv -o out/calais-1906-x4.mp4 --scale 4 --overwrite
echo "restored: out/calais-1906-x4.mp4"
