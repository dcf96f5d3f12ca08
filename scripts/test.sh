#!/usr/bin/env bash
# The README's second command: set up, then run every test (release mode: the engine and media tests need speed).
set -euo pipefail
cd "$(dirname "$0")/.."
LUMIERE_SKIP_BUILD=1 bash scripts/setup.sh
swift build -c release 2>&1 | grep -v -- "-isystem" | tail -3

# The multi-host test: coordinator and three workers in their own network namespaces (needs root, as in CI).
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
    LUMIERE_BIN="$PWD/.build/release" CLUSTER_TESTS="netns" bash cluster/test-all.sh
else
    echo "skipping the network-namespace test (needs root and iproute2): sudo bash cluster/test-all.sh"
fi

swift test -c release --disable-swift-testing 2>&1 | grep -v -- "-isystem"
