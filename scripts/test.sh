#!/usr/bin/env bash
# Runs every test on a fresh Debian machine with the .NET SDK: installs the web servers and tools the
# end-to-end and interoperability tests start, runs both test projects of the solution (test/FastCgi.Tests, the fast
# tiers; test/FastCgi.IntegrationTests, processes and web servers), and prints one "N passed, M failed" line computed
# from their TRX results. Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

# clang, lld and zlib1g-dev: the NativeAOT publish of an application built from the packages (test/FastCgi.IntegrationTests/Packages).
packages=(nginx-light lighttpd apache2 libapache2-mod-fcgid spawn-fcgi libfcgi-bin libfcgi-dev libssl-dev gcc fcgiwrap iproute2 curl php-fpm chromium systemd clang lld zlib1g-dev)
bash scripts/install-packages.sh "${packages[@]}"

results=TestResults
rm -rf "$results"
# One test project at a time: tests that measure a server's wall time run alone inside their project
# (xunit collections), which only means something when no other project loads the two cores meanwhile.
# A project that hangs is stopped after 20 minutes and counted as failed, rather than holding CI to its limit.
timeout 4800 dotnet test --configuration Release --max-parallel-test-modules 1 --timeout 20m --results-directory "$results" --report-xunit-trx "$@"
status=$?

passed=0
failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  grep -o 'testName="[^"]*"[^>]*outcome="Failed"' "$trx" | sed 's/testName="\([^"]*\)".*/FAILED: \1/' || true
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0}))
done
# The fuzzers' smoke run (20 s a target under AFL++, scripts/fuzz.sh): each target without a crash or hang counts as
# a passed check. FASTCGI_FUZZ_SMOKE=0 leaves it out.
if [ "${FASTCGI_FUZZ_SMOKE:-1}" = 1 ]; then
  fuzz_log=$(mktemp)
  bash scripts/fuzz.sh smoke </dev/null 2>&1 | tee "$fuzz_log"
  fuzz_status=${PIPESTATUS[0]}
  targets=$(grep -cE '^[a-z-]+: [0-9]+s, ' "$fuzz_log" || true)
  clean=$(grep -cE '^[a-z-]+: [0-9]+s, .* 0 crashes, 0 hangs$' "$fuzz_log" || true)
  passed=$((passed + clean))
  failed=$((failed + targets - clean))
  if [ "$fuzz_status" -ne 0 ] && [ "$targets" -eq "$clean" ]; then
    echo "FAILED: the fuzz smoke run (scripts/fuzz.sh smoke) did not finish"
    failed=$((failed + 1))
  fi
  rm -f "$fuzz_log"
fi

# What each failed test said, last, where CI's tail shows it: its message and the first lines of its stack.
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  awk 'BEGIN { RS = "</UnitTestResult>" }
    function unescape(text) {
      gsub(/&#xD;/, "", text); gsub(/&#xA;/, "\n", text); gsub(/&lt;/, "<", text); gsub(/&gt;/, ">", text)
      gsub(/&quot;/, "\"", text); gsub(/&apos;/, "\047", text); gsub(/&amp;/, "\\&", text); return text
    }
    function first_lines(text, count,   lines, n, i, out) {
      n = split(text, lines, "\n"); out = ""
      for (i = 1; i <= n && i <= count; i++) out = out "    " lines[i] "\n"
      return out
    }
    match($0, /<UnitTestResult [^>]*outcome="Failed"/) {
      name = substr($0, RSTART, RLENGTH); sub(/.*testName="/, "", name); sub(/".*/, "", name)
      message = ""; stack = ""
      if (match($0, /<Message>[^<]*<\/Message>/)) message = substr($0, RSTART + 9, RLENGTH - 19)
      if (match($0, /<StackTrace>[^<]*<\/StackTrace>/)) stack = substr($0, RSTART + 12, RLENGTH - 25)
      printf "--- %s\n%s%s", unescape(name), first_lines(unescape(message), 40), first_lines(unescape(stack), 6)
    }' "$trx"
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The run broke before reporting (a build error, a crash, the time limit): count it as a failure.
  failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
