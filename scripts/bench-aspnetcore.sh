#!/usr/bin/env bash
# The ASP.NET Core benchmark (issue 11): samples/AspNetCoreApp's GET / behind nginx over FastCGI, beside the same
# build on Kestrel behind nginx as a reverse proxy. 16 kept connections (wrk -t1 -c16), one after the other:
# req/s, CPU per request of the application process (utime+stime from /proc over the measured window), p99.
#
#   bash scripts/bench-aspnetcore.sh     # BENCH_SECONDS (default 10) measured, BENCH_WARMUP (default 5) before
#
# The application runs on CPU 0, nginx (one worker) and wrk on CPU 1. BENCH_OUT (default out/bench-aspnetcore).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-5}
out=${BENCH_OUT:-$root/out/bench-aspnetcore}
mkdir -p "$out"
out=$(cd "$out" && pwd)

bash scripts/install-packages.sh nginx-light wrk procps
export DOTNET_CLI_USE_MSBUILD_SERVER=0 MSBUILDDISABLENODEREUSE=1
dotnet publish samples/AspNetCoreApp -c Release -o "$out/app" >"$out/publish.log" 2>&1 || { cat "$out/publish.log"; exit 1; }
dotnet build-server shutdown >/dev/null 2>&1 || true

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fcgi_port=$(free_port); kestrel_port=$(free_port); web_fcgi=$(free_port); web_proxy=$(free_port)

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# BENCH_FASTCGI_ARGS: more options for the FastCGI side, e.g. --FastCgi:ThreadingLevel=2.
app_args=(--Logging:LogLevel:Default=Warning)
read -r -a fastcgi_args <<<"${BENCH_FASTCGI_ARGS:-}"
(cd "$out/app" && exec taskset -c 0 ./AspNetCoreApp --FastCgi:Listen=127.0.0.1:$fcgi_port "${app_args[@]}" "${fastcgi_args[@]}") >"$out/fastcgi.log" 2>&1 &
fcgi_pid=$!; pids+=("$fcgi_pid")
(cd "$out/app" && exec taskset -c 0 ./AspNetCoreApp --urls http://127.0.0.1:$kestrel_port "${app_args[@]}") >"$out/kestrel.log" 2>&1 &
kestrel_pid=$!; pids+=("$kestrel_pid")

mkdir -p "$out/nginx"
cat >"$out/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
worker_cpu_affinity 10;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $out/nginx/cb; fastcgi_temp_path $out/nginx/ft; proxy_temp_path $out/nginx/pt;
    upstream fastcgi_app { server 127.0.0.1:$fcgi_port; keepalive 16; }
    upstream kestrel_app { server 127.0.0.1:$kestrel_port; keepalive 16; }
    server {
        listen 127.0.0.1:$web_fcgi;
        location / { include /etc/nginx/fastcgi_params; fastcgi_pass fastcgi_app; fastcgi_keep_conn on; }
    }
    server {
        listen 127.0.0.1:$web_proxy;
        location / {
            proxy_pass http://kestrel_app; proxy_http_version 1.1;
            proxy_set_header Host \$host; proxy_set_header Connection "";
        }
    }
}
CONF
taskset -c 1 nginx -p "$out/nginx" -c "$out/nginx/nginx.conf" -e "$out/nginx/error.log" &
pids+=("$!")

for port in $web_fcgi $web_proxy; do
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)" = 200 ] && break
    sleep 0.1
  done
  [ "$(curl -s "http://127.0.0.1:$port/")" = "Hello from ASP.NET Core" ] || { echo "no answer on $port"; cat "$out"/*.log; exit 1; }
done

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

printf '%-22s %10s %14s %10s\n' "path" "req/s" "CPU µs/req" "p99"
measure() {
  local name=$1 port=$2 pid=$3
  taskset -c 1 wrk -t1 -c16 -d"${warmup}s" "http://127.0.0.1:$port/" >/dev/null
  local before; before=$(ticks "$pid")
  taskset -c 1 wrk -t1 -c16 -d"${secs}s" --latency "http://127.0.0.1:$port/" >"$out/$name.wrk"
  local after; after=$(ticks "$pid")
  local requests rps p99
  requests=$(awk '/requests in/ { print $1 }' "$out/$name.wrk")
  rps=$(awk '/Requests\/sec/ { print $2 }' "$out/$name.wrk")
  p99=$(awk '$1 == "99%" { print $2 }' "$out/$name.wrk")
  local cpu; cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$requests" 'BEGIN { printf "%.1f", t * 1000000 / hz / n }')
  printf '%-22s %10s %14s %10s\n' "$name" "$rps" "$cpu" "$p99"
  printf '%s\t%s\t%s\t%s\n' "$name" "$rps" "$cpu" "$p99" >>"$out/results.tsv"
}
: >"$out/results.tsv"
measure "nginx → FastCGI" "$web_fcgi" "$fcgi_pid"
measure "nginx → Kestrel" "$web_proxy" "$kestrel_pid"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
