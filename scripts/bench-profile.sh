#!/usr/bin/env bash
# CPU profile of the echo sample under the direct 16-connection hello load: perf samples the server (CPU 0) while
# the load generator runs (CPU 1); .NET writes /tmp/perf-PID.map so JIT-compiled frames get names (W^X off, or
# perf only sees an anonymous "doublemapper" region).
#
#   bash scripts/bench-profile.sh [ours|ours-aot|ours-mpx]     # after scripts/bench.sh has built out/bench
#   bash scripts/bench-profile.sh knobs                         # the same load under runtime settings, no perf
#   bash scripts/bench-profile.sh switches                      # context switches and syscalls per request, per peer
#
# Prints the hottest symbols (self time) and the hottest by DSO; the raw perf.data stays in out/bench/profile.
# Environment: BENCH_PROFILE_SECONDS (default 8).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-out/bench}
peer=${1:-ours}
secs=${BENCH_PROFILE_SECONDS:-8}
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
[ -x "$out/fcgi-load" ] || { echo "run scripts/bench.sh first: $out/fcgi-load is missing" >&2; exit 1; }
dir=$out/profile
mkdir -p "$dir"

# knobs: which runtime settings change the JIT build's CPU per request (a hint for the library's defaults).
if [ "$peer" = knobs ]; then
  knobs=(
    "default="
    "inline-socket-completions=DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1"
    "no-threadpool-spin=DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0"
    "no-tiered-pgo=DOTNET_TieredPGO=0"
    "tiered-compilation-off=DOTNET_TieredCompilation=0"
    "no-call-counting-delay=DOTNET_TC_CallCountingDelayMs=0"
    "inline+no-spin=DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0"
  )
  for knob in "${knobs[@]}"; do
    name=${knob%%=*}
    settings=${knob#*=}
    # shellcheck disable=SC2086 # settings is a list of NAME=VALUE words
    env $settings taskset -c 0 "$out/echo/Echo" --listen 127.0.0.1:9121 >"$dir/knob-$name.log" 2>&1 &
    kpid=$!
    for _ in $(seq 150); do
      ss -Hltn "sport = :9121" | grep -q . && break
      sleep 0.1
    done
    taskset -c 1 "$out/fcgi-load" -a 127.0.0.1:9121 -w 3 -d "$secs" -P "$kpid" -l "$name"
    kill "$kpid"
    wait "$kpid" 2>/dev/null || true
  done
  exit 0
fi

# switches: the kernel's share, counted. perf stat counts the server's context switches and system calls during the
# measured window; divided by the requests answered in it.
if [ "$peer" = switches ]; then
  for name in floor libfcgi-mt ours ours-aot; do
    case "$name" in
      floor) cmd=("$out/floor" 9122) ;;
      libfcgi-mt) cmd=("$out/libfcgi-app" :9122 4) ;;
      ours) cmd=("$out/echo/Echo" --listen 127.0.0.1:9122) ;;
      ours-aot) cmd=("$out/echo-aot/Echo" --listen 127.0.0.1:9122) ;;
    esac
    [ -x "${cmd[0]}" ] || continue
    taskset -c 0 "${cmd[@]}" >"$dir/switches-$name.log" 2>&1 &
    spid=$!
    for _ in $(seq 150); do
      ss -Hltn "sport = :9122" | grep -q . && break
      sleep 0.1
    done
    taskset -c 1 "$out/fcgi-load" -a 127.0.0.1:9122 -w 3 -d $((secs + 1)) -P "$spid" -l "$name" >"$dir/switches-$name.txt" &
    load=$!
    sleep 3.5
    perf stat -x, -e context-switches,raw_syscalls:sys_enter -p "$spid" -- sleep "$secs" 2>"$dir/switches-$name.csv" >/dev/null
    wait "$load"
    kill "$spid"
    wait "$spid" 2>/dev/null || true
    rps=$(sed -n 's/.* rps=\([0-9]*\).*/\1/p' "$dir/switches-$name.txt")
    awk -F, -v n="$name" -v rps="$rps" -v s="$secs" '
      $3 == "context-switches" { cs = $1 } $3 == "raw_syscalls:sys_enter" { sc = $1 }
      END { printf "%-12s %8s req/s  %6.2f context switches/req  %6.2f syscalls/req\n", n, rps, cs / (rps * s), sc / (rps * s) }' \
      "$dir/switches-$name.csv"
  done
  exit 0
fi

case "$peer" in
  ours) server=("$out/echo/Echo" --listen 127.0.0.1:9120); conns=16; inflight=1 ;;
  ours-aot) server=("$out/echo-aot/Echo" --listen 127.0.0.1:9120); conns=16; inflight=1 ;;
  ours-mpx) server=("$out/echo/Echo" --listen 127.0.0.1:9120 --threading-level 2); conns=4; inflight=16 ;;
  *) echo "usage: $0 [ours|ours-aot|ours-mpx]" >&2; exit 2 ;;
esac

DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 taskset -c 0 "${server[@]}" >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 150); do
  ss -Hltn "sport = :9120" | grep -q . && break
  sleep 0.1
done

# Load for warm-up + profile + margin; perf attaches after the warm-up so tier-0 code is out of the picture.
taskset -c 1 "$out/fcgi-load" -a 127.0.0.1:9120 -c "$conns" -m "$inflight" -w 3 -d $((secs + 2)) -P "$pid" -l "$peer" \
  >"$dir/load.txt" &
load=$!
sleep 4
perf record -F 1999 -g -p "$pid" -o "$dir/perf.data" -- sleep "$secs" 2>"$dir/perf-record.log"
wait "$load"
cat "$dir/load.txt"
echo "--- top symbols (self) ---"
perf report -i "$dir/perf.data" --no-children -g none --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | sed -n 1,60p
echo "--- by DSO ---"
perf report -i "$dir/perf.data" --no-children -g none --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | sed -n 1,15p
