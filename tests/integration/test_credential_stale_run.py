"""A module process that outlives its killed controller must not set a stale password.

Run A (a forced rotation) writes its pending password P1 to Vault, then stalls; its controller
is SIGKILLed but the module process lives on (on a real controller host it may be stuck on the
network). Meanwhile run B completes A's pending rotation (LDAP gets P1, Vault promotes it) and
run C rotates again (P2 is current in Vault and in LDAP). Then A wakes up.

Guaranteed (what this test proves): A re-reads the entry's pwdChangedTime right before Password
Modify, sees that someone set a password after it read, and neither applies P1 nor promotes it:
LDAP keeps P2, Vault keeps P2 as current with nothing pending, and the next run changes nothing.
Not guaranteed (module docs, notes): a Password Modify that is already in flight, or a process
stalled between that re-read and its Password Modify; the next run then finds pwdChangedTime
different from Vault's record and re-applies Vault's current password."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml
from identity_helpers import VAULT, BASE, alive, can_bind, clean_ldap, clean_vault, kv_read, play, task, vault_root

ROOT = Path(__file__).resolve().parents[2]


def start_stalled(tmp_path: Path, playbook: list, reached: Path, resume: Path) -> int:
    """Start ansible-playbook paused right after the pending phase, SIGKILL its controller and
    return the pid of the module process, left running until `resume` exists."""
    path = tmp_path / "a.yml"
    path.write_text(yaml.safe_dump(playbook))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), _S2P_CREDENTIAL_PAUSE_AT="pending",
               _S2P_CREDENTIAL_PAUSE_FILE=str(reached), _S2P_CREDENTIAL_RESUME_FILE=str(resume),
               PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    proc = subprocess.Popen(["ansible-playbook", "-i", str(ROOT / "inventories" / "lab"), str(path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    while not reached.exists():
        assert proc.poll() is None, f"run A ended (rc {proc.returncode}) before its pending write"
        assert time.monotonic() < deadline, "run A did not reach its pending write in 180 s"
        time.sleep(0.1)
    module_pid = int(reached.read_text().split()[1])
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert alive(module_pid), "the module process died with its controller; the test needs it alive"
    return module_pid


def wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 120
    while alive(pid):
        assert time.monotonic() < deadline, "the resumed module did not finish in 120 s"
        time.sleep(0.1)


def test_stalled_module_never_overwrites_a_newer_password(run_playbook, lab, prefix, tmp_path):
    uid = f"{prefix}s-ope"
    dn = f"uid={uid},ou=services,{BASE}"
    cred = {"uid": uid, "path": f"{prefix}/sd/{uid}/ldap-bind", "owner": "ops", "project": prefix}
    normal = play(task("credential", {"credentials": [cred], "vault": VAULT}))
    forced = play(task("credential", {"credentials": [cred], "force": True, "vault": VAULT}))
    reached, resume = tmp_path / "reached", tmp_path / "resume"
    try:
        assert run_playbook(play(task("ldap_account", {"accounts": [{"uid": uid}]}))).rc == 0
        assert run_playbook(normal).rc == 0
        time.sleep(1.1)  # pwdChangedTime has one-second resolution: every later set is visible

        # Run A: paused right after its pending write, controller killed, module left running.
        module_pid = start_stalled(tmp_path, forced, reached, resume)
        p1 = kv_read(lab, cred["path"])["data"]["pending_password"]

        # Run B completes A's rotation; run C rotates again.
        run_b = run_playbook(normal)
        assert run_b.rc == 0 and run_b.result("t")["credentials"][0]["action"] == "complete", run_b.stdout[-3000:]
        time.sleep(1.1)
        run_c = run_playbook(forced)
        assert run_c.rc == 0 and run_c.result("t")["credentials"][0]["action"] == "rotate", run_c.stdout[-3000:]
        p2 = kv_read(lab, cred["path"])["data"]["password"]
        assert p2 != p1

        # A wakes up and carries on with phase 2.
        resume.write_text("go")
        wait_gone(module_pid)

        data = kv_read(lab, cred["path"])["data"]
        assert data["password"] == p2 and "pending_password" not in data
        binds = can_bind(lab, dn, p2)  # a name, so that a failure never prints the password
        assert binds, "the stalled run overwrote the newer password in LDAP"
        again = run_playbook(normal)
        assert again.rc == 0 and again.changed == 0, again.stdout[-3000:]
    finally:
        resume.write_text("go")  # never leave a paused module behind
        clean_ldap(lab, prefix)
        clean_vault(lab, prefix)


def test_another_writer_between_pending_and_promote_wins(run_playbook, lab, prefix, tmp_path):
    """A first password is paused after its first write (current, not yet confirmed); meanwhile someone
    writes another version of the secret. The paused run must not overwrite it nor confirm it (its
    confirmation names the version it wrote); the next run converges LDAP to Vault's current password."""
    uid = f"{prefix}w-ope"
    dn = f"uid={uid},ou=services,{BASE}"
    cred = {"uid": uid, "path": f"{prefix}/sd/{uid}/ldap-bind"}
    normal = play(task("credential", {"credentials": [cred], "vault": VAULT}))
    reached, resume = tmp_path / "reached", tmp_path / "resume"
    try:
        assert run_playbook(play(task("ldap_account", {"accounts": [{"uid": uid}]}))).rc == 0
        module_pid = start_stalled(tmp_path, normal, reached, resume)
        first = kv_read(lab, cred["path"])  # a first password: current at once, not yet confirmed
        assert first["metadata"]["version"] == 1 and "pending_password" not in first["data"]
        assert "applied_version" not in (first["metadata"]["custom_metadata"] or {})
        other = "Other-writer-" + prefix * 4
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # not due: the next run re-applies it
        vault_root(lab).secrets.kv.v2.create_or_update_secret(
            path=cred["path"], secret={"password": other, "rotated_at": now}, mount_point=lab["openbao"]["kv_mount"],
            cas=1)
        resume.write_text("go")
        wait_gone(module_pid)
        data = kv_read(lab, cred["path"])
        assert data["metadata"]["version"] == 2 and data["data"]["password"] == other, "the paused run promoted"
        assert (data["metadata"]["custom_metadata"] or {}).get("applied_version") != "2", "the paused run confirmed v2"
        run = run_playbook(normal)
        assert run.rc == 0 and run.result("t")["credentials"][0]["action"] == "reapply", run.stdout[-3000:]
        current = kv_read(lab, cred["path"])["data"]
        assert current["password"] == other and "pending_password" not in current
        binds = can_bind(lab, dn, other)
        assert binds, "LDAP does not hold Vault's current password after the next run"
        assert run_playbook(normal).changed == 0
    finally:
        resume.write_text("go")
        clean_ldap(lab, prefix)
        clean_vault(lab, prefix)
