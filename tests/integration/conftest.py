"""Integration tests drive the collection through ansible-runner (the engine AWX uses)
against the lab's real servers.  `make lab-up` must have run; the tests never start or
stop lab services themselves, except tests that explicitly break and restore one."""

from __future__ import annotations

import datetime
import json
import os
import secrets
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import ansible_runner
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from leftovers import read_lab, snapshot
from leftovers_plugin import record_prefix, register
import cpu_usage
import schedule

ROOT = Path(__file__).resolve().parents[2]
LAB_DIR = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab"))
LAB_INVENTORY = ROOT / "inventories" / "lab"
VENV_BIN = Path(sys.executable).parent


@dataclass
class PlaybookRun:
    rc: int
    status: str
    stdout: str
    events: list = field(repr=False)

    @property
    def stats(self) -> dict:
        for event in reversed(self.events):
            if event.get("event") == "playbook_on_stats":
                return event["event_data"]
        return {}

    @property
    def changed(self) -> int:
        return sum(self.stats.get("changed", {}).values())

    @property
    def failed(self) -> int:
        return sum(self.stats.get("failures", {}).values())

    def results(self, task: str) -> list[dict]:
        """Module results of every host for the task named `task` (ok, changed or failed)."""
        wanted = {"runner_on_ok", "runner_on_failed", "runner_item_on_ok", "runner_item_on_failed"}
        return [e["event_data"]["res"] for e in self.events
                if e.get("event") in wanted and e["event_data"].get("task") == task]

    def result(self, task: str) -> dict:
        found = self.results(task)
        assert len(found) == 1, f"expected one result for task {task!r}, got {len(found)}:\n{self.stdout[-3000:]}"
        return found[0]


def pytest_configure(config):
    """The leftover check (leftovers_plugin.py): objects a test run leaves in the shared lab fail it."""
    register(config, lambda: snapshot(read_lab(LAB_DIR)))
    config.pluginmanager.register(schedule, "s2p-schedule")  # longest tests first
    config.pluginmanager.register(cpu_usage, "s2p-cpu-usage")  # CPU seconds per test
    cpu_usage.report_in(config)


@pytest.fixture(scope="session")
def lab() -> dict:
    """The lab's endpoints (written by `lab up`); fails clearly when the lab is not up."""
    path = LAB_DIR / "endpoints.json"
    if not path.exists():
        pytest.fail(f"{path} not found: run `make lab-up` first")
    return json.loads(path.read_text())


@pytest.fixture
def prefix(request) -> str:
    """A random lower-case name prefix so parallel or repeated tests never collide. The leftover
    check counts a new lab object as this run's when its name holds one of these prefixes."""
    value = "t" + secrets.token_hex(3)
    record_prefix(request.config, value)
    return value


@pytest.fixture
def secret_marker() -> str:
    """A random value to plant as a secret and then look for in every output (assert_no_marker)."""
    return "marker-" + secrets.token_hex(8)


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port nothing listens on, as a stand-in for a stopped server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory) -> str:
    """A CA certificate file that signed nothing the lab serves (not the lab CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the lab CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path_factory.mktemp("other-ca") / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


@pytest.fixture
def run_playbook(tmp_path):
    """Run a play (YAML text, a list of plays, or a playbook path) against the lab inventory."""

    def _run(playbook, extravars: dict | None = None, check: bool = False, diff: bool = False,
             verbosity: int = 0, inventory: Path | str = LAB_INVENTORY, envvars: dict | None = None,
             limit: str | None = None) -> PlaybookRun:
        project = tmp_path / "project"
        project.mkdir(exist_ok=True)
        if isinstance(playbook, Path):
            playbook_path = playbook
        else:
            text = playbook if isinstance(playbook, str) else yaml.safe_dump(playbook, sort_keys=False)
            playbook_path = project / f"play_{secrets.token_hex(3)}.yml"
            playbook_path.write_text(text)
        cmdline = []
        if check:
            cmdline.append("--check")
        if diff:
            cmdline.append("--diff")
        env = {
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "S2P_LAB_DIR": str(LAB_DIR),
            # ansible-runner starts ansible-playbook by name: the project's venv comes first.
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            **(envvars or {}),
        }
        private_data_dir = tmp_path / f"runner_{secrets.token_hex(3)}"
        private_data_dir.mkdir()
        runner = ansible_runner.run(
            private_data_dir=str(private_data_dir),
            playbook=str(playbook_path),
            inventory=str(inventory),
            extravars=extravars or {},
            cmdline=" ".join(cmdline) or None,
            envvars=env,
            verbosity=verbosity,
            limit=limit,
            quiet=True,
        )
        stdout = runner.stdout.read()
        return PlaybookRun(rc=runner.rc, status=runner.status, stdout=stdout, events=list(runner.events))

    return _run
