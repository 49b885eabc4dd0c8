"""The plots of bench/report.py, as PNG files beside the results they are drawn from.

- anchors.png: ours against the community anchors, per benchmark: the ratio anchor_s / ours_s
  (higher is better for us, log scale) of the first run and of the rerun; only the results
  whose anchor is a community collection (not bench_site.py's "first run", not the scale
  benchmark's "floor").
- scale.png: from scale.json (bench_scale.py) when present: seconds against estate size (n),
  one panel per phase (first, rerun, check), a line per site.yml stage from each row's
  per-stage seconds (``stages: {stage: {"s": seconds, ...}}`` or ``{stage: seconds}``), the
  whole run (ours_s) and the floor (floor_s). Rows without stages still give the whole run.

The data shaping is pure (unit-tested); matplotlib is imported only to draw.
"""

from __future__ import annotations

from pathlib import Path

PHASES = ("first", "rerun", "check")
SCALE_FILE = "scale.json"


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def anchor_bars(rows: list[tuple[str, dict]]) -> list[dict]:
    """[{label, first, rerun}] with the ratio anchor_s / ours_s of each phase (None when one is
    missing or ours_s is 0), one entry per benchmark, n and anchor, in the order of the files."""
    bars: dict[str, dict] = {}
    for _file, row in rows:
        anchor = str(row.get("anchor", ""))
        if "community." not in anchor or row.get("phase") not in ("first", "rerun"):
            continue
        ours, theirs = _number(row.get("ours_s")), _number(row.get("anchor_s"))
        label = f"{row['name']} n={row['n']}\n{anchor}"
        entry = bars.setdefault(label, {"label": label, "first": None, "rerun": None})
        entry[row["phase"]] = round(theirs / ours, 1) if ours and theirs is not None else None
    return list(bars.values())


def stage_seconds(row: dict) -> dict[str, float]:
    """{stage: seconds} of a scale row, whatever shape its per-stage figures have; {} without."""
    found = {}
    for stage, value in (row.get("stages") or {}).items() if isinstance(row.get("stages"), dict) else []:
        seconds = _number(value.get("s", value.get("seconds"))) if isinstance(value, dict) else _number(value)
        if seconds is not None:
            found[stage] = seconds
    return found


def scale_series(rows: list[dict]) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """{phase: {series: [(n, seconds)] sorted by n}}: a series per stage, plus "whole run"
    (ours_s) and "floor" (floor_s); rows without a phase or n are left out."""
    series: dict[str, dict[str, list]] = {}
    for row in rows:
        n, phase = _number(row.get("n")), row.get("phase")
        if n is None or phase not in PHASES:
            continue
        points = dict(stage_seconds(row), **{"whole run": _number(row.get("ours_s")),
                                             "floor": _number(row.get("floor_s"))})
        for name, seconds in points.items():
            if seconds is not None:
                series.setdefault(phase, {}).setdefault(name, []).append((n, seconds))
    return {phase: {name: sorted(points) for name, points in named.items()} for phase, named in series.items()}


def _pyplot():
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    # bbox tight: long labels stay in the picture; no version stamp: the same data, the same file
    fig.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None})
    fig.clf()
    return path


def draw_anchors(bars: list[dict], path: Path) -> Path:
    plt = _pyplot()
    fig, axes = plt.subplots(figsize=(9, 1.2 + 0.8 * len(bars)))
    height = 0.38
    for offset, phase in ((-height / 2, "first"), (height / 2, "rerun")):
        values = [entry[phase] or 0 for entry in bars]
        drawn = axes.barh([i + offset for i in range(len(bars))], values, height, label=phase)
        axes.bar_label(drawn, labels=[f"{v:g}x" if v else "-" for v in values], padding=3, fontsize=8)
    axes.set_yticks(range(len(bars)), [entry["label"] for entry in bars], fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.axvline(1, color="grey", linewidth=0.8)
    axes.set_xlabel("anchor seconds / our seconds (log scale; 1 = as fast, higher is better for us)")
    axes.set_title("esa.s2p against the community collections")
    axes.legend(loc="lower right")
    return _save(fig, path)


def draw_scale(series: dict, path: Path) -> Path:
    plt = _pyplot()
    phases = [phase for phase in PHASES if phase in series]
    fig, panels = plt.subplots(1, len(phases), figsize=(5.5 * len(phases), 4.5), squeeze=False)
    for axes, phase in zip(panels[0], phases, strict=True):
        colours = plt.get_cmap("tab20").colors
        for index, (name, points) in enumerate(sorted(series[phase].items(), key=lambda item: -item[1][-1][1])):
            style = {"whole run": "-", "floor": ":"}.get(name, "--")
            axes.plot([n for n, _s in points], [s for _n, s in points], style, marker="o", markersize=3, label=name,
                      color=colours[index % len(colours)])
        axes.set_title(f"site.yml: {phase}")
        axes.set_xlabel("estate size n (deployments)")
        axes.set_ylabel("seconds")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7)
    return _save(fig, path)


def draw(rows: list[tuple[str, dict]], results_dir: Path) -> list[Path]:
    """Every plot the results allow, written into results_dir; the paths written."""
    written = []
    bars = anchor_bars(rows)
    if bars:
        written.append(draw_anchors(bars, results_dir / "anchors.png"))
    series = scale_series([row for file, row in rows if file == SCALE_FILE])
    if series:
        written.append(draw_scale(series, results_dir / "scale.png"))
    return written
