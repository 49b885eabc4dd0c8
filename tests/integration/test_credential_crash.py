"""Rotation crash test: ansible-playbook is killed with SIGKILL (its whole process group) right
after each phase of a first password and of a forced rotation; the next run must complete the
work, leave no pending version and LDAP must then accept Vault's current password.

The module pauses at a phase boundary only when the test sets _S2P_CREDENTIAL_PAUSE_AT (see
plugins/module_utils/workflows/credential.py); the pause file tells the test the phase is done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from identity_helpers import VAULT, BASE, alive, can_bind, clean_ldap, clean_vault, kv_read, play, task

ROOT = Path(__file__).resolve().parents[2]
PHASES = ["pending", "applied", "promoted"]


def run_killed_at(tmp_path: Path, playbook: list, phase: str) -> None:
    """Start ansible-playbook in its own process group, wait until the module reached `phase`,
    then SIGKILL the whole group (controller, worker and module)."""
    path = tmp_path / f"crash_{phase}.yml"
    path.write_text(yaml.safe_dump(playbook))
    marker = tmp_path / f"reached_{phase}"
    marker.unlink(missing_ok=True)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), _S2P_CREDENTIAL_PAUSE_AT=phase,
               _S2P_CREDENTIAL_PAUSE_FILE=str(marker), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    proc = subprocess.Popen(["ansible-playbook", "-i", str(ROOT / "inventories" / "lab"), str(path)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"ansible-playbook ended (rc {proc.returncode}) before phase {phase}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"phase {phase} not reached in 120 s")
        time.sleep(0.1)
    module_pid = int(marker.read_text().split()[1])
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # The module may run in a process group of its own (how the local connection starts it):
    # kill it too, as a killed controller host would. Then wait until it is really gone.
    try:
        os.killpg(os.getpgid(module_pid), signal.SIGKILL)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 10
    while alive(module_pid):
        assert time.monotonic() < deadline, f"the module (pid {module_pid}) survived SIGKILL"
        time.sleep(0.1)


@pytest.mark.parametrize("phase", PHASES)
def test_killed_at_each_phase_is_completed_by_next_run(run_playbook, lab, prefix, tmp_path, phase):
    uids = [f"{prefix}c{i}-ope" for i in range(3)]
    creds = [{"uid": u, "path": f"{prefix}/sd/{u}/ldap-bind", "owner": "ops", "project": prefix} for u in uids]
    try:
        assert run_playbook(play(task("ldap_account", {"accounts": [{"uid": u} for u in uids]}))).rc == 0
        step = play(task("credential", {"credentials": creds, "vault": VAULT}))
        for round_ in ("first password", "forced rotation"):
            before = {c["path"]: (kv_read(lab, c["path"]) or {}).get("data") for c in creds}
            params = {"credentials": creds, "force": round_ == "forced rotation", "vault": VAULT}
            run_killed_at(tmp_path, play(task("credential", params)), phase)
            after_kill = {c["path"]: kv_read(lab, c["path"])["data"] for c in creds}
            first = round_ == "first password"
            if phase in ("pending", "applied") and not first:
                assert all("pending_password" in d for d in after_kill.values()), round_
            else:  # a first password skips the pending version: current at once, confirmed in phase 3
                assert not any("pending_password" in d for d in after_kill.values()), round_
            if first:
                assert all(d.get("password") for d in after_kill.values()), round_
            run = run_playbook(step)
            assert run.rc == 0, run.stdout
            expected = "none" if phase == "promoted" else "reapply" if first else "complete"
            assert [c["action"] for c in run.result("t")["credentials"]] == [expected] * 3, round_
            for cred in creds:
                data = kv_read(lab, cred["path"])["data"]
                assert "pending_password" not in data
                if before[cred["path"]]:
                    assert data["password"] != before[cred["path"]]["password"]
                assert can_bind(lab, f"uid={cred['uid']},ou=services,{BASE}", data["password"]), (round_, cred)
            assert run_playbook(step).changed == 0
    finally:
        clean_ldap(lab, prefix)
        clean_vault(lab, prefix)
