#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time each (default 5s):
#   bash .ci/fuzz.sh [duration]
# A target fails the run when the fuzzer finds a failing input (it is then
# written under the package's testdata/fuzz). The Go fuzzer can end a run
# with a bare "context deadline exceeded" and no failing input: its
# coordinator races the -fuzztime deadline against its workers' context
# (go.dev/issue/75804, fixed in Go 1.27), which on a loaded 2-core machine
# hits about one target per run here. Such a run is retried up to twice
# before it counts; a real failure always writes its input first.
set -euo pipefail
cd "$(dirname "$0")/.."
time="${1:-5s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fuzz() { go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "$time" >"$log" 2>&1; }
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $target ($time)"
    retries=0
    until fuzz "$pkg" "$target"; do
      if grep -q 'Failing input written' "$log" || ! grep -q 'context deadline exceeded' "$log" || [ "$retries" -eq 2 ]; then
        cat "$log"
        exit 1
      fi
      retries=$((retries + 1))
      echo "  the fuzzer timed out without a failing input; retry $retries of 2"
    done
  done
done
echo "fuzzing passed"
