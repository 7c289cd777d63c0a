#!/usr/bin/env bash
# Installs what is missing, builds (the release package too), and runs the whole test suite,
# real mounts and the package included.
# Real-mount tests need /dev/fuse; with CI=true a mount that cannot come up fails its test.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
swift build
# The release as users install it (binary with the Swift runtime linked in, man page,
# completions, .deb): PackagingTests check it.
./scripts/package.sh
if [[ $# -gt 0 ]]; then
  exec swift test "$@"
fi
# Three runs, one process each: the core's tests and the real-mount tests wait in blocking
# calls (fakes that stall, processes, sleeps) on the test runner's few threads (one per core),
# which the in-process servers of the client tests need; apart, none starves another.
swift test --filter SynapseCoreTests
swift test --skip SynapseCoreTests --skip MountTests
swift test --filter MountTests
