#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time each (default 5s):
#   bash .ci/fuzz.sh [duration]
set -euo pipefail
cd "$(dirname "$0")/.."
time="${1:-5s}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $target ($time)"
    if ! go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$time" >/tmp/urlvr-fuzz.log 2>&1; then
      cat /tmp/urlvr-fuzz.log
      exit 1
    fi
  done
done
echo "fuzzing passed"
