"""Run the stages of `make test` (or `make test-quick`), several at a time, and time them.

Each stage is a make target. A stage starts once the stages it needs have passed, at most
S2P_TEST_JOBS (default 2) at a time, the critical path first: the lab comes up while sanity
runs; integration (the longest) starts as soon as the lab is up, and the other stages run
beside it one after the other, molecule and then compat (the other ansible-core versions)
last. Every output line is prefixed with its stage's name; the run ends with a table of the
stages, their seconds (wall, and CPU: user + system of the stage's processes), and their test
counts (also written to .build/stages.tsv). A failed stage fails the run: stages not started
yet are skipped, running ones finish.

A stage that runs several suites announces each with a line "=== suite: <label> ===" (e.g.
tests/compat/run.sh's "=== suite: unit 2.20 ==="): the counts that follow are kept under that
label ("unit 2.20: 928 passed").

Only the standard library: it runs before the virtualenv exists.
Usage: tests/stages.py [STAGE...]     (default: every stage of the full suite)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Stage:
    name: str
    target: str
    needs: list[str] = field(default_factory=list)
    priority: int = 0  # higher starts first among ready stages
    # False: runs beside the others without taking one of the S2P_TEST_JOBS slots (a stage that
    # mostly waits: the lab AWX's first start, mostly one core; the image build of the stage ee)
    slot: bool = True
    seconds: float | None = None
    cpu: float | None = None  # user + system seconds of the stage's processes
    result: str = "not run"
    # From the suites' closing lines: {"passed": 870}, or under a suite's label {"unit 2.20: passed": 928}
    counts: dict[str, int] = field(default_factory=dict)
    suite: str = ""  # the label of the suite running now ("=== suite: <label> ===")

    def count(self, line: str) -> None:
        """Add the counts of a pytest summary line ("3 passed, 1 skipped in 2.1s") or of a
        closing line of sanity/molecule ("sanity: 24 passed, 0 failed"), under the label of
        the last "=== suite: <label> ===" line if there was one."""
        suite = SUITE.match(line)
        if suite:
            self.suite = suite.group(1)
        elif PYTEST_SUMMARY.match(line) or CLOSING.match(line):
            for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)", line):
                word = "error" if word.startswith("error") else word
                key = f"{self.suite}: {word}" if self.suite else word
                self.counts[key] = self.counts.get(key, 0) + int(number)

    def tests(self) -> str:
        """The counts for the table: "870 passed", or by suite "unit 2.20: 928 passed; sanity 2.20: 24 passed"."""
        suites: dict[str, list[str]] = {}
        for key, n in self.counts.items():
            label, _sep, word = key.rpartition(": ")
            suites.setdefault(label, []).append(f"{n} {word}")
        return "; ".join(f"{label}: {', '.join(words)}" if label else ", ".join(words)
                         for label, words in suites.items())


PYTEST_SUMMARY = re.compile(r"^(=+ )?\d+ (passed|failed|skipped|errors?|xfailed|xpassed|deselected)(, \d+ \w+)* in ")
CLOSING = re.compile(r"^(sanity|molecule): \d+ passed, \d+ failed")
SUITE = re.compile(r"^=== suite: (\S(?:.*\S)?) ===$")

# The full suite, in the order of the closing table.
FULL = [
    Stage("install", "install", priority=100),
    Stage("lab", "lab-up", ["install"], priority=90),
    Stage("lint", "lint", ["install"], priority=60),
    Stage("sanity", "sanity", ["install"], priority=70),
    Stage("unit", "unit", ["install"], priority=65),
    Stage("integration", "integration-run", ["lab"], priority=80),
    Stage("molecule", "molecule-run", ["lab"], priority=50),
    # The AWX execution environment (make ee-test: built on the lab's dockerd, then run against
    # the lab): from the lab's start, beside integration, outside the job slots.
    Stage("ee", "ee-test", ["lab"], priority=45, slot=False),
    # The other ansible-core versions (make compat): the lowest priority, beside integration.
    Stage("compat", "compat", ["install"], priority=40),
    # The lab AWX: ~8 min on a fresh machine (venv, then migrate, mostly one core), beside
    # everything; then its tests, whose jobs run in the execution environment image (stage ee)
    # on the lab's dockerd against the lab (mostly waiting for jobs). Neither takes a job slot:
    # the others keep their order and overlap.
    Stage("awx", "awx-up", ["install"], priority=95, slot=False),
    Stage("awx-tests", "integration-awx", ["awx", "lab", "ee"], priority=75, slot=False),
]
QUICK = {"integration": "integration-smoke"}  # the lab is up already: no lab-up twice


class Runner:
    def __init__(self, stages: list[Stage], jobs: int):
        self.stages = {s.name: s for s in stages}
        self.jobs = jobs
        self.lock = threading.Condition()
        self.failed = False
        self.out = sys.stdout

    def _emit(self, stage: str, line: str) -> None:
        with self.lock:
            self.out.write(f"[{stage}] {line}")
            if not line.endswith("\n"):
                self.out.write("\n")
            self.out.flush()

    def _run(self, stage: Stage) -> None:
        started = time.monotonic()
        rc = None
        try:
            self._emit(stage.name, f"=== {stage.name}: make {stage.target} (started {time.strftime('%H:%M:%S')})")
            proc = subprocess.Popen(["make", "--no-print-directory", stage.target], cwd=ROOT,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    text=True, errors="replace", bufsize=1)
            for line in proc.stdout:
                self._emit(stage.name, line)
                stage.count(line.strip())
            # wait4, not wait: the rusage of make and of every process it waited for
            _pid, status, usage = os.wait4(proc.pid, 0)
            rc = proc.returncode = os.waitstatus_to_exitcode(status)
            stage.cpu = usage.ru_utime + usage.ru_stime
        finally:  # a stage that could not even start fails the run instead of hanging it
            with self.lock:
                stage.seconds = time.monotonic() - started
                stage.result = "passed" if rc == 0 else f"FAILED (exit {rc})"
                self.failed |= rc != 0
                self.lock.notify_all()
        self._emit(stage.name, f"=== {stage.name}: {stage.result} in {stage.seconds:.0f}s")

    def _ready(self) -> list[Stage]:
        return sorted((s for s in self.stages.values() if s.result == "not run"
                       and all(self.stages[n].result == "passed" for n in s.needs if n in self.stages)),
                      key=lambda s: -s.priority)

    def run(self) -> bool:
        threads: list[threading.Thread] = []
        with self.lock:
            while True:
                running = [s for s in self.stages.values() if s.result == "running"]
                ready = [] if self.failed else self._ready()
                if not ready and not running:
                    break
                slots_taken = sum(1 for s in running if s.slot)
                startable = [s for s in ready if not s.slot or slots_taken < self.jobs]
                if startable:
                    stage = startable[0]
                    stage.result = "running"
                    thread = threading.Thread(target=self._run, args=(stage,), daemon=True)
                    threads.append(thread)
                    thread.start()
                    continue
                self.lock.wait()
        for thread in threads:
            thread.join()
        for stage in self.stages.values():
            if stage.result == "not run":
                stage.result = "skipped"
        return not self.failed


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def table(stages: list[Stage], wall: float) -> str:
    lines = [f"{'stage':<12} {'seconds':>8} {'cpu':>6}  {'result':<18} tests"]
    for stage in stages:
        lines.append(f"{stage.name:<12} {_seconds(stage.seconds):>8} {_seconds(stage.cpu):>6}  {stage.result:<18} "
                     f"{stage.tests()}".rstrip())
    lines.append(f"{'wall':<12} {wall:>8.0f}  (stages overlap: S2P_TEST_JOBS={os.environ.get('S2P_TEST_JOBS', '2')}; "
                 "cpu: user + system seconds)")
    return "\n".join(lines)


def awx_sources_missing() -> str:
    """Why the lab AWX cannot be built here ("" when it can): its source tarball is not where
    lab/awx/awx_install.py looks ($S2P_AWX_SOURCE_DIR, else ../shared/vendor/awx)."""
    repo = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(repo / "lab" / "awx"))
    try:
        import awx_install  # lab/awx: only the standard library
    finally:
        sys.path.pop(0)
    folder = awx_install.source_dir(repo)
    if (folder / awx_install.AWX_TARBALL).is_file():
        return ""
    return f"AWX source tarball {awx_install.AWX_TARBALL} not found in {folder}: set S2P_AWX_SOURCE_DIR (docs/awx.md)"


def main(argv: list[str]) -> int:
    quick = bool(argv) and argv[0] == "--quick"
    names = argv[1:] if quick else argv
    stages = [Stage(s.name, QUICK.get(s.name, s.target) if quick else s.target, s.needs, s.priority, s.slot)
              for s in FULL]
    if quick:
        stages = [s for s in stages if s.name not in ("molecule", "compat", "ee", "awx", "awx-tests")]
    missing = awx_sources_missing()
    if missing and any(s.name == "awx" for s in stages):
        # The AWX source tarballs are an input of the project, not in git: without them the lab AWX
        # cannot be built, and its stages are left out, loudly, instead of failing everything else.
        print(f"stages: NOT RUN: awx, awx-tests ({missing})", flush=True)
        stages = [s for s in stages if s.name not in ("awx", "awx-tests")]
    if names:
        unknown = sorted(set(names) - {s.name for s in stages})
        if unknown:
            print(f"stages: unknown stage(s) {', '.join(unknown)}; known: {', '.join(s.name for s in stages)}")
            return 2
        stages = [s for s in stages if s.name in names]
    jobs = int(os.environ.get("S2P_TEST_JOBS", "2"))
    started = time.monotonic()
    ok = Runner(stages, jobs).run()
    wall = time.monotonic() - started
    report = table(stages, wall)
    print("\nstages:\n" + report, flush=True)
    out = ROOT / ".build" / "stages.tsv"
    out.parent.mkdir(exist_ok=True)
    out.write_text("".join(f"{s.name}\t{'' if s.seconds is None else round(s.seconds)}\t"
                           f"{'' if s.cpu is None else round(s.cpu)}\t{s.result}\t{json.dumps(s.counts)}\n"
                           for s in stages) + f"wall\t{round(wall)}\t\t\t\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
