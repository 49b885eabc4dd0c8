#!/usr/bin/env bash
# Run every benchmark in bench/ (files named bench_*.py) against the lab; each prints its
# ratio and writes bench/results/<name>.json. Benchmarks are never part of `make test`.
set -euo pipefail
cd "$(dirname "$0")"
shopt -s nullglob
benches=(bench_*.py)
if [ ${#benches[@]} -eq 0 ]; then
    echo "bench: no benchmarks yet"
    exit 0
fi
mkdir -p results
for bench in "${benches[@]}"; do
    echo "== ${bench%.py}"
    python "$bench"
done
python report.py
