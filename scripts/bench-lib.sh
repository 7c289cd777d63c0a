# Helpers of scripts/bench.sh (sourced): start emulators, nginx (plain or as a TLS proxy),
# the delaying proxy, mounts; measure; print rows. Expects $bin, $key, $work, $rtt, $mbps and
# the array pids (what to stop at the end).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# MB/s of `dd` reading a whole file.
dd_rate() { dd if="$1" of=/dev/null bs=1M 2>&1 | awk '/copied/ { printf "%.0f", $1 / $(NF-3) / 1e6 }'; }
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
ratio() { echo "scale=2; $1 / $2" | bc; }
row() { printf '%-52s %12s %12s %12s %s\n' "$@"; }

# Starts an emulator (arguments as given) and sets $emu_url once it listens.
start_emulator() {
  local out=$work/emu-$RANDOM.out
  "$bin" emulator --api-key "$key" "$@" >"$out" 2>&1 &
  pids+=($!)
  for _ in $(seq 6000); do grep -q listening "$out" && break; sleep 0.1; done
  emu_url=$(grep -o 'http://[0-9.:]*' "$out")
}

# nginx serving the folder $1 on a free port, or, with $2 (a cert/key prefix), a TLS (and
# HTTP/2) proxy in front of the URL $1; sets $nginx_url.
start_nginx() {
  local port conf
  port=$(free_port); conf=$work/nginx-$port.conf
  if [[ -n "${2:-}" ]]; then
    printf '%s\n' "daemon off; user root; worker_processes 2; pid $work/nginx-$port.pid; error_log $work/nginx.err;" \
      "events {}" \
      "http { access_log off; upstream backend { server ${1#http://}; keepalive 32; }" \
      "  server { listen 127.0.0.1:$port ssl http2; ssl_certificate $2.crt; ssl_certificate_key $2.key;" \
      "    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering off; } } }" >"$conf"
    nginx_url=https://localhost:$port
  else
    printf '%s\n' "daemon off; user root; worker_processes 1; pid $work/nginx-$port.pid; error_log $work/nginx.err;" \
      "events {}" \
      "http { access_log off; sendfile on; server { listen 127.0.0.1:$port; root $1; autoindex on; } }" >"$conf"
    nginx_url=http://127.0.0.1:$port
  fi
  nginx -c "$conf" &
  pids+=($!)
  sleep 0.5
}

# scripts/delay-proxy.py (the remote link) in front of host:port $1; sets $proxy_url.
start_proxy() {
  local port out=$work/proxy-$RANDOM.out
  port=$(free_port)
  python3 scripts/delay-proxy.py "$port" "$1" "$rtt" "$mbps" >"$out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.1; done
  proxy_url=http://127.0.0.1:$port
}

# Mounts synapsefs of server $2 at $1 with an empty cache (more mount arguments after).
mount_at() {
  local at=$1 url=$2; shift 2
  if mountpoint -q "$at"; then fusermount3 -u "$at"; fi
  mkdir -p "$at"; rm -rf "$at.cache"
  INFINISYNAPSE_API_KEY=$key "$bin" mount "$at" --server "$url" --cache-dir "$at.cache" "$@" >/dev/null
}

# rclone of the HTTP folder $2 at $1, with an empty cache (more rclone arguments after).
rclone_at() {
  local at=$1 url=$2; shift 2
  if mountpoint -q "$at"; then fusermount3 -u "$at"; fi
  mkdir -p "$at"; rm -rf "$at.cache"
  rclone mount :http: "$at" --http-url "$url/" --vfs-cache-mode full --cache-dir "$at.cache" --read-only --daemon "$@"
  for _ in $(seq 100); do mountpoint -q "$at" && return; sleep 0.1; done
  echo "bench: rclone did not mount" >&2; exit 1
}
