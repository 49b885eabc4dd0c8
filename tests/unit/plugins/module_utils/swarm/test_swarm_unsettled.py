"""Which services a run that changes nothing must still wait for and judge (swarm/stack.py
unsettled_reason): pure logic over Docker's service and task documents."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack import HASH_LABEL, unsettled_reason
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack_spec import spec_hash

NOW = 1_800_000_000.0
WANTED = {"name": "web", "mode": "replicated", "replicas": 2, "image": "busybox@sha256:1"}


def stamp(seconds_ago: float) -> str:
    moment = datetime.datetime.fromtimestamp(NOW - seconds_ago, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def task(state="running", desired="running", spec=None, ago=600):
    spec = spec or WANTED
    return {"DesiredState": desired, "Status": {"State": state}, "UpdatedAt": stamp(ago),
            "Spec": {"ContainerSpec": {"Labels": {HASH_LABEL: spec_hash(spec)}}}}


HEALTHY = [task(), task()]


def test_a_settled_service_is_left_alone():
    assert unsettled_reason({}, HEALTHY, WANTED, NOW) is None
    old_failure = task("failed", "shutdown", ago=3600)  # long before: history, not a restart loop
    assert unsettled_reason({"UpdateStatus": {"State": "completed"}}, HEALTHY + [old_failure], WANTED, NOW) is None


@pytest.mark.parametrize("state", ["updating", "paused", "rollback_started", "rollback_paused"])
def test_an_update_not_finished_is_unsettled(state):
    reason = unsettled_reason({"UpdateStatus": {"State": state, "Message": "update paused due to failure"}},
                              HEALTHY, WANTED, NOW)
    assert reason.startswith("its update is %s" % state.replace("_", " "))


def test_fewer_tasks_of_the_wanted_spec_than_replicas_is_unsettled():
    assert unsettled_reason({}, [task(), task("starting")], WANTED, NOW) == "1 of 2 tasks running"
    other_spec = dict(WANTED, image="busybox@sha256:0")
    assert unsettled_reason({}, [task(), task(spec=other_spec)], WANTED, NOW) == "1 of 2 tasks running"


def test_a_global_service_needs_every_task_running():
    wanted = dict(WANTED, mode="global", replicas=None)
    assert unsettled_reason({}, [task(spec=wanted), task(spec=wanted)], wanted, NOW) is None
    one_pending = [task(spec=wanted), task("pending", spec=wanted)]
    assert unsettled_reason({}, one_pending, wanted, NOW) == "1 of 2 tasks running"


def test_recent_failures_mean_a_restart_loop():
    failing = HEALTHY + [task("failed", "shutdown", ago=30), task("rejected", "shutdown", ago=90)]
    assert unsettled_reason({}, failing, WANTED, NOW) == "2 task(s) failed in the last 120s"
