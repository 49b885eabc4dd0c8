#!/usr/bin/env bash
# Sum the test counts in a `make test` log: pytest summary lines ("3 passed, 1 skipped in
# 2.1s", also the testinfra runs inside molecule) and the closing lines of
# tests/sanity/run.sh, molecule/run.sh and .ci/check_build.sh ("sanity: 24 passed, 0 failed").
# Prints "passed failed skipped" on one line.   Usage: .ci/summary.sh LOG
set -euo pipefail

log=$1
# tests/stages.py prefixes every line with "[stage] "; molecule frames the output of its ansible and pytest runs with "  │ ": strip it too.
sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^\[[a-z-]*\] //' -e 's/^[[:space:]]*│[[:space:]]*//' "$log" | awk '
  function count(line, word,   n) {
    n = 0
    if (match(line, "[0-9]+ " word)) { n = substr(line, RSTART, RLENGTH); sub(" .*", "", n) }
    return n + 0
  }
  # pytest: "=== 3 passed, 1 skipped in 2.10s ===" or, with -q, "3 passed in 0.12s"
  /^(=+ )?[0-9]+ (passed|failed|skipped|error|errors|xfailed|xpassed|deselected)(, [0-9]+ [a-z]+)* in [0-9.]+s( \([0-9:]+\))?( =+)?$/ {
    passed += count($0, "passed") + count($0, "xfailed")
    failed += count($0, "failed") + count($0, "error") + count($0, "xpassed")
    skipped += count($0, "skipped")
    next
  }
  /^(sanity|molecule|package): [0-9]+ passed, [0-9]+ failed/ {
    passed += count($0, "passed"); failed += count($0, "failed")
  }
  END { printf "%d %d %d\n", passed, failed, skipped }
'
