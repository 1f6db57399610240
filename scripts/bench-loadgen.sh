#!/usr/bin/env bash
# fcgi bench beside perf/loadgen/fcgi-load.c on the same application in one run (docs/performance.md): the libfcgi C
# peer (perf/peers/libfcgi-app.c, one thread per connection) on CPU 0, each load generator in turn on CPU 1, the same connections and
# PARAMS. Prints, for each: requests/s, p50/p99, the application's CPU per request and the load generator's own CPU
# per request (user + system time of the whole run over the requests it made).
#
#   bash scripts/bench-loadgen.sh [SECONDS]     # default 5 s a run; BENCH_CONNS (default 16; libfcgi gets as many threads)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
conns=${BENCH_CONNS:-16}
out=${BENCH_OUT:-out/bench-loadgen}
mkdir -p "$out"
bash scripts/install-packages.sh gcc libfcgi-dev libssl-dev procps util-linux
gcc -O2 -Wall -Werror -o "$out/fcgi-load" perf/loadgen/fcgi-load.c
gcc -O2 -Wall -Werror -pthread -o "$out/libfcgi-app" perf/peers/libfcgi-app.c -lfcgi -lcrypto
export DOTNET_CLI_USE_MSBUILD_SERVER=0 MSBUILDDISABLENODEREUSE=1
dotnet publish src/FastCgi.Tool -c Release -o "$out/fcgi" >"$out/publish.log" 2>&1 || { cat "$out/publish.log"; exit 1; }
dotnet build-server shutdown >/dev/null 2>&1 || true

port=9120
taskset -c 0 "$out/libfcgi-app" ":$port" "$conns" >"$out/app.log" 2>&1 &
app=$!
trap 'kill $app 2>/dev/null || true; wait $app 2>/dev/null || true' EXIT
for _ in $(seq 100); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1; done

# CPU seconds (user + system) of a finished child, from bash's time keyword.
TIMEFORMAT='%U %S'

# fcgi bench first: its warm-up also warms the application for both.
{ time taskset -c 1 "$out/fcgi/FastCgi.Tool" bench -c "$conns" -w 2 -d "$secs" --pid "$app" --json \
    --expect-body 'Hello, world!\n' "127.0.0.1:$port" /hello >"$out/fcgi.json" 2>/dev/null; } 2>"$out/fcgi.time"
{ time taskset -c 1 "$out/fcgi-load" -a "127.0.0.1:$port" -c "$conns" -m 1 -w 0 -d "$secs" -P "$app" -l libfcgi \
    >"$out/fcgi-load.txt"; } 2>"$out/fcgi-load.time"

json() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$out/fcgi.json"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$out/fcgi-load.txt"; }
cpu_per_req() { awk -v t="$(cat "$1")" -v n="$2" 'BEGIN { split(t, a, " "); printf "%.2f", n ? (a[1] + a[2]) * 1e6 / n : 0 }'; }
# fcgi-load's own CPU covers its whole run, warm-up included; fcgi bench reports its measured window.
fcgi_requests=$(json completed)
load_requests=$(field requests)
printf '%-10s %10s %10s %8s %8s %14s %14s %8s\n' "loadgen" "requests" "req/s" "p50 us" "p99 us" "app CPU us/req" "own CPU us/req" "errors"
printf '%-10s %10s %10s %8s %8s %14s %14s %8s\n' "fcgi bench" "$fcgi_requests" "$(json requestsPerSecond)" "$(json p50)" "$(json p99)" \
  "$(json serverCpuMicrosecondsPerRequest)" "$(json clientCpuMicrosecondsPerRequest)" "$(json errors)"
printf '%-10s %10s %10s %8s %8s %14s %14s %8s\n' "fcgi-load" "$load_requests" "$(field rps)" "$(field p50_us)" "$(field p99_us)" \
  "$(field cpu_us_per_req)" "$(cpu_per_req "$out/fcgi-load.time" "$load_requests")" "$(field errors)"
echo "fcgi bench, whole process (start-up and JIT included): $(cpu_per_req "$out/fcgi.time" "$fcgi_requests") us/req"
# The application's share of its core during each run: near 100 % means the load generator saturated it.
echo "libfcgi busy: fcgi bench $(awk -v c="$(json serverCpuMicrosecondsPerRequest)" -v r="$(json requestsPerSecond)" 'BEGIN { printf "%.0f%%", c * r / 1e4 }'), fcgi-load $(awk -v c="$(field cpu_us_per_req)" -v r="$(field rps)" 'BEGIN { printf "%.0f%%", c * r / 1e4 }')"
