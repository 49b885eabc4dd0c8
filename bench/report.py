"""Print one table of every result in bench/results/*.json (the last step of `make bench`).

The files come in three shapes:

- one result object (results_io.write with one result, e.g. site.json);
- a list of result objects (results_io.write with several, e.g. dns.json, ldap.json);
- bench_ldap.py's anchor cache, ldap_anchor.json: ``{"<n>": {"n", "measured_at", "first_s",
  "rerun_s", ...}}``, the community loop's times kept for ``--reuse-anchor``: not results,
  printed in a table of their own.

A result is ``name, n, phase, ours_s, anchor, anchor_s, ratio`` plus optional figures (see
results_io.py). A file that is not JSON or not one of these shapes is listed as skipped with
the reason, never a traceback: the report runs after every benchmark has already written its
results.

Then it draws the plots of bench/plots.py (PNG files) into the same folder, when matplotlib is
installed (requirements-test.txt), and says which.

Usage: python bench/report.py [RESULTS_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
RESULT_KEYS = ("name", "n", "ours_s", "anchor", "anchor_s")
ANCHOR_KEYS = ("n", "first_s", "rerun_s")


def is_result(item) -> bool:
    return isinstance(item, dict) and all(key in item for key in RESULT_KEYS)


def is_anchor_cache(data) -> bool:
    return (isinstance(data, dict) and bool(data) and not is_result(data)
            and all(isinstance(entry, dict) and all(key in entry for key in ANCHOR_KEYS) for entry in data.values()))


def classify(data) -> tuple[str, list]:
    """("results", rows) | ("anchors", entries) | ("unknown", [reason])."""
    if is_result(data):
        return "results", [data]
    if isinstance(data, list) and data and all(is_result(item) for item in data):
        return "results", data
    if is_anchor_cache(data):
        return "anchors", sorted(data.values(), key=lambda entry: entry["n"])
    if isinstance(data, list):
        missing = sorted({key for item in data if isinstance(item, dict) for key in RESULT_KEYS if key not in item})
        return "unknown", [f"a list that is not of results (missing {', '.join(missing) or 'objects'})"]
    if isinstance(data, dict):
        missing = [key for key in RESULT_KEYS if key not in data]
        return "unknown", [f"neither a result (missing {', '.join(missing)}) nor an anchor cache"]
    return "unknown", [f"a JSON {type(data).__name__}, not a result"]


def _seconds(value) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "-"


def _ratio(row: dict) -> str:
    ratio = row.get("ratio")
    if ratio is None and isinstance(row["ours_s"], (int, float)) and isinstance(row["anchor_s"], (int, float)) \
            and row["ours_s"]:
        ratio = round(row["anchor_s"] / row["ours_s"], 1)
    return "-" if ratio is None else str(ratio)


def load(results_dir: Path) -> tuple[list, list, list]:
    """(result rows with their file, anchor entries with their file, (file, reason) skipped)."""
    rows, anchors, skipped = [], [], []
    for path in sorted(results_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            skipped.append((path.name, f"not readable as JSON ({exc})"))
            continue
        kind, items = classify(data)
        if kind == "results":
            rows.extend((path.name, row) for row in items)
        elif kind == "anchors":
            anchors.extend((path.name, entry) for entry in items)
        else:
            skipped.append((path.name, items[0]))
    return rows, anchors, skipped


def report(results_dir: Path = RESULTS) -> str:
    rows, anchors, skipped = load(results_dir)
    lines = []
    if rows:
        lines.append(f"{'benchmark':<24} {'n':>6} {'phase':<6} {'ours_s':>9} {'anchor_s':>9} {'ratio':>7}  anchor")
        for _file, row in rows:
            lines.append(f"{row['name']!s:<24} {row['n']!s:>6} {row.get('phase') or '':<6} "
                         f"{_seconds(row['ours_s']):>9} {_seconds(row['anchor_s']):>9} {_ratio(row):>7}  "
                         f"{row['anchor']}")
    else:
        lines.append(f"no benchmark results in {results_dir}")
    if anchors:
        lines.append("")
        lines.append("kept anchors (bench_ldap.py --reuse-anchor reuses them; not results of this run)")
        lines.append(f"{'file':<24} {'n':>6} {'first_s':>9} {'rerun_s':>9}  measured at")
        for name, entry in anchors:
            sampled = f" (timed on {entry['anchor_sample_n']}, scaled)" if "anchor_sample_n" in entry else ""
            lines.append(f"{name:<24} {entry['n']!s:>6} {_seconds(entry['first_s']):>9} "
                         f"{_seconds(entry['rerun_s']):>9}  {entry.get('measured_at', '?')}{sampled}")
    for name, reason in skipped:
        lines.append(f"skipped {name}: {reason}")
    return "\n".join(lines)


def plot(results_dir: Path = RESULTS) -> str:
    """Draw the plots of the results beside them; one line saying what was written."""
    try:
        import matplotlib  # noqa: F401  # pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        return "plots skipped: matplotlib is not installed (pip install -r requirements-test.txt)"
    import plots  # pylint: disable=import-outside-toplevel  # bench/plots.py, beside this file

    rows, _anchors, _skipped = load(results_dir)
    written = plots.draw(rows, results_dir)
    return f"plots: {', '.join(str(path) for path in written)}" if written else "plots: none, no result to draw"


def main(argv: list[str]) -> int:
    results_dir = Path(argv[1]) if len(argv) > 1 else RESULTS
    print(report(results_dir))
    print(plot(results_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
