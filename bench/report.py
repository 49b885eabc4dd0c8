"""Print one table of every result in bench/results/*.json."""

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

rows = []
for path in sorted(RESULTS.glob("*.json")):
    data = json.loads(path.read_text())
    rows.extend(data if isinstance(data, list) else [data])
print(f"{'benchmark':<24} {'n':>6} {'phase':<6} {'ours_s':>9} {'anchor_s':>9} {'ratio':>7}  anchor")
for row in rows:
    print(f"{row['name']:<24} {row['n']:>6} {row.get('phase', ''):<6} {row['ours_s']:>9.2f} "
          f"{row['anchor_s']:>9.2f} {row['ratio']!s:>7}  {row['anchor']}")
