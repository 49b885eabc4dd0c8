# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the start time of every play, and the end of the run, to the JSON file named by
S2P_STAGE_TIMES: bench_scale.py turns the plays of site.yml into stages and splits its
request counts by them. Enabled only by the bench (ANSIBLE_CALLBACKS_ENABLED)."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: s2p_stage_times
type: aggregate
short_description: start time of every play, for bench_scale.py
description: Writes the start time of every play, then the end of the run, to the file named by S2P_STAGE_TIMES (JSON).
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "s2p_stage_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": play.get_name(), "start": time.time()})

    def v2_playbook_on_stats(self, stats):
        self.plays.append({"play": "end", "start": time.time()})
        path = os.environ.get("S2P_STAGE_TIMES")
        if path:
            with open(path, "w", encoding="utf-8") as out:
                json.dump(self.plays, out)
