#!/usr/bin/env bash
# Installs what is missing, builds, and mounts synapsefs at MOUNTPOINT (default ./mnt).
# With no server configured (--server URL or ~/.config/synapsefs/config.json) it mounts the
# built-in emulator with a few demo tasks. Extra arguments go to `synapsefs mount`.
set -euo pipefail
cd "$(dirname "$0")/.."

mountpoint="${1:-mnt}"
[[ $# -gt 0 ]] && shift
./scripts/install-deps.sh
swift build -c release --product synapsefs
mkdir -p "$mountpoint"
exec .build/release/synapsefs mount "$mountpoint" "$@"
