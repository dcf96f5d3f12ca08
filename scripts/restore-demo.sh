#!/usr/bin/env bash
# The README's first command: set up, then restore the 1906 film "Calais" to 4x with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
.build/release/lumiere-coordinator restore footage/Shepard_Calais_1906_FrenchGP.160p.ogv -o out/calais-1906-x4.mp4 --scale 4
echo "restored: out/calais-1906-x4.mp4"
