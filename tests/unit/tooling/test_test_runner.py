"""The test tooling's pure logic: the stage runner's scheduling and counts (tests/stages.py)
and the longest-first order of the integration suite (tests/integration/schedule.py)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


stages = _load("s2p_stages", ROOT / "tests" / "stages.py")
schedule = _load("s2p_schedule", ROOT / "tests" / "integration" / "schedule.py")


class FakeMarker:
    def __init__(self, name):
        self.args = (name,)
        self.kwargs = {}


class FakeItem:
    def __init__(self, nodeid, group=None):
        self.nodeid = nodeid
        self.group = group

    def get_closest_marker(self, name):
        return FakeMarker(self.group) if name == "xdist_group" and self.group else None


def test_longest_first_orders_by_duration_and_keeps_groups_together():
    items = [FakeItem("a"), FakeItem("g1", "g"), FakeItem("b"), FakeItem("g2", "g"), FakeItem("c")]
    seconds = {"a": 5, "b": 100, "c": 1, "g1": 30, "g2": 40}
    ordered = [i.nodeid for i in schedule.longest_first(items, seconds)]
    assert ordered == ["b", "g1", "g2", "a", "c"]  # the group (70 s) moves as one block


def test_unknown_tests_count_as_the_default_and_ties_keep_the_collected_order():
    items = [FakeItem("x"), FakeItem("y"), FakeItem("z")]
    ordered = [i.nodeid for i in schedule.longest_first(items, {"z": schedule.DEFAULT_SECONDS + 1})]
    assert ordered == ["z", "x", "y"]


def test_durations_are_read_from_junit(tmp_path, monkeypatch):
    junit = tmp_path / "junit.xml"
    junit.write_text('<testsuites><testsuite><testcase classname="tests.integration.test_lab" '
                     'name="test_second_lab_up_changes_nothing" time="12.34"/>'
                     '<testcase classname="tests.integration.nowhere" name="test_x" time="1"/>'
                     '</testsuite></testsuites>')
    monkeypatch.setattr(schedule, "DURATIONS", tmp_path / "durations.json")
    found = schedule.update([str(junit)])
    assert found == {"tests/integration/test_lab.py::test_second_lab_up_changes_nothing": 12.3}
    assert json.loads((tmp_path / "durations.json").read_text()) == found


@pytest.mark.parametrize(("line", "expected"), [
    ("711 passed in 12.30s", {"passed": 711}),
    ("=== 3 passed, 1 skipped in 2.10s ===", {"passed": 3, "skipped": 1}),
    ("1 failed, 2 errors in 3.0s", {"failed": 1, "error": 2}),
    ("sanity: 24 passed, 0 failed", {"passed": 24, "failed": 0}),
    ("the 3 passed in review", {}),
])
def test_stage_counts_come_from_closing_lines(line, expected):
    stage = stages.Stage("x", "x")
    stage.count(line)
    assert stage.counts == expected


def _runner(tmp_path, monkeypatch, targets: dict[str, int], graph: list[tuple], jobs: int):
    """A Runner whose make targets are `sh -c 'exit N'` commands logging their start and end."""
    log = tmp_path / "log"
    real_popen = subprocess.Popen

    def fake_popen(argv, **kwargs):
        target = argv[-1]
        script = f"echo start {target} >> {log}; sleep 0.2; echo end {target} >> {log}; exit {targets[target]}"
        return real_popen(["sh", "-c", script], **{k: v for k, v in kwargs.items() if k != "cwd"})

    monkeypatch.setattr(stages.subprocess, "Popen", fake_popen)
    runner = stages.Runner([stages.Stage(n, n, needs, prio) for n, needs, prio in graph], jobs)
    runner.out = SimpleNamespace(write=lambda _text: None, flush=lambda: None)
    return runner, log


def test_stages_wait_for_what_they_need_and_run_side_by_side(tmp_path, monkeypatch):
    graph = [("install", [], 100), ("lab", ["install"], 90), ("unit", ["install"], 50), ("integration", ["lab"], 80)]
    runner, log = _runner(tmp_path, monkeypatch, dict.fromkeys(["install", "lab", "unit", "integration"], 0),
                          graph, jobs=2)
    assert runner.run()
    events = log.read_text().split("\n")
    assert events[:2] == ["start install", "end install"]
    assert {events[2], events[3]} == {"start lab", "start unit"}  # both at once after install
    assert events.index("start integration") > events.index("end lab")
    assert all(s.result == "passed" and s.seconds is not None for s in runner.stages.values())


def _run_with_one_stage_outside_the_slots(tmp_path, monkeypatch, graph, outside, jobs):
    """Run `graph` (every stage passing at once) with stage `outside` taking no job slot: (runner, events)."""
    runner, log = _runner(tmp_path, monkeypatch, dict.fromkeys([name for name, _needs, _p in graph], 0), graph,
                          jobs=jobs)
    runner.stages[outside].slot = False
    assert runner.run()
    return runner, log.read_text().split("\n")


def test_a_stage_outside_the_slots_starts_beside_a_full_house(tmp_path, monkeypatch):
    graph = [("install", [], 100), ("lab", ["install"], 90), ("unit", ["install"], 50), ("ee", ["install"], 10)]
    runner, events = _run_with_one_stage_outside_the_slots(tmp_path, monkeypatch, graph, "ee", jobs=2)
    # lab and unit take both slots; ee, the lowest priority, still starts before either ends
    assert set(events[2:5]) == {"start lab", "start unit", "start ee"}
    assert all(s.result == "passed" for s in runner.stages.values())


def test_a_failed_stage_skips_what_has_not_started(tmp_path, monkeypatch):
    graph = [("install", [], 100), ("lab", ["install"], 90), ("integration", ["lab"], 80)]
    runner, _log = _runner(tmp_path, monkeypatch, {"install": 0, "lab": 2, "integration": 0}, graph, jobs=2)
    assert not runner.run()
    assert {n: s.result for n, s in runner.stages.items()} == {
        "install": "passed", "lab": "FAILED (exit 2)", "integration": "skipped"}
    assert "integration" in stages.table(list(runner.stages.values()), 1.0)


def test_a_stage_that_cannot_start_fails_the_run_instead_of_hanging(monkeypatch):
    def no_make(*_args, **_kwargs):
        raise FileNotFoundError("make")

    monkeypatch.setattr(stages.subprocess, "Popen", no_make)
    runner = stages.Runner([stages.Stage("install", "install")], 2)
    runner.out = SimpleNamespace(write=lambda _text: None, flush=lambda: None)
    with pytest.raises(FileNotFoundError):
        runner._run(runner.stages["install"])
    assert runner.stages["install"].result == "FAILED (exit None)" and runner.failed


def test_the_xdist_group_suffix_is_not_part_of_the_test_id():
    assert schedule.plain_id("tests/x.py::test_a[p@1]@grp") == "tests/x.py::test_a[p@1]"
    assert schedule.plain_id("tests/x.py::test_a@grp") == "tests/x.py::test_a"
    assert schedule.plain_id("tests/x.py::test_a[p@1]") == "tests/x.py::test_a[p@1]"


def test_counts_after_a_suite_line_are_kept_under_its_label():
    stage = stages.Stage("compat", "compat")
    for line in ["compat: ansible-core 2.20.10, Python 3.12.1 (.venv-core2.20)", "=== suite: unit 2.20 ===",
                 "928 passed, 4 warnings in 81.23s (0:01:21)", "=== suite: sanity 2.20 ===",
                 "sanity: 24 passed, 0 failed (300s, ansible-core 2.20.10, Python 3.12, ansible-test exit 0)"]:
        stage.count(line)
    assert stage.counts == {"unit 2.20: passed": 928, "sanity 2.20: passed": 24, "sanity 2.20: failed": 0}
    assert stage.tests() == "unit 2.20: 928 passed; sanity 2.20: 24 passed, 0 failed"


def test_pytest_section_lines_are_not_suite_labels():
    stage = stages.Stage("unit", "unit")
    for line in ["=== FAILURES ===", "=== short test summary info ===", "1 failed, 3 passed in 2.0s"]:
        stage.count(line)
    assert stage.counts == {"failed": 1, "passed": 3}
    assert stage.tests() == "1 failed, 3 passed"


def test_the_table_has_wall_and_cpu_seconds_of_each_stage():
    done = stages.Stage("unit", "unit", seconds=35.4, cpu=30.6, result="passed", counts={"passed": 870})
    skipped = stages.Stage("compat", "compat", result="skipped")
    rows = stages.table([done, skipped], 40.0).splitlines()
    assert rows[0].split() == ["stage", "seconds", "cpu", "result", "tests"]
    assert rows[1].split() == ["unit", "35", "31", "passed", "870", "passed"]
    assert rows[2].split() == ["compat", "-", "-", "skipped"]


def test_a_stage_records_the_cpu_seconds_of_its_processes(tmp_path, monkeypatch):
    real_popen = subprocess.Popen

    def busy_popen(argv, **kwargs):  # a child that burns CPU in a grandchild it waits for
        burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
        script = f"{sys.executable} -c '{burn}'"
        return real_popen(["sh", "-c", script], **{k: v for k, v in kwargs.items() if k != "cwd"})

    monkeypatch.setattr(stages.subprocess, "Popen", busy_popen)
    runner = stages.Runner([stages.Stage("unit", "unit")], 1)
    runner.out = SimpleNamespace(write=lambda _text: None, flush=lambda: None)
    assert runner.run()
    assert runner.stages["unit"].cpu >= 0.3


def test_compat_runs_last_beside_integration_and_not_in_the_quick_loop(tmp_path, monkeypatch, capsys):
    full = {s.name: s for s in stages.FULL}
    assert full["compat"].needs == ["install"]  # its own venv: not on the lab's critical path
    assert full["compat"].priority < min(s.priority for s in stages.FULL if s.name != "compat" and s.slot)
    ran = {}
    monkeypatch.setattr(stages, "Runner", lambda selected, _jobs: SimpleNamespace(
        run=lambda: ran.setdefault(len(ran), [s.name for s in selected]) is not None))
    monkeypatch.setattr(stages, "ROOT", tmp_path)  # .build/stages.tsv goes there
    assert stages.main(["--quick"]) == 0 and stages.main([]) == 0
    assert not {"compat", "molecule", "ee", "awx", "awx-tests"} & set(ran[0])
    assert "compat" in ran[1]
    rows = [row.split("\t") for row in (tmp_path / ".build" / "stages.tsv").read_text().splitlines()]
    assert ["compat", "", "", "not run", "{}"] in rows  # name, seconds, cpu, result, counts


def test_a_stage_outside_the_slots_runs_beside_the_others_with_one_job(tmp_path, monkeypatch):
    graph = [("install", [], 100), ("awx", ["install"], 95), ("unit", ["install"], 50), ("lint", ["install"], 40)]
    _runner_done, events = _run_with_one_stage_outside_the_slots(tmp_path, monkeypatch, graph, "awx", jobs=1)
    assert {events[2], events[3]} == {"start awx", "start unit"}  # one job slot, yet both at once
    assert events.index("start lint") > events.index("end unit")  # the other stages still take turns
    assert stages.Stage("x", "x").slot is True
    assert {s.name for s in stages.FULL if not s.slot} == {"ee", "awx", "awx-tests"}


def test_without_the_awx_sources_the_awx_stages_are_left_out_loudly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("S2P_AWX_SOURCE_DIR", str(tmp_path / "nowhere"))
    ran = {}
    monkeypatch.setattr(stages, "Runner", lambda selected, _jobs: SimpleNamespace(
        run=lambda: ran.setdefault("names", [s.name for s in selected]) is not None))
    monkeypatch.setattr(stages, "ROOT", tmp_path)
    assert stages.main([]) == 0
    assert "awx" not in ran["names"] and "awx-tests" not in ran["names"] and "integration" in ran["names"]
    assert "stages: NOT RUN: awx, awx-tests (AWX source tarball awx-24.6.1-noui.tar.gz not found in " \
        in capsys.readouterr().out
