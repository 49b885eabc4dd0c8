# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the start time of every play, and the end of the run, to the JSON file named by
S2P_STAGE_TIMES: bench_scale.py turns the plays of site.yml into stages and splits its
request counts by them. With S2P_TASK_TIMES, also every task (its name, action, start, CPU
seconds so far and the results of its hosts) to that JSON file: the tasks a no-op runs, which
of them ran a module rather than being skipped, and where the CPU goes. Enabled only by the
benches (ANSIBLE_CALLBACKS_ENABLED)."""

from __future__ import annotations

import json
import os
import resource
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: s2p_stage_times
type: aggregate
short_description: start time of every play, for bench_scale.py
description:
  - Writes the start time of every play, then the end of the run, to the file named by S2P_STAGE_TIMES (JSON).
  - With S2P_TASK_TIMES, every task (name, action, start, CPU seconds so far, results per status) to that file (JSON).
"""


def _cpu():
    """CPU seconds so far of ansible-playbook and of its workers and modules that ended."""
    own, ended = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime, 3)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "s2p_stage_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.plays = []
        self.tasks = []
        self.by_uuid = {}

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": play.get_name(), "start": time.time()})

    def v2_playbook_on_task_start(self, task, is_conditional):
        now = time.time()
        if self.tasks:
            self.tasks[-1].setdefault("end", now)
        self.tasks.append({"task": task.get_name(), "action": task.action, "start": now, "cpu": _cpu(),
                           "results": {}})
        self.by_uuid[task._uuid] = self.tasks[-1]

    def _result(self, result, status):
        # by the task's id: under the free strategy the hosts' results of several tasks interleave
        task = self.by_uuid.get(result._task._uuid)
        if task is not None:
            task["results"][status] = task["results"].get(status, 0) + 1

    def v2_runner_on_ok(self, result):
        self._result(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "failed")

    def v2_playbook_on_stats(self, stats):
        now = time.time()
        self.plays.append({"play": "end", "start": now})
        if self.tasks:
            self.tasks[-1].setdefault("end", now)
        for path, found in ((os.environ.get("S2P_STAGE_TIMES"), self.plays),
                            (os.environ.get("S2P_TASK_TIMES"), self.tasks)):
            if path:
                with open(path, "w", encoding="utf-8") as out:
                    json.dump(found, out)
