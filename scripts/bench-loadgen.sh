#!/usr/bin/env bash
# fcgi bench beside perf/loadgen/fcgi-load.c on the same application in one run (docs/performance.md): the libfcgi C
# peer (perf/peers/libfcgi-app.c, one thread per connection) on CPU 0, the two load generators in turn (A B A B ...)
# on CPU 1, the same connections and PARAMS. Prints, for each run and as medians: requests/s, p50/p99, the
# application's CPU per request and the load generator's own CPU per request.
#
#   bash scripts/bench-loadgen.sh [SECONDS]     # default 5 s a run; BENCH_ROUNDS runs of each (default 3);
#                                               # BENCH_CONNS (default 16; libfcgi gets as many threads)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rounds=${BENCH_ROUNDS:-3}
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
json() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$2"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$2"; }
cpu_per_req() { awk -v t="$(cat "$1")" -v n="$2" 'BEGIN { split(t, a, " "); printf "%.2f", n ? (a[1] + a[2]) * 1e6 / n : 0 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%s", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# A warm-up run, not recorded, so the application is warm for the first round of both.
taskset -c 1 "$out/fcgi/FastCgi.Tool" bench -c "$conns" -w 0 -d 2 "127.0.0.1:$port" /hello >/dev/null 2>&1

# The two load generators take turns (A B A B ...), so a change in the machine's load falls on both alike.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  { time taskset -c 1 "$out/fcgi/FastCgi.Tool" bench -c "$conns" -w 1 -d "$secs" --pid "$app" --json \
      --expect-body 'Hello, world!\n' "127.0.0.1:$port" /hello >"$out/fcgi.$r.json" 2>/dev/null; } 2>"$out/fcgi.$r.time"
  { time taskset -c 1 "$out/fcgi-load" -a "127.0.0.1:$port" -c "$conns" -m 1 -w 0 -d "$secs" -P "$app" -l libfcgi \
      >"$out/fcgi-load.$r.txt"; } 2>"$out/fcgi-load.$r.time"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# One row per run: requests, req/s, p50, p99, the application's CPU per request, the load generator's own, errors.
# fcgi bench reports its own CPU over its measured window; fcgi-load's is its whole run (-w 0; a C program's
# start-up costs nothing).
for r in $(seq "$rounds"); do
  f="$out/fcgi.$r.json"
  echo "fcgi-bench $(json completed "$f") $(json requestsPerSecond "$f") $(json p50 "$f") $(json p99 "$f") $(json serverCpuMicrosecondsPerRequest "$f") $(json clientCpuMicrosecondsPerRequest "$f") $(json errors "$f") $(cpu_per_req "$out/fcgi.$r.time" "$(json completed "$f")")"
  f="$out/fcgi-load.$r.txt"
  echo "fcgi-load $(field requests "$f") $(field rps "$f") $(field p50_us "$f") $(field p99_us "$f") $(field cpu_us_per_req "$f") $(cpu_per_req "$out/fcgi-load.$r.time" "$(field requests "$f")") $(field errors "$f") -"
done >"$out/runs.txt"

row() { printf '%-10s %6s %10s %10s %8s %8s %14s %14s %8s\n' "$@"; }
row "loadgen" "run" "requests" "req/s" "p50 us" "p99 us" "app CPU us/req" "own CPU us/req" "errors"
while read -r tool requests rps p50 p99 app_cpu own_cpu errors _; do
  row "$tool" "" "$requests" "$rps" "$p50" "$p99" "$app_cpu" "$own_cpu" "$errors"
done <"$out/runs.txt"
for tool in fcgi-bench fcgi-load; do
  col() { awk -v t="$tool" -v c="$1" '$1 == t { print $c }' "$out/runs.txt" | median; }
  row "$tool" "median" "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)" "$(col 6)" "$(col 7)" "$(col 8)"
done
echo "fcgi bench, whole process (start-up and JIT included), median: $(awk '$1 == "fcgi-bench" { print $9 }' "$out/runs.txt" | median) us/req"
# The application's share of its core: near 100 % means the load generator saturated it.
awk '{ busy[$1] = busy[$1] " " sprintf("%.0f%%", $6 * $3 / 1e4) } END { print "libfcgi busy per run: fcgi bench" busy["fcgi-bench"] "; fcgi-load" busy["fcgi-load"] }' "$out/runs.txt"
