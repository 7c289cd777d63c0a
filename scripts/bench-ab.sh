#!/usr/bin/env bash
# A/B: this tree's release binary against an earlier one (BASELINE, a path to its
# `synapsefs`), side by side in one run against one emulator, runs interleaved so drift hits
# both alike; prints the median of each and new/old. Root and /dev/fuse, like bench.sh.
# Usage: scripts/bench-ab.sh /path/to/old/synapsefs   (BENCH_AB_RUNS, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=${1:?usage: scripts/bench-ab.sh /path/to/baseline/synapsefs}
runs=${BENCH_AB_RUNS:-5}
./scripts/install-deps.sh fio >/dev/null
swift build -c release --product synapsefs >/dev/null
new=$PWD/.build/release/synapsefs
work=$(mktemp -d /var/tmp/synapsefs-ab.XXXXXX)
key=bench-key
task=5eed0000-0000-4000-8000-000000000001
pids=()
cleanup() {
  for m in "$work"/mnt-*; do mountpoint -q "$m" 2>/dev/null && fusermount3 -uz "$m"; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
dd_rate() { dd if="$1" of=/dev/null bs=1M 2>&1 | awk '/copied/ { printf "%.0f", $1 / $(NF-3) / 1e6 }'; }
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
iops() {
  fio --name=rand --filename="$1" --rw=randread --bs=4k --runtime=10 --time_based --readonly \
      --ioengine=psync --output-format=json 2>/dev/null | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))'
}
# mount NAME BINARY: a fresh cache each time.
mount_as() {
  local m=$work/mnt-$1
  mountpoint -q "$m" && fusermount3 -u "$m"
  mkdir -p "$m"; rm -rf "$work/cache-$1"
  INFINISYNAPSE_API_KEY=$key "$2" mount "$m" --server "$url" --cache-dir "$work/cache-$1" >/dev/null
}

echo "bench-ab: seeding 10,000 tasks and 800 MiB of files…" >&2
"$new" emulator --data-dir "$work/emu" --api-key "$key" --seed-tasks 10000 \
  --seed-file big512.bin:512M --seed-file upload-src.bin:256M >"$work/emu.out" 2>&1 &
pids+=($!)
for _ in $(seq 600); do grep -q listening "$work/emu.out" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/emu.out")
src=$work/emu/workspaces/$task/upload-src.bin

declare -A cold warm lsc lsw up rnd
for i in $(seq "$runs"); do
  for side in old new; do
    bin=$baseline; [ "$side" = new ] && bin=$new
    echo "bench-ab: run $i, $side" >&2
    mount_as "$side" "$bin"
    m=$work/mnt-$side
    lsc[$side]+="$(seconds ls -l "$m/tasks") "
    lsw[$side]+="$(seconds ls -l "$m/tasks") "
    drop_caches
    cold[$side]+="$(dd_rate "$m/tasks/$task/workspace/big512.bin") "
    warm[$side]+="$(dd_rate "$m/tasks/$task/workspace/big512.bin") "
    mkdir -p "$m/tasks/ab-$side-$i"
    up[$side]+="$(seconds cp "$src" "$m/tasks/ab-$side-$i/uploads/copy.bin") "
    mount_as "$side" "$bin"; drop_caches
    rnd[$side]+="$(iops "$work/mnt-$side/tasks/$task/workspace/big512.bin") "
    fusermount3 -u "$m"
  done
done

row() {
  local name=$1; local -n values=$2
  local o n; o=$(median ${values[old]}); n=$(median ${values[new]})
  printf '%-40s %12s %12s %8s   old: %s new: %s\n' "$name" "$o" "$n" "$(echo "scale=2; $n / $o" | bc)" "${values[old]}" "${values[new]}"
}
printf '\n%-40s %12s %12s %8s\n' "measure (median of $runs)" "old" "new" "new/old"
row "sequential read 512 MiB, cold (MB/s)" cold
row "sequential read 512 MiB, warm (MB/s)" warm
row "random 4 KiB reads, cold (IOPS, 10 s)" rnd
row "ls -l of 10,000 tasks, cold (s)" lsc
row "ls -l of 10,000 tasks, warm (s)" lsw
row "upload 256 MiB with cp (s)" up
