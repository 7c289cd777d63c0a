#!/usr/bin/env bash
# Measures synapsefs side by side, in one run, with curl of the same emulator and with
# `rclone mount` of the same bytes served by nginx on loopback; prints one table.
# Installs rclone, nginx-light and fio from Debian when missing. Needs root (drops the page
# cache before each cold run) and /dev/fuse. BENCH_FIO_SECONDS (default 30) sets the fio runs.
# Loopback figures on a small VM swing from run to run: the cold reads, curl and uploads are
# measured three times, interleaved, and the median is printed.
# Then the same tools over a distant link (the "remote" profile: BENCH_RTT_MS round trip,
# default 50, BENCH_MBPS Mbit/s, default 200: the emulator shapes its own answers, and
# scripts/delay-proxy.py puts the same link in front of nginx for rclone) over many small
# files (BENCH_SMALL_FILES, default 2000); 100,000 tasks; and HTTPS (nginx as a TLS proxy,
# with a throwaway CA the bench makes). BENCH_PROFILES picks some of: loopback remote tasks tls.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh rclone nginx-light fio python3 openssl bc >/dev/null
swift build -c release --product synapsefs >/dev/null
bin=$PWD/.build/release/synapsefs
fio_seconds=${BENCH_FIO_SECONDS:-30}
profiles=${BENCH_PROFILES:-loopback remote tasks tls}
rtt=${BENCH_RTT_MS:-50}
mbps=${BENCH_MBPS:-200}
small=${BENCH_SMALL_FILES:-2000}
has() { [[ " $profiles " == *" $1 "* ]]; }
work=$(mktemp -d /var/tmp/synapsefs-bench.XXXXXX)
key=bench-key
task=5eed0000-0000-4000-8000-000000000001
pids=()

cleanup() {
  for m in "$work"/mnt* "$work"/rmnt*; do mountpoint -q "$m" 2>/dev/null && fusermount3 -uz "$m"; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

source scripts/bench-lib.sh
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

if has loopback; then
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
fi

if has remote; then
  echo "bench: remote profile (${rtt} ms round trip, ${mbps} Mbit/s): seeding $small small files…" >&2
  start_emulator --data-dir "$work/small" --seed-tasks 1 --seed-small-files "$small" --latency-ms "$rtt" --bandwidth-mbps "$mbps"
  remote_url=$emu_url
  start_nginx "$work/small/workspaces/$task"
  start_proxy "${nginx_url#http://}"
  ws=$work/mnt-remote/tasks/$task/workspace
  # One curl, one connection, the files one after another (a client that does not overlap requests).
  (cd "$work/small/workspaces/$task" && find small -type f | sort) | while read -r f; do
    printf 'url = "%s"\noutput = "/dev/null"\n' "$remote_url/api/tools/storage/downloadTaskFile/$task?path=$f"
  done >"$work/curl-small.cfg"
  curl_small=$(seconds curl -s -H "Authorization: Bearer $key" -K "$work/curl-small.cfg")
  # $1 run cold in synapsefs's workspace/, then in rclone's mount of the same files: "s r".
  cold() {
    mount_at "$work/mnt-remote" "$remote_url"; drop_caches
    local a b
    a=$(seconds bash -c "cd '$ws' && $1")
    rclone_at "$work/rmnt-remote" "$proxy_url"; drop_caches
    b=$(seconds bash -c "cd '$work/rmnt-remote' && $1")
    echo "$a $b"
  }
  read -r s_grep r_grep <<<"$(cold 'grep -rl needle small | wc -l')"
  read -r s_tar r_tar <<<"$(cold 'tar cf - small | wc -c')"
  read -r s_find r_find <<<"$(cold 'find small -type f | wc -l')"
  read -r s_lsr r_lsr <<<"$(cold 'ls -lR small | wc -l')"
  echo
  echo "remote profile: ${rtt} ms round trip, ${mbps} Mbit/s; $small files of 1-64 KiB under small/ (cold, s)"
  row "measure" "synapsefs" "curl loop" "rclone" "ratios (speed)"
  row "grep -r over $small files" "$s_grep" "$curl_small" "$r_grep" "$(ratio "$r_grep" "$s_grep")x rclone, $(ratio "$curl_small" "$s_grep")x curl loop"
  row "tar cf - | wc -c over $small files" "$s_tar" "$curl_small" "$r_tar" "$(ratio "$r_tar" "$s_tar")x rclone, $(ratio "$curl_small" "$s_tar")x curl loop"
  row "find -type f | wc -l" "$s_find" "-" "$r_find" "$(ratio "$r_find" "$s_find")x rclone"
  row "ls -lR" "$s_lsr" "-" "$r_lsr" "$(ratio "$r_lsr" "$s_lsr")x rclone"
  fusermount3 -u "$work/mnt-remote"; fusermount3 -u "$work/rmnt-remote"
fi

if has tasks; then
  echo "bench: seeding 100,000 tasks…" >&2
  for profile in loopback remote; do
    if [[ $profile == remote ]]; then
      start_emulator --data-dir "$work/many" --seed-tasks 100000 --latency-ms "$rtt" --bandwidth-mbps "$mbps"
    else
      start_emulator --data-dir "$work/many" --seed-tasks 100000
    fi
    mount_at "$work/mnt-many" "$emu_url"
    t_cold=$(seconds ls -l "$work/mnt-many/tasks")
    t_warm=$(seconds ls -l "$work/mnt-many/tasks")
    t_curl=$(seconds bash -c "seq 1 1000 | xargs -P 4 -I{} curl -s -o /dev/null -H 'Authorization: Bearer $key' '$emu_url/api/ai_task/list?page={}&pageSize=100'")
    daemon=$(pgrep -f "synapsefs mount $work/mnt-many" | head -1)
    rss=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$daemon/status")
    echo
    echo "100,000 tasks, $profile (s; curl: all 1000 pages, 4 at a time, as the mount fetches them)"
    row "measure" "synapsefs" "curl" "-" "ratios"
    row "ls -l tasks/, cold" "$t_cold" "$t_curl" "-" "$(ratio "$t_cold" "$t_curl")x curl's time"
    row "ls -l tasks/, warm" "$t_warm" "-" "-"
    row "daemon RSS after it (MiB)" "$rss" "-" "-"
    fusermount3 -u "$work/mnt-many"
  done
fi

if has tls; then
  echo "bench: HTTPS (nginx as a TLS proxy, a throwaway CA)…" >&2
  start_emulator --data-dir "$work/tls" --seed-tasks 1 --seed-file big512.bin:512M
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench CA" -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$work/srv.key" -out "$work/srv.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$work/srv.ext"
  openssl x509 -req -in "$work/srv.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
    -extfile "$work/srv.ext" -out "$work/srv.crt" 2>/dev/null
  start_nginx "$emu_url" "$work/srv"
  tls_url=$nginx_url
  t_curl=(); t_sfs=()
  for _ in 1 2 3; do
    drop_caches
    t_curl+=("$(curl -s --cacert "$work/ca.crt" -o /dev/null -w '%{speed_download}' -H "Authorization: Bearer $key" \
      "$tls_url/api/tools/storage/downloadTaskFile/$task?path=big512.bin" | awk '{ printf "%.0f", $1 / 1e6 }')")
    mount_at "$work/mnt-tls" "$tls_url" --ca-file "$work/ca.crt"
    drop_caches
    t_sfs+=("$(dd_rate "$work/mnt-tls/tasks/$task/workspace/big512.bin")")
  done
  tls_warm=$(dd_rate "$work/mnt-tls/tasks/$task/workspace/big512.bin")
  mount_at "$work/mnt-tls" "$tls_url" --ca-file "$work/ca.crt"; drop_caches
  tls_ttfb=$(seconds head -c 1 "$work/mnt-tls/tasks/$task/workspace/big512.bin")
  echo
  echo "HTTPS through nginx (runs: synapsefs ${t_sfs[*]}, curl ${t_curl[*]} MB/s)"
  row "measure" "synapsefs" "curl" "-" "ratios"
  row "sequential read 512 MiB over TLS, cold (MB/s)" "$(median "${t_sfs[@]}")" "$(median "${t_curl[@]}")" "-" \
    "$(ratio "$(median "${t_sfs[@]}")" "$(median "${t_curl[@]}")")x curl"
  row "sequential read 512 MiB over TLS, warm (MB/s)" "$tls_warm" "-" "-"
  row "time to first byte over TLS, cold (s)" "$tls_ttfb" "-" "-"
  fusermount3 -u "$work/mnt-tls"
fi
