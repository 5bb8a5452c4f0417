#!/usr/bin/env bash
# Runs the whole test suite (installing the packages the integration tests need) and ends with one
# line of totals over all test projects: "N passed, N failed[, N skipped]".
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh test
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test EdgeSeg.sln -c Release 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One summary line per test project: "Passed!  - Failed: 0, Passed: 48, Skipped: 0, Total: 48, ..." ("Skipped!" when it skipped every test)
read -r passed failed skipped < <(awk '
  /(Passed|Failed|Skipped)! +- +Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
    }
  }
  END { printf "%d %d %d\n", p, f, s }' "$log")
projects=$(grep -cE '(Passed|Failed|Skipped)! +- +Failed:' "$log" || true)
if [[ $status -ne 0 && $failed -eq 0 ]]; then
  echo "test.sh: dotnet test exited with $status (build error or crash; $projects test project(s) reported)" >&2
  failed=$((failed + 1))
fi
if [[ $skipped -gt 0 ]]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
