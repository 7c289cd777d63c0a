#!/usr/bin/env bash
# Measures synapsefs side by side, in one run, with curl of the same emulator and with
# `rclone mount` of the same bytes served by nginx on loopback; prints one table.
# Installs rclone, nginx-light and fio from Debian when missing. Needs root (drops the page
# cache before each cold run) and /dev/fuse. BENCH_FIO_SECONDS (default 30) sets the fio runs.
# Loopback figures on a small VM swing from run to run: the cold reads, curl and uploads are
# measured three times, interleaved, and the median is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh rclone nginx-light fio >/dev/null
swift build -c release --product synapsefs >/dev/null
bin=$PWD/.build/release/synapsefs
fio_seconds=${BENCH_FIO_SECONDS:-30}
work=$(mktemp -d /var/tmp/synapsefs-bench.XXXXXX)
key=bench-key
task=5eed0000-0000-4000-8000-000000000001
pids=()

cleanup() {
  for m in "$work/mnt" "$work/rmnt"; do mountpoint -q "$m" 2>/dev/null && fusermount3 -uz "$m"; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# MB/s of `dd` reading a whole file.
dd_rate() { dd if="$1" of=/dev/null bs=1M 2>&1 | awk '/copied/ { printf "%.0f", $1 / $(NF-3) / 1e6 }'; }
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
fio_iops() {
  fio --name=rand --filename="$1" --rw=randread --bs=4k --runtime="$fio_seconds" --time_based --readonly \
      --ioengine=psync --output-format=json 2>/dev/null | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))'
}
mount_synapsefs() {
  rm -rf "$work/cache"
  INFINISYNAPSE_API_KEY=$key "$bin" mount "$work/mnt" --server "$url" --cache-dir "$work/cache" >/dev/null
}
mount_rclone() {
  mountpoint -q "$work/rmnt" && fusermount3 -u "$work/rmnt"
  rm -rf "$work/rcache"
  rclone mount :http: "$work/rmnt" --http-url "http://127.0.0.1:$nginx_port/" --vfs-cache-mode full \
    --cache-dir "$work/rcache" --read-only --daemon
  for _ in $(seq 100); do mountpoint -q "$work/rmnt" && return; sleep 0.1; done
  echo "bench: rclone did not mount" >&2; exit 1
}

echo "bench: seeding 10,000 tasks and 1.5 GiB of files…" >&2
mkdir -p "$work/mnt" "$work/rmnt"
"$bin" emulator --data-dir "$work/emu" --api-key "$key" --seed-tasks 10000 \
  --seed-file big512.bin:512M --seed-file big1g.bin:1G --seed-file upload-src.bin:256M >"$work/emu.out" 2>&1 &
pids+=($!)
for _ in $(seq 600); do grep -q listening "$work/emu.out" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/emu.out")
files=$work/emu/workspaces/$task

nginx_port=$(free_port)
cat >"$work/nginx.conf" <<EOF
daemon off; user root; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx.err;
events {}
http { access_log off; sendfile on; server { listen 127.0.0.1:$nginx_port; root $files; autoindex on; } }
EOF
nginx -c "$work/nginx.conf" &
pids+=($!)
sleep 0.5

echo "bench: sequential reads…" >&2
curl_runs=(); cold_runs=()
for _ in 1 2 3; do
  drop_caches
  curl_runs+=("$(curl -s -o /dev/null -w '%{speed_download}' -H "Authorization: Bearer $key" \
    "$url/api/tools/storage/downloadTaskFile/$task?path=big512.bin" | awk '{ printf "%.0f", $1 / 1e6 }')")
  mountpoint -q "$work/mnt" && fusermount3 -u "$work/mnt"
  mount_synapsefs
  drop_caches
  cold_runs+=("$(dd_rate "$work/mnt/tasks/$task/workspace/big512.bin")")
done
curl_rate=$(median "${curl_runs[@]}")
sfs_cold=$(median "${cold_runs[@]}")
sfs_warm=$(dd_rate "$work/mnt/tasks/$task/workspace/big512.bin")
mount_rclone
drop_caches
rc_cold=$(dd_rate "$work/rmnt/big512.bin")
rc_warm=$(dd_rate "$work/rmnt/big512.bin")

echo "bench: time to first byte…" >&2
drop_caches
sfs_ttfb=$(seconds head -c 1 "$work/mnt/tasks/$task/workspace/big1g.bin")
mount_rclone
rc_ttfb=$(seconds head -c 1 "$work/rmnt/big1g.bin")

echo "bench: random 4 KiB reads, ${fio_seconds} s each…" >&2
fusermount3 -u "$work/mnt"; mount_synapsefs; drop_caches
sfs_iops=$(fio_iops "$work/mnt/tasks/$task/workspace/big1g.bin")
mount_rclone; drop_caches
rc_iops=$(fio_iops "$work/rmnt/big1g.bin")

echo "bench: listing 10,000 tasks…" >&2
fusermount3 -u "$work/mnt"; mount_synapsefs
ls_cold=$(seconds ls -l "$work/mnt/tasks")
ls_warm=$(seconds ls -l "$work/mnt/tasks")
curl_pages=$(seconds bash -c "for p in \$(seq 1 100); do curl -s -o /dev/null -H 'Authorization: Bearer $key' '$url/api/ai_task/list?page='\$p'&pageSize=100'; done")

echo "bench: uploading 256 MiB…" >&2
mkdir "$work/mnt/tasks/bench-upload"
cp_runs=(); curl_up_runs=()
for i in 1 2 3; do
  cp_runs+=("$(seconds cp "$files/upload-src.bin" "$work/mnt/tasks/bench-upload/uploads/copy$i.bin")")
  curl_up_runs+=("$(seconds curl -s -o /dev/null -H "Authorization: Bearer $key" -F "file=@$files/upload-src.bin" \
    "$url/api/tools/taskUpload/bench-curl?subdir=upload_documents&naming=original")")
done
cp_upload=$(median "${cp_runs[@]}")
curl_upload=$(median "${curl_up_runs[@]}")
daemon=$(pgrep -f "synapsefs mount $work/mnt" | head -1)
rss_mib=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$daemon/status")

ratio() { echo "scale=2; $1 / $2" | bc; }
printf '\n%-44s %12s %12s %12s %s\n' "measure" "synapsefs" "curl" "rclone" "ratios"
echo "(cold runs: synapsefs ${cold_runs[*]}, curl ${curl_runs[*]} MB/s; uploads: cp ${cp_runs[*]}, curl ${curl_up_runs[*]} s)"
printf '%-44s %12s %12s %12s %s\n' "sequential read 512 MiB, cold (MB/s)" "$sfs_cold" "$curl_rate" "$rc_cold" \
  "$(ratio "$sfs_cold" "$curl_rate")x curl, $(ratio "$sfs_cold" "$rc_cold")x rclone"
printf '%-44s %12s %12s %12s %s\n' "sequential read 512 MiB, warm (MB/s)" "$sfs_warm" "-" "$rc_warm" "$(ratio "$sfs_warm" "$rc_warm")x rclone"
printf '%-44s %12s %12s %12s\n' "time to first byte, cold 1 GiB (s)" "$sfs_ttfb" "-" "$rc_ttfb"
printf '%-44s %12s %12s %12s %s\n' "random 4 KiB reads, cold 1 GiB (IOPS)" "$sfs_iops" "-" "$rc_iops" "$(ratio "$sfs_iops" "$rc_iops")x rclone"
printf '%-44s %12s %12s %12s %s\n' "ls -l of 10,000 tasks, cold (s)" "$ls_cold" "$curl_pages" "-" "$(ratio "$ls_cold" "$curl_pages")x curl (all pages)"
printf '%-44s %12s %12s %12s\n' "ls -l of 10,000 tasks, warm (s)" "$ls_warm" "-" "-"
printf '%-44s %12s %12s %12s %s\n' "upload 256 MiB (s): cp / curl -F" "$cp_upload" "$curl_upload" "-" "$(ratio "$curl_upload" "$cp_upload")x curl speed"
printf '%-44s %12s\n' "daemon peak RSS (MiB)" "$rss_mib"
