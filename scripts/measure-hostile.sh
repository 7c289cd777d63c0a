#!/usr/bin/env bash
# Peak RSS of the daemon and the longest wait of another task while a hostile server sends
# oversized listings: 100,000 tasks, a workspace of 99,990 files, 99,990 messages (all within
# the mount's limits), and 300,000 messages (beyond them: refused).
# usage: scripts/measure-hostile.sh [BINARY]   (default: .build/debug/synapsefs, built first)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [[ -z $bin ]]; then swift build >/dev/null; bin=.build/debug/synapsefs; fi
bin=$(realpath "$bin")
work=$(mktemp -d /tmp/synapsefs-hostile.XXXXXX)
trap 'fusermount3 -uz "$work/mnt" 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
task=5eed0000-0000-4000-8000-000000000001
other=5eed0000-0000-4000-8000-000000000002

# one CASE TASKS INFLATE COMMAND: mounts a fresh emulator, runs COMMAND, prints the figures.
one() {
  local name=$1 tasks=$2 inflate=$3 command=$4
  rm -rf "$work/emu" "$work/cache"; mkdir -p "$work/mnt"
  "$bin" emulator --data-dir "$work/emu" --api-key k --port 0 --seed-tasks "$tasks" > "$work/emu.log" 2>&1 &
  local emu=$!
  until grep -q "listening on" "$work/emu.log"; do sleep 0.2; done
  local url; url=$(sed -n 's/^listening on //p' "$work/emu.log")
  curl -s -H "Authorization: Bearer k" -d "{\"inflateListings\": $inflate}" "$url/_emulator/faults" > /dev/null
  INFINISYNAPSE_API_KEY=k "$bin" mount "$work/mnt" --server "$url" --cache-dir "$work/cache" -f > "$work/mount.log" 2>&1 &
  local daemon=$!
  until mountpoint -q "$work/mnt"; do sleep 0.2; done
  local start end
  start=$(date +%s.%N)
  local out; out=$(cd "$work/mnt/tasks" && eval "$command" 2>&1 | tail -1)
  end=$(date +%s.%N)
  local otherStart; otherStart=$(date +%s.%N)
  cat "$work/mnt/tasks/$other/status" > /dev/null
  local otherTime; otherTime=$(echo "$(date +%s.%N) - $otherStart" | bc)
  local peak; peak=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$daemon/status")
  printf '%-34s %10s %8.1f s %8.2f s %8s MiB\n' "$name" "$out" "$(echo "$end - $start" | bc)" "$otherTime" "$peak"
  fusermount3 -u "$work/mnt"; wait "$daemon" || true; kill "$emu"; wait "$emu" 2>/dev/null || true
}

printf '%-34s %10s %10s %10s %12s\n' case result took "other task" "peak RSS"
one "ls -l of 100,000 tasks" 100000 0 "ls -l | wc -l"
one "find of 99,990 workspace files" 3 99990 "find $task/workspace | wc -l"
one "stream.log of 99,990 messages" 3 99990 "cat $task/stream.log | wc -c"
one "messages.json of 99,990 messages" 3 99990 "cat $task/messages.json | wc -c"
one "300,000 messages (over the limit)" 3 300000 "cat $task/messages.json > /dev/null && echo read || echo refused"
