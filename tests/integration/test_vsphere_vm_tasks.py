"""vCenter tasks that take long: a clone over task_timeout is cancelled, and a clone left running
by a killed run is waited for, never started twice.

vcsim runs tasks synchronously; these tests start their OWN vcsim (never the shared lab's) with
the lab patch that makes clones run in the background after a delay and answers CancelTask
(lab/vcsim/govmomi-0.24.2-s2p2-tasks.patch, flag -task-delay)."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import yaml
from conftest import LAB_DIR, LAB_INVENTORY, ROOT, VENV_BIN
from pyVmomi import vim, vmodl
from vsphere_helpers import Vcsim, kill_tree, vm_items, vm_play
from vsphere_own_vcsim import OwnVcsim

CLONE = "VirtualMachine.cloneVm"


def _connection(endpoint: dict) -> dict:
    return {k: endpoint[k] for k in ("hostname", "port", "username", "password")} | {"ca_path": endpoint["ca_file"]}


@pytest.fixture
def slow_vcsim(request):
    """A private vcsim whose clones take `request.param` seconds; yields (endpoint, pyVmomi session)."""
    with OwnVcsim(extra_args=["-task-delay", f"{CLONE}={request.param}s"]) as sim:
        session = Vcsim(sim.endpoint)
        yield sim.endpoint, session
        session.close()


def _clone_tasks(session: Vcsim) -> list:
    return [t.info for t in session.content.taskManager.recentTask if t.info.descriptionId == CLONE]


def _clone_events(session: Vcsim, name: str) -> list:
    events = session.content.eventManager.QueryEvents(
        vim.event.EventFilterSpec(eventTypeId=["VmBeingClonedEvent"], maxCount=1000))
    return [e for e in events if e.destName == name]


@pytest.mark.parametrize("slow_vcsim", [6], indirect=True)
def test_clone_over_timeout_is_cancelled_and_rerun_converges(run_playbook, slow_vcsim, prefix):
    endpoint, session = slow_vcsim
    vms = vm_items(prefix, per_site=1, sites=("esoc",))
    name = vms[0]["name"]
    conn = {"s2p_vsphere_connection": _connection(endpoint)}

    run = run_playbook(vm_play(vms, task_timeout=2), extravars=conn)
    assert run.rc != 0, run.stdout
    msg = run.result("vms")["msg"]
    assert "task timeout" in msg and f"cloning {name}" in msg and "was cancelled" in msg, msg
    # vCenter's view: the clone task was cancelled before it made anything.
    tasks = _clone_tasks(session)
    assert [(t.state, t.cancelled, isinstance(t.error, vmodl.fault.RequestCanceled)) for t in tasks] == [
        ("error", True, True)], tasks
    assert session.vms(name) == []

    run = run_playbook(vm_play(vms, task_timeout=120), extravars=conn)
    assert run.rc == 0, run.stdout
    assert run.result("vms")["counts"]["create"] == 1
    found = session.vms(name)
    assert len(found) == 1, [session.path(vm) for vm in found]
    got = session.describe(found[0])
    assert (got["marker"], got["build"], got["power"]) == (name, "ready", "poweredOn"), got
    run = run_playbook(vm_play(vms, task_timeout=120), extravars=conn)
    assert run.rc == 0 and run.changed == 0, run.stdout


@pytest.mark.parametrize("slow_vcsim", [45], indirect=True)
def test_clone_left_running_by_a_killed_run_is_waited_for(run_playbook, slow_vcsim, prefix, tmp_path):
    endpoint, session = slow_vcsim
    vms = vm_items(prefix, per_site=1, sites=("esec",))
    name = vms[0]["name"]
    conn = {"s2p_vsphere_connection": _connection(endpoint)}
    playbook, extra = tmp_path / "provision.yml", tmp_path / "conn.json"
    playbook.write_text(yaml.safe_dump(vm_play(vms), sort_keys=False))
    extra.write_text(json.dumps(conn))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), S2P_LAB_DIR=str(LAB_DIR),
               PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.Popen([str(VENV_BIN / "ansible-playbook"), "-i", str(LAB_INVENTORY), "-e", f"@{extra}",
                             str(playbook)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not _clone_tasks(session):
            time.sleep(0.1)
    finally:
        kill_tree(proc)  # the module too: nothing of the first run goes on but vCenter's clone task
    assert [t.state for t in _clone_tasks(session)] == ["running"], "the first run was not killed while cloning"

    run = run_playbook(vm_play(vms), extravars=conn)
    assert run.rc == 0, run.stdout
    item = run.result("vms")["vms"][0]
    assert item["action"] == "create" and any("started by an earlier run" in n for n in item["notes"]), item
    # One clone in all: vCenter saw a single VmBeingClonedEvent for the name, and holds one VM.
    assert len(_clone_events(session, name)) == 1
    found = session.vms(name)
    assert len(found) == 1, [session.path(vm) for vm in found]
    got = session.describe(found[0])
    assert (got["marker"], got["build"], got["power"]) == (name, "ready", "poweredOn"), got
