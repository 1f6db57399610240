#!/usr/bin/env bash
# Fuzzes the parsers with AFL++ and SharpFuzz (docs/fuzzing.md).
#   scripts/fuzz.sh TARGET [SECONDS]   one target for SECONDS (default 60)
#   scripts/fuzz.sh all [SECONDS]      every target, one after the other
#   scripts/fuzz.sh smoke              every target for 20 s: the CI-sized run
# Targets: record-reader name-value url-form cookies multipart multipart-roundtrip percent connection-split.
# Findings stay in out/fuzz/TARGET/default/{crashes,hangs}; exits non-zero when any target found one.
# FUZZ_OUT=DIR puts the build and the findings under DIR instead of out/fuzz (two runs at once need two).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(record-reader name-value url-form cookies multipart multipart-roundtrip percent connection-split)
target=${1:?usage: scripts/fuzz.sh TARGET|all|smoke [SECONDS]}
seconds=${2:-60}
case "$target" in
  all) selected=("${targets[@]}") ;;
  smoke) selected=("${targets[@]}"); seconds=20 ;;
  *)
    [[ " ${targets[*]} " == *" $target "* ]] || { echo "unknown target: $target (one of: ${targets[*]}, all, smoke)" >&2; exit 2; }
    selected=("$target")
    ;;
esac

bash scripts/install-packages.sh afl++

# The sharpfuzz instrumenter is a local tool pinned in dotnet-tools.json.
dotnet tool restore >/dev/null

# Instrumenting rewrites the assembly in place, so start from a fresh publish each time:
# a second instrumentation of the same FastCgi.dll would fail.
out_root=${FUZZ_OUT:-out/fuzz}
publish="$out_root/publish"
rm -rf "$publish"
dotnet publish fuzz/FastCgi.Fuzz -c Release -o "$publish" --nologo -v quiet >/dev/null
dotnet sharpfuzz "$publish/FastCgi.dll" >/dev/null

# afl-fuzz checks the machine for a fast fuzzing setup; none of that matters for a bounded run in a container.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
# dotnet itself is not instrumented: SharpFuzz speaks AFL's fork-server protocol from inside the process.
export AFL_SKIP_BIN_CHECK=1

found=0
summary=()
for name in "${selected[@]}"; do
  output="$out_root/$name"
  rm -rf "$output"
  mkdir -p "$output/tmp"
  echo "== $name: ${seconds}s"
  # The multipart harness checks that no temporary file outlives a form: give it a directory of its own.
  # -V bounds the run; timeout is the backstop should afl-fuzz not stop by itself.
  # On a loaded machine afl-fuzz's dry run sometimes sees an empty coverage map from the .NET fork server
  # ("No instrumentation detected") before the runtime is warm; that start-up failure alone gets a second try.
  for attempt in 1 2; do
    rm -rf "$output"
    mkdir -p "$output/tmp"
    if TMPDIR="$PWD/$output/tmp" timeout --kill-after=30 $((seconds + 120)) \
      afl-fuzz -i "fuzz/corpus/$name" -o "$output" -V "$seconds" -t 5000 -m none -- \
      dotnet "$publish/FastCgi.Fuzz.dll" "$name" >"$output/afl.log" 2>&1; then
      break
    fi
    if [ "$attempt" = 1 ] && grep -q 'No instrumentation detected' "$output/afl.log"; then
      echo "afl-fuzz saw no instrumentation in its dry run for $name; starting it again" >&2
      continue
    fi
    echo "afl-fuzz failed for $name; the end of $output/afl.log:" >&2
    tail -20 "$output/afl.log" >&2
    exit 1
  done
  stats="$output/default/fuzzer_stats"
  execs=$(sed -n 's/^execs_done *: *//p' "$stats")
  paths=$(sed -n 's/^corpus_count *: *//p' "$stats")
  crashes=$(find "$output/default/crashes" -name 'id:*' | wc -l)
  hangs=$(find "$output/default/hangs" -name 'id:*' | wc -l)
  summary+=("$name: ${seconds}s, $execs execs, $paths paths, $crashes crashes, $hangs hangs")
  if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
    found=1
    # Replays each finding without AFL to show the exception it raised.
    find "$output/default/crashes" "$output/default/hangs" -name 'id:*' -print0 |
      xargs -0 -r timeout 60 dotnet "$publish/FastCgi.Fuzz.dll" "$name" | grep -v '^ok ' | head -40 || true
  fi
done

printf '%s\n' "${summary[@]}"
exit "$found"
