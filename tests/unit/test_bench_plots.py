"""bench/plots.py, the plots of `make bench`'s report: the data each plot takes from the result
files (pure), and the PNG files report.py draws from the fixtures of every writer in bench/
(tests/unit/fixtures/bench_results/, scale.json as bench_scale.py writes it)."""

from __future__ import annotations

import shutil
import sys

import pytest
from bench_modules import BENCH, FIXTURES, load

PNG = b"\x89PNG\r\n\x1a\n"


plots = load("plots")
report = load("report")


def _rows():
    return report.load(FIXTURES)[0]


def test_anchor_bars_pair_first_and_rerun_of_community_anchors_only():
    bars = plots.anchor_bars(_rows())
    labels = [entry["label"].split("\n")[0] for entry in bars]
    assert labels == ["dns_record n=1000", "ldap n=500", "swarm_stack n=20", "vsphere_inventory n=1000",
                      "vsphere_inventory n=1000", "vsphere_provision n=10"]  # not site.yml's "first run", not "floor"
    dns = bars[0]
    assert (dns["first"], dns["rerun"]) == (round(241.5 / 3.412, 1), round(230.1 / 2.905, 1))
    swarm = bars[2]
    assert swarm["first"] == round(61.0 / 18.3, 1) and swarm["rerun"] is None  # ours_s 0: no ratio
    assert bars[3]["rerun"] is None and "(tuned)" in bars[4]["label"]  # one bar per anchor variant


def test_stage_seconds_read_either_shape_and_tolerate_none():
    assert plots.stage_seconds({"stages": {"vms": {"s": 12.1, "requests": {}}, "dns": 4.9, "odd": "x"}}) == \
        {"vms": 12.1, "dns": 4.9}
    assert plots.stage_seconds({}) == {} and plots.stage_seconds({"stages": ["vms"]}) == {}


def test_scale_series_per_phase_sorted_by_size():
    rows = [row for file, row in _rows() if file == "scale.json"]
    series = plots.scale_series(rows)
    assert sorted(series) == ["check", "first", "rerun"]
    assert series["first"]["whole run"] == [(31, 150.316), (124, 429.144)]
    assert series["first"]["vms"][0] == (31, 12.08) and series["first"]["floor"][0] == (31, 3.458)
    # the x2 row has no per-stage figures: only its whole run and floor join the lines
    assert (62, 49.9) in series["rerun"]["whole run"] and all(n != 62 for n, _s in series["rerun"]["vms"])
    assert plots.scale_series([{"n": 3, "phase": "other", "ours_s": 1}, {"phase": "first", "ours_s": 1}]) == {}


def test_report_draws_the_plots_beside_the_results(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.syspath_prepend(str(BENCH))
    for path in FIXTURES.glob("*.json"):
        shutil.copy(path, tmp_path)
    assert report.main(["report.py", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"plots: {tmp_path / 'anchors.png'}, {tmp_path / 'scale.png'}" in out
    for name in ("anchors.png", "scale.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)


def test_without_scale_results_only_the_anchor_plot(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.syspath_prepend(str(BENCH))
    shutil.copy(FIXTURES / "dns.json", tmp_path)
    assert report.plot(tmp_path) == f"plots: {tmp_path / 'anchors.png'}"
    assert not (tmp_path / "scale.png").exists()
    (tmp_path / "dns.json").unlink()
    assert report.plot(tmp_path) == "plots: none, no result to draw"


def test_without_matplotlib_the_report_says_so(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib then raises ImportError
    shutil.copy(FIXTURES / "dns.json", tmp_path)
    assert report.plot(tmp_path).startswith("plots skipped: matplotlib is not installed")
    assert not list(tmp_path.glob("*.png"))
