#!/usr/bin/env bash
# fcgi bench beside perf/loadgen/fcgi-load.c on the same applications in one run (docs/performance.md), to decide
# which one scripts/bench.sh should use (issue 12). The targets are two of bench.sh's direct rows: the libfcgi C peer
# with 4 threads (libfcgi-mt) and the echo sample (JIT, default options), both on CPU 0 for the whole run; the two
# load generators take turns on CPU 1 with the same connections and PARAMS, every round running each load
# generator once on each target (which of the two goes first alternates from round to round). Prints every run,
# the medians and one verdict line: each tool's own CPU per request and the target's req/s and CPU per request
# under each.
#
#   bash scripts/bench-loadgen.sh [SECONDS]     # default 5 s a run; BENCH_ROUNDS rounds (default 3);
#                                               # BENCH_CONNS (default 16), BENCH_WARMUP (default 5 s, once)
#   bash scripts/bench-loadgen.sh --quick       # smoke run: 2 s a run, 1 round, 2 s warm-up
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rounds=${BENCH_ROUNDS:-3}
warmup=${BENCH_WARMUP:-5}
if [ "$secs" = --quick ]; then
  secs=2
  rounds=${BENCH_ROUNDS:-1}
  warmup=${BENCH_WARMUP:-2}
fi
conns=${BENCH_CONNS:-16}
out=${BENCH_OUT:-out/bench-loadgen}
mkdir -p "$out"
bash scripts/install-packages.sh gcc libfcgi-dev libssl-dev procps util-linux iproute2
gcc -O2 -Wall -Werror -o "$out/fcgi-load" perf/loadgen/fcgi-load.c
gcc -O2 -Wall -Werror -pthread -o "$out/libfcgi-app" perf/peers/libfcgi-app.c -lfcgi -lcrypto
export DOTNET_CLI_USE_MSBUILD_SERVER=0 MSBUILDDISABLENODEREUSE=1
dotnet publish src/FastCgi.Tool -c Release -o "$out/fcgi" >"$out/publish.log" 2>&1 || { cat "$out/publish.log"; exit 1; }
dotnet publish samples/Echo -c Release -o "$out/echo" >"$out/publish-echo.log" 2>&1 || { cat "$out/publish-echo.log"; exit 1; }
dotnet build-server shutdown >/dev/null 2>&1 || true

# The targets: NAME PORT. Both run for the whole run, so the echo sample is warmed once.
targets=(libfcgi-mt echo)
declare -A port=([libfcgi-mt]=9120 [echo]=9121) pid=()
taskset -c 0 "$out/libfcgi-app" ":${port[libfcgi-mt]}" 4 >"$out/libfcgi-mt.log" 2>&1 &
pid[libfcgi-mt]=$!
taskset -c 0 "$out/echo/Echo" --listen "127.0.0.1:${port[echo]}" >"$out/echo.log" 2>&1 &
pid[echo]=$!
trap 'kill "${pid[@]}" 2>/dev/null || true; wait "${pid[@]}" 2>/dev/null || true' EXIT
for target in "${targets[@]}"; do
  listening=0
  for _ in $(seq 150); do
    ss -Hltn "sport = :${port[$target]}" | grep -q . && { listening=1; break; }
    sleep 0.1
  done
  [ "$listening" = 1 ] || { echo "$target does not listen on port ${port[$target]}" >&2; exit 1; }
done

# CPU seconds (user + system) of a finished child, from bash's time keyword.
TIMEFORMAT='%U %S'
# A number from fcgi bench --json ("p99": is not "p99.9":), or a key=value of fcgi-load's RESULT line.
# A figure that is missing (the run failed) reads "-".
json() { local v; v=$(sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$2"); echo "${v:--}"; }
field() { local v; v=$(sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$2"); echo "${v:--}"; }
cpu_per_req() { awk -v t="$(cat "$1")" -v n="$2" 'BEGIN { split(t, a, " "); printf "%.2f", n ? (a[1] + a[2]) * 1e6 / n : 0 }'; }
# The median, with as many decimals as the figures have.
median() {
  sort -g | awk '{ v[NR] = $1 }
    END {
      if (NR % 2) { printf "%s", v[(NR + 1) / 2]; exit }
      d = index(v[NR / 2], ".") ? length(v[NR / 2]) - index(v[NR / 2], ".") : 0
      printf "%." d "f", (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

# An unrecorded warm-up of each target (the echo sample's JIT needs seconds to reach tier 1).
for target in "${targets[@]}"; do
  taskset -c 1 "$out/fcgi/FastCgi.Tool" bench -c "$conns" -w 0 -d "$warmup" "127.0.0.1:${port[$target]}" /hello >/dev/null 2>&1 || true
done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for target in "${targets[@]}"; do
    a=127.0.0.1:${port[$target]} p=${pid[$target]} base=$out/$target.$r
    # Odd rounds run fcgi bench first, even rounds fcgi-load, so neither is always the one after a warm-up.
    order=(fcgi fcgi-load)
    if [ $((r % 2)) = 0 ]; then order=(fcgi-load fcgi); fi
    for tool in "${order[@]}"; do
      if [ "$tool" = fcgi ]; then
        # fcgi bench exits non-zero when a request failed: its errors column says so.
        { time taskset -c 1 "$out/fcgi/FastCgi.Tool" bench -c "$conns" -w 1 -d "$secs" --pid "$p" --json \
            --expect-body 'Hello, world!\n' "$a" /hello >"$base.fcgi.json" 2>/dev/null || true; } 2>"$base.fcgi.time"
      else
        { time taskset -c 1 "$out/fcgi-load" -a "$a" -c "$conns" -m 1 -w 0 -d "$secs" -P "$p" -l "$target" \
            >"$base.fcgi-load.txt"; } 2>"$base.fcgi-load.time"
      fi
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# One line per run: target, tool, requests, req/s, p50, p99, the target's CPU per request, the load generator's
# own, errors, connections served, (fcgi bench) its whole process's CPU per request, and the round. fcgi bench
# reports its own CPU over its measured window; fcgi-load's is its whole run (-w 0; a C program's start-up costs
# nothing).
for r in $(seq "$rounds"); do
  for target in "${targets[@]}"; do
    base=$out/$target.$r
    f=$base.fcgi.json
    echo "$target fcgi-bench $(json completed "$f") $(json requestsPerSecond "$f") $(json p50 "$f") $(json p99 "$f") $(json serverCpuMicrosecondsPerRequest "$f") $(json clientCpuMicrosecondsPerRequest "$f") $(json errors "$f") $(json connectionsServed "$f") $(cpu_per_req "$base.fcgi.time" "$(json completed "$f")") $r"
    f=$base.fcgi-load.txt
    echo "$target fcgi-load $(field requests "$f") $(field rps "$f") $(field p50_us "$f") $(field p99_us "$f") $(field cpu_us_per_req "$f") $(cpu_per_req "$base.fcgi-load.time" "$(field requests "$f")") $(field errors "$f") $(field served "$f") - $r"
  done
done >"$out/runs.txt"

row() { printf '%-11s %-10s %6s %10s %10s %8s %8s %16s %14s %7s %7s\n' "$@"; }
row "target" "loadgen" "run" "requests" "req/s" "p50 us" "p99 us" "target CPU us/req" "own CPU us/req" "errors" "served"
while read -r target tool requests rps p50 p99 app_cpu own_cpu errors served _ r; do
  row "$target" "$tool" "$r" "$requests" "$rps" "$p50" "$p99" "$app_cpu" "$own_cpu" "$errors" "$served/$conns"
done <"$out/runs.txt"
# col TARGET TOOL COLUMN: the median of one column over the rounds.
col() { awk -v t="$1" -v l="$2" -v c="$3" '$1 == t && $2 == l { print $c }' "$out/runs.txt" | median; }
for target in "${targets[@]}"; do
  for tool in fcgi-bench fcgi-load; do
    row "$target" "$tool" "median" "$(col "$target" "$tool" 3)" "$(col "$target" "$tool" 4)" "$(col "$target" "$tool" 5)" \
      "$(col "$target" "$tool" 6)" "$(col "$target" "$tool" 7)" "$(col "$target" "$tool" 8)" "$(col "$target" "$tool" 9)" \
      "$(col "$target" "$tool" 10)/$conns"
  done
done
for target in "${targets[@]}"; do
  echo "$target: fcgi bench, whole process (start-up and JIT included), median $(col "$target" fcgi-bench 11) us/req;" \
    "the target's share of its core per run (near 100 % means the load generator saturated it):" \
    "$(awk -v t="$target" '$1 == t { printf " %s %.0f%%", $2, $7 * $4 / 1e4 }' "$out/runs.txt")"
done

# The verdict: issue 12 asks for fcgi bench in the benchmark scripts once it is at least as capable, that is at
# most fcgi-load's own CPU per request on every target (so it leaves the target as much of the machine), without
# errors.
verdict=$(
  for target in "${targets[@]}"; do
    echo "$target $(col "$target" fcgi-bench 8) $(col "$target" fcgi-load 8) $(col "$target" fcgi-bench 4) $(col "$target" fcgi-load 4)" \
      "$(col "$target" fcgi-bench 7) $(col "$target" fcgi-load 7) $(awk -v t="$target" '$1 == t { e += ($9 == "-" ? 1 : $9) } END { print e + 0 }' "$out/runs.txt")"
  done | awk -v n="$rounds" -v c="$conns" '
    {
      own = own sprintf("%s %s / %s us (%.2fx); ", $1, $2, $3, $3 > 0 ? $2 / $3 : 0)
      tgt = tgt sprintf("%s %.0f / %.0f req/s, %s / %s us/req; ", $1, $4, $5, $6, $7)
      if ($2 > $3) worse = worse (worse == "" ? "" : " and ") $1
      errors += $8
    }
    END {
      sub(/; $/, "", own); sub(/; $/, "", tgt)
      if (errors) decision = "errors in the runs: look at them before deciding"
      else if (worse != "") decision = "fcgi bench costs more than fcgi-load on " worse ": keep BENCH_LOADGEN=fcgi-load"
      else decision = "fcgi bench costs at most fcgi-load on every target: BENCH_LOADGEN=fcgi can be the default"
      printf "VERDICT (medians of %d interleaved rounds, %d connections): own CPU per request, fcgi bench / fcgi-load: %s. ", n, c, own
      printf "Target under fcgi bench / fcgi-load: %s. %s.\n", tgt, decision
    }')
echo "$verdict"
