#!/usr/bin/env bash
# The benchmark (issue 5): ONE command that installs what it needs (Debian packages), builds the load generator,
# the peers and the echo sample, runs every scenario for a bounded time, and prints one table.
#
#   bash scripts/bench.sh            # every scenario, BENCH_SECONDS (default 10) per run, 1 GiB bulk transfers
#   bash scripts/bench.sh --quick    # smoke run: 2 s per run, 128 MiB bulk transfers
#   bash scripts/bench.sh micro      # the BenchmarkDotNet suite (perf/FastCgi.Benchmarks), short job
#
# Environment: BENCH_OURS_ARGS (more options for the echo sample, default none: the default configuration), BENCH_SECONDS (measured seconds per run), BENCH_WARMUP (seconds before measuring, default 5: the JIT build needs several seconds on one loaded core to reach tier 1),
# BENCH_BULK_BYTES (default 1073741824), BENCH_AOT=0 to skip the NativeAOT build, BENCH_OUT (default out/bench).
# The server under test runs on CPU 0, the load generator (and nginx + wrk) on CPU 1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

mode=full
case "${1:-}" in
  --quick) mode=quick ;;
  micro) mode=micro ;;
  "") ;;
  *) echo "usage: $0 [--quick|micro]" >&2; exit 2 ;;
esac

if [ "$mode" = micro ]; then
  # --job short: 3 warm-up and 3 measured iterations, enough for allocation figures and a rough time.
  exec dotnet run -c Release --project perf/FastCgi.Benchmarks -- --filter '*' --job short "${@:2}"
fi

# The echo sample runs with default options, as users run it (issue 13); BENCH_OURS_ARGS adds options.
ours_args=${BENCH_OURS_ARGS:-}
secs=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-5}
bulk=${BENCH_BULK_BYTES:-1073741824}
if [ "$mode" = quick ]; then
  secs=${BENCH_SECONDS:-2}
  warmup=${BENCH_WARMUP:-1}
  bulk=${BENCH_BULK_BYTES:-134217728}
fi
out=${BENCH_OUT:-$root/out/bench}
mkdir -p "$out"
out=$(cd "$out" && pwd)
results=$out/results.tsv
: >"$results"

# --- install -------------------------------------------------------------------------------------------------
packages=(gcc libfcgi-dev libssl-dev php-fpm golang-go nginx-light wrk spawn-fcgi iproute2 procps)
aot_packages=(clang lld zlib1g-dev)
[ "${BENCH_AOT:-1}" = 1 ] && packages+=("${aot_packages[@]}")
bash scripts/install-packages.sh "${packages[@]}"

# --- build ---------------------------------------------------------------------------------------------------
echo "Building into $out"
cflags=(-O2 -Wall -Werror)
gcc "${cflags[@]}" -o "$out/fcgi-load" perf/loadgen/fcgi-load.c
gcc "${cflags[@]}" -o "$out/floor" perf/peers/floor.c
gcc "${cflags[@]}" -pthread -o "$out/libfcgi-app" perf/peers/libfcgi-app.c -lfcgi -lcrypto
# Standard library only: no module download, no toolchain switch.
GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$out/go-cache" GO111MODULE=off \
  go build -o "$out/go-hello" perf/peers/hello.go
export DOTNET_CLI_USE_MSBUILD_SERVER=0 MSBUILDDISABLENODEREUSE=1
dotnet publish samples/Echo -c Release -o "$out/echo" >"$out/publish.log" 2>&1 || { cat "$out/publish.log"; exit 1; }
# The README's hello, a synchronous Process handler, and the same with ProcessAsync (--async).
dotnet publish perf/peers/ReadmeHello -c Release -o "$out/readme-hello" >"$out/publish-hello.log" 2>&1 || { cat "$out/publish-hello.log"; exit 1; }
aot=0
if [ "${BENCH_AOT:-1}" = 1 ]; then
  if dotnet publish samples/Echo -c Release -r linux-x64 -p:PublishAot=true -o "$out/echo-aot" >"$out/publish-aot.log" 2>&1; then
    aot=1
  else
    echo "NativeAOT publish failed (see $out/publish-aot.log); the AOT rows are skipped."
  fi
fi
php_fpm=$(command -v php-fpm8.2 || ls /usr/sbin/php-fpm* | head -1)
# Build servers left idle would still wake up on the measured cores.
dotnet build-server shutdown >/dev/null 2>&1 || true

# --- helpers -------------------------------------------------------------------------------------------------
pids_started=()
cleanup() {
  for pid in "${pids_started[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids_started[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  pids_started=()
}
trap cleanup EXIT

# Waits (at most 15 s) until something listens on 127.0.0.1:PORT, without connecting to it.
wait_listen() {
  for _ in $(seq 150); do
    ss -Hltn "sport = :$1" | grep -q . && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# A process and its children (php-fpm's workers), comma-separated.
tree_pids() {
  local list=$1 child
  for child in $(pgrep -P "$1" || true); do
    list="$list,$(tree_pids "$child")"
  done
  echo "$list"
}

# Sum of VmHWM (peak resident set) over the pids, in kB.
peak_rss_kb() {
  local total=0 pid kb
  for pid in ${1//,/ }; do
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# Sum of utime+stime (clock ticks) over the pids; fields counted after the command name's closing parenthesis.
cpu_ticks() {
  local total=0 pid t
  for pid in ${1//,/ }; do
    t=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# start_peer NAME PORT COMMAND...: runs the server on CPU 0 and waits until it listens.
start_peer() {
  local name=$1 port=$2
  shift 2
  taskset -c 0 "$@" >"$out/$name.log" 2>&1 &
  server_pid=$!
  pids_started+=("$server_pid")
  wait_listen "$port"
}

stop_peers() { cleanup; }

php_pool() {
  local port=$1 dir=$out/php
  mkdir -p "$dir"
  cp perf/peers/hello.php "$dir/hello.php"
  cat >"$dir/php-fpm.conf" <<EOF
[global]
pid = $dir/php-fpm.pid
error_log = $dir/error.log
daemonize = no
[bench]
listen = 127.0.0.1:$port
pm = static
pm.max_children = 2
catch_workers_output = yes
EOF
}

# start_named NAME: starts peer NAME (see the case) on PORT; sets server_pid and script.
start_named() {
  local name=$1 port=$2
  script=/var/www/html/hello
  case "$name" in
    floor) start_peer "$name" "$port" "$out/floor" "$port" ;;
    libfcgi-mt) start_peer "$name" "$port" "$out/libfcgi-app" ":$port" 4 ;;
    libfcgi-st) start_peer "$name" "$port" "$out/libfcgi-app" ":$port" 1 ;;
    php-fpm)
      php_pool "$port"
      script=$out/php/hello.php
      start_peer "$name" "$port" "$php_fpm" -F -R -y "$out/php/php-fpm.conf" -p "$out/php" ;;
    go) start_peer "$name" "$port" "$out/go-hello" "127.0.0.1:$port" ;;
    ours) start_peer "$name" "$port" "$out/echo/Echo" --listen "127.0.0.1:$port" $ours_args ;;
    hello-sync) start_peer "$name" "$port" "$out/readme-hello/ReadmeHello" --listen "127.0.0.1:$port" $ours_args ;;
    hello-async) start_peer "$name" "$port" "$out/readme-hello/ReadmeHello" --listen "127.0.0.1:$port" --async $ours_args ;;
    ours-aot) start_peer "$name" "$port" "$out/echo-aot/Echo" --listen "127.0.0.1:$port" $ours_args ;;
    ours-mpx) start_peer "$name" "$port" "$out/echo/Echo" --listen "127.0.0.1:$port" --threading-level 2 $ours_args ;;
    ours-aot-mpx) start_peer "$name" "$port" "$out/echo-aot/Echo" --listen "127.0.0.1:$port" --threading-level 2 $ours_args ;;
    *) echo "unknown peer $name" >&2; return 1 ;;
  esac
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# direct SCENARIO NAME CONNS INFLIGHT: the load generator straight at the server.
direct() {
  local scenario=$1 name=$2 conns=$3 inflight=$4 port=9110 line pids
  start_named "$name" "$port"
  pids=$(tree_pids "$server_pid")
  line=$(timeout $((secs + warmup + 30)) taskset -c 1 "$out/fcgi-load" -a "127.0.0.1:$port" -c "$conns" -m "$inflight" \
    -w "$warmup" -d "$secs" -P "$pids" -s "$script" -l "$name")
  echo "  $line"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$name" "$(field rps "$line")" "$(field cpu_us_per_req "$line")" \
    "$(field p50_us "$line")" "$(field p99_us "$line")" "$(field served "$line")/$conns" "$(peak_rss_kb "$pids")" >>"$results"
  stop_peers
}

# Converts wrk's latency figure (123.45us, 1.23ms, 1.01s) to microseconds.
to_us() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'
}

# nginx_run NAME: wrk -> nginx (fastcgi_keep_conn, upstream keepalive) -> server, nginx and wrk on CPU 1.
nginx_run() {
  local name=$1 port=9110 dir=$out/nginx pids before after wrk_out rps requests p50 p99 errors open
  start_named "$name" "$port"
  pids=$(tree_pids "$server_pid")
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
worker_cpu_affinity 10;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  fastcgi_temp_path $dir/fastcgi;
  proxy_temp_path $dir/proxy;
  upstream app { server 127.0.0.1:$port; keepalive 16; }
  server {
    listen 127.0.0.1:9180;
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $script;
      fastcgi_keep_conn on;
      fastcgi_read_timeout 10s;
      fastcgi_pass app;
    }
  }
}
EOF
  taskset -c 1 nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
  pids_started+=("$!")
  wait_listen 9180
  timeout 30 taskset -c 1 wrk -t1 -c16 -d"${warmup}s" http://127.0.0.1:9180/hello >/dev/null
  before=$(cpu_ticks "$pids")
  wrk_out=$(timeout $((secs + 30)) taskset -c 1 wrk -t1 -c16 -d"${secs}s" --latency http://127.0.0.1:9180/hello)
  after=$(cpu_ticks "$pids")
  open=$(ss -Htn state established "( sport = :$port )" | wc -l)
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$wrk_out")
  requests=$(awk '/requests in/ {print $1}' <<<"$wrk_out")
  p50=$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$wrk_out")")
  p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$wrk_out")")
  errors=$(awk '/Non-2xx|Socket errors/ {sub(/^ +/, ""); printf "%s; ", $0}' <<<"$wrk_out")
  echo "  nginx $name: $rps req/s, p50 ${p50}us, p99 ${p99}us, upstream conns open $open ${errors}"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' nginx "$name" "$rps" \
    "$(awk -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')" \
    "$p50" "$p99" "open:${open}${errors:+,err}" "$(peak_rss_kb "$pids")" >>"$results"
  stop_peers
}

# bulk_run NAME MODE: one request moving BULK bytes (big: response body; upload: request body), fresh server.
bulk_run() {
  local name=$1 kind=$2 port=9110 pids before after line
  case "$name" in
    libfcgi) start_peer "$name" "$port" "$out/libfcgi-app" ":$port" 1 ;;
    *) start_named "$name" "$port" ;;
  esac
  pids=$(tree_pids "$server_pid")
  before=$(cpu_ticks "$pids")
  line=$(timeout 300 taskset -c 1 "$out/fcgi-load" -a "127.0.0.1:$port" -M "$kind" -b "$bulk" -l "$name")
  after=$(cpu_ticks "$pids")
  echo "  $line"
  # For bulk rows: req/s column = MB/s, CPU column = server CPU seconds, p50 = wall seconds.
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "bulk-$kind" "$name" "$(field mb_per_s "$line")" \
    "$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')" \
    "$(field secs "$line")" "-" "1/1" "$(peak_rss_kb "$pids")" >>"$results"
  stop_peers
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# --- run -----------------------------------------------------------------------------------------------------
ours=(ours)
[ "$aot" = 1 ] && ours+=(ours-aot)
echo "Direct: 16 kept connections, 1 request in flight each, ${secs}s after ${warmup}s warm-up"
for peer in floor libfcgi-mt libfcgi-st php-fpm go "${ours[@]}" hello-sync hello-async; do
  direct direct "$peer" 16 1
done
echo "Multiplexed: 4 connections x 16 requests in flight, --threading-level 2"
for peer in "${ours[@]}"; do
  direct multiplexed "$peer-mpx" 4 16
done
echo "Through nginx: wrk -t1 -c16 --latency"
for peer in libfcgi-mt go php-fpm "${ours[@]}"; do
  nginx_run "$peer"
done
echo "Bulk: $bulk bytes"
for kind in big upload; do
  for peer in libfcgi "${ours[@]}"; do
    bulk_run "$peer" "$kind"
  done
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- table ---------------------------------------------------------------------------------------------------
echo
echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); $(uname -r); dotnet $(dotnet --version)"
echo "Load average before/after: $load_start / $load_end (anything above ~1 means other work shared the cores)"
echo "Each cell: value (ratio to libfcgi multi-threaded in the same scenario; bulk rows: to libfcgi C)."
echo "Multiplexed rows are compared with libfcgi-mt's direct row; 'mpx/plain' is their CPU per request over ours' direct."
awk -F'\t' '
  function ratio(v, r) { return (r + 0 > 0 && v != "-") ? sprintf("%s (%.2fx)", v, v / r) : v }
  { rows[NR] = $0; key = $1 "|" $2; rps[key] = $3; cpu[key] = $4; p50[key] = $5; p99[key] = $6; rows_served[key] = $7; rss_kb[key] = $8 }
  END {
    printf "%-12s %-14s %18s %18s %16s %16s %10s %16s\n", "scenario", "peer", "req/s", "CPU us/req", "p50 us", "p99 us", "served", "peak RSS MB"
    for (i = 1; i <= NR; i++) {
      split(rows[i], f, "\t")
      ref = (f[1] == "multiplexed") ? "direct|libfcgi-mt" : (f[1] ~ /^bulk/ ? f[1] "|libfcgi" : f[1] "|libfcgi-mt")
      if (f[1] ~ /^bulk/) { hdr = 1 }
      rss = sprintf("%.1f", f[8] / 1024)
      printf "%-12s %-14s %18s %18s %16s %16s %10s %16s\n", f[1], f[2], ratio(f[3], rps[ref]), ratio(f[4], cpu[ref]),
        ratio(f[5], p50[ref]), ratio(f[6], p99[ref]), f[7], rss
      if (f[1] == "multiplexed") {
        plain = "direct|" substr(f[2], 1, length(f[2]) - 4)
        if (cpu[plain] > 0) printf "%-12s %-14s mpx/plain CPU per request = %.2f\n", "", "", f[4] / cpu[plain]
      }
    }
    if (hdr) print "bulk rows: req/s column = MB/s, CPU column = server CPU seconds for the transfer, p50 column = wall seconds."

    # The speed goals (issue 13), in the default configuration, from the rows above.
    print ""
    print "Goals (default options; ratios within this run):"
    lib = cpu["direct|libfcgi-mt"]; fl = cpu["direct|floor"]
    goal("CPU/req <= 1.0x libfcgi-mt", cpu["direct|ours"] / lib, 1.0, "x")
    goal("CPU/req <= 2x the floor", cpu["direct|ours"] / fl, 2.0, "x")
    split(rows_served["direct|ours"], sv, "/"); printf "  %-44s %s %s\n", "every connection served", rows_served["direct|ours"], (sv[1] == sv[2] ? "yes" : "NO")
    goal("p99 < 1 ms (us)", p99["direct|ours"], 1000, "")
    goal("nginx req/s >= libfcgi-mt (ratio)", rps["nginx|libfcgi-mt"] / rps["nginx|ours"], 1.0, "x (libfcgi-mt / ours)")
    goal("nginx CPU/req <= 1.0x libfcgi-mt", cpu["nginx|ours"] / cpu["nginx|libfcgi-mt"], 1.0, "x")
    goal("multiplexed <= 0.5x the plain CPU/req", cpu["multiplexed|ours-mpx"] / cpu["direct|ours"], 0.5, "x")
    goal("peak RSS <= 30 MB, JIT (direct)", rss_kb["direct|ours"] / 1024, 30, " MB")
    if (("direct|ours-aot") in cpu) goal("peak RSS <= 12 MB, NativeAOT (direct)", rss_kb["direct|ours-aot"] / 1024, 12, " MB")
    goal("README hello: sync Process <= 1.3x async", cpu["direct|hello-sync"] / cpu["direct|hello-async"], 1.3, "x")
  }
  function goal(name, value, limit, unit) { printf "  %-44s %.2f%s %s\n", name, value, unit, (value <= limit ? "yes" : "NO") }' "$results"
echo "Raw rows: $results"
