"""bench/report.py, the last step of `make bench`, reads every shape bench/results holds.

tests/unit/fixtures/bench_results/ has one small file per writer in bench/: a single result
(bench_site.py), lists of results (the others, through results_io.write) and bench_ldap.py's
anchor cache ldap_anchor.json (a dict by n, not results; it ended the report with KeyError).
"""

from __future__ import annotations

import json
import shutil

import pytest
from bench_modules import BENCH, FIXTURES, load

report = load("report")


def _lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


def test_every_fixture_shape():
    text = report.report(FIXTURES)
    assert "skipped" not in text, text
    assert len(_lines(text, "dns_record ")) == 2
    assert len(_lines(text, "ldap ")) == 2
    assert len(_lines(text, "site.yml lab model ")) == 1
    assert len(_lines(text, "swarm_stack ")) == 2
    assert len(_lines(text, "vsphere_inventory ")) == 2
    assert len(_lines(text, "vsphere_provision ")) == 2
    # the anchor cache: its own table, one line per n, sorted by n, the sampled one marked
    anchors = _lines(text, "ldap_anchor.json ")
    assert [line.split()[1] for line in anchors] == ["20", "500"]
    assert "timed on 50, scaled" in anchors[1]
    assert "kept anchors" in text


def test_result_values_are_printed():
    line = _lines(report.report(FIXTURES), "site.yml lab model ")[0]
    assert line.split()[3:9] == ["26", "rerun", "21.90", "95.70", "4.4", "first"]


def test_null_ratio_prints_a_dash():
    """ours_s 0 gives ratio null (results_io.result)."""
    rerun = [line for line in _lines(report.report(FIXTURES), "swarm_stack ") if " rerun " in line][0]
    assert rerun.split()[2:6] == ["rerun", "0.00", "40.20", "-"]


@pytest.mark.parametrize("content,reason", [
    ("{not json", "not readable as JSON"),
    ("", "not readable as JSON"),
    ("[]", "a list that is not of results"),
    ('[{"name": "x", "n": 1}]', "missing anchor, anchor_s, ours_s"),
    ('{"name": "x"}', "neither a result"),
    ('"text"', "a JSON str"),
    ('{"500": {"n": 500}}', "neither a result"),
])
def test_other_files_are_skipped_with_the_reason(tmp_path, content, reason):
    shutil.copy(FIXTURES / "site.json", tmp_path)
    (tmp_path / "odd.json").write_text(content)
    text = report.report(tmp_path)
    assert len(_lines(text, "site.yml lab model ")) == 1
    skipped = _lines(text, "skipped odd.json: ")
    assert len(skipped) == 1 and reason in skipped[0], text


def test_empty_directory(tmp_path):
    assert report.report(tmp_path) == f"no benchmark results in {tmp_path}"


def test_main_prints_and_exits_zero(tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # report.py imports plots.py from beside it
    for path in FIXTURES.glob("*.json"):
        shutil.copy(path, tmp_path)  # main draws its plots beside the results: not into the fixtures
    assert report.main(["report.py", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ldap_anchor.json" in out and "\nplots" in out


def test_files_written_by_the_benchmarks_own_writers(tmp_path, monkeypatch):
    """What results_io.write and bench_ldap.save_anchor write now (not a copy of it) reads back."""
    monkeypatch.syspath_prepend(str(BENCH))
    results_io = load("results_io")
    monkeypatch.setattr(results_io, "RESULTS", tmp_path)
    results_io.write("one", [results_io.result("one", 3, "rerun", 1.0, "anchor", 2.0, extra=1)])
    results_io.write("two", [results_io.result("two", 3, phase, 0.0, "anchor", 2.0) for phase in ("first", "rerun")])
    pytest.importorskip("ldap3")
    pytest.importorskip("hvac")
    bench_ldap = load("bench_ldap")
    monkeypatch.setattr(bench_ldap, "RESULTS", tmp_path)
    monkeypatch.setattr(bench_ldap, "ANCHOR_CACHE", tmp_path / "ldap_anchor.json")
    bench_ldap.LOAD.update({("anchor", "first"): 1.5, ("anchor", "rerun"): 1.6})
    bench_ldap.save_anchor({"first": 10.0, "rerun": 9.0})
    assert isinstance(json.loads((tmp_path / "ldap_anchor.json").read_text()), dict)
    text = report.report(tmp_path)
    assert "skipped" not in text, text
    assert len(_lines(text, "one ")) == 1
    assert len(_lines(text, "two ")) == 2
    assert len(_lines(text, "ldap_anchor.json ")) == 1
