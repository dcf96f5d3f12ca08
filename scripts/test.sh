#!/usr/bin/env bash
# The README's second command: set up, then run every test (release mode: the engine and media tests need speed).
set -euo pipefail
cd "$(dirname "$0")/.."
LUMIERE_SKIP_BUILD=1 bash scripts/setup.sh
swift build -c release 2>&1 | grep -v -- "-isystem" | tail -3
swift test -c release 2>&1 | grep -v -- "-isystem"
