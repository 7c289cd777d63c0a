#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite, real mounts included.
# Real-mount tests need /dev/fuse; with CI=true a mount that cannot come up fails its test.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
swift build
swift test "$@"
