"""The lab-only receptor stand-in (lab/awx/receptor_standin.py) over its real unix socket, driven
as receptorctl 1.4 drives it, with a small shell script in place of `ansible-runner worker`.
Needs no lab service (the real AWX path is in test_awx_service.py)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STANDIN = ROOT / "lab" / "awx" / "receptor_standin.py"
FAKE_RUNNER = """#!/bin/sh
# $1 is "worker", the rest AWX's runtime params
case "$2" in --sleep) exec sleep 60 ;; esac
echo "argv: $*"
cat
if [ "$2" = "--fail" ]; then echo "worker broke" >&2; exit 3; fi
"""


@pytest.fixture
def standin(tmp_path):
    runner = tmp_path / "runner"
    runner.write_text(FAKE_RUNNER)
    runner.chmod(0o755)
    sock = tmp_path / "receptor.sock"
    proc = subprocess.Popen([sys.executable, str(STANDIN), "--socket", str(sock), "--node", "lab-node",
                             "--workdir", str(tmp_path / "work"), "--runner", str(runner)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 20
    while not sock.exists():
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, "the stand-in did not create its socket"
        time.sleep(0.05)
    yield sock
    proc.terminate()
    proc.wait(timeout=10)
    assert not sock.exists(), "the stand-in leaves no socket behind"


def session(sock: Path) -> tuple[socket.socket, object]:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(str(sock))
    stream = conn.makefile("rwb")
    assert stream.readline() == b"Receptor Control, node lab-node\n"
    return conn, stream


def command(sock: Path, line: str):
    conn, stream = session(sock)
    with conn:
        stream.write(line.encode() + b"\n")
        stream.flush()
        reply = stream.readline().decode().strip()
    return reply if reply.startswith("ERROR:") else json.loads(reply)


def submit(sock: Path, params: str, payload: bytes) -> str:
    conn, stream = session(sock)
    with conn:
        stream.write(json.dumps({"command": "work", "subcommand": "submit", "node": "localhost",
                                 "worktype": "local", "params": params}).encode() + b"\n")
        stream.flush()
        assert stream.readline().decode().endswith(". Send stdin data and EOF.\n")
        stream.write(payload)
        stream.flush()
        conn.shutdown(socket.SHUT_WR)
        result = json.loads(stream.readline())
    assert result["result"] == "Job Started"
    return result["unitid"]


def results(sock: Path, unit: str, startpos: int = 0) -> bytes:
    conn, stream = session(sock)
    with conn:
        stream.write(f"work results {unit} {startpos}\n".encode())
        stream.flush()
        assert stream.readline() == f"Streaming results for work unit {unit}\n".encode()
        conn.shutdown(socket.SHUT_WR)
        return stream.read()  # until the unit ends


def test_a_unit_runs_the_worker_with_the_payload_and_is_released(standin):
    assert command(standin, "status")["Advertisements"][0]["NodeID"] == "lab-node"
    unit = submit(standin, "--private-data-dir=/tmp/awx_1", b"payload-bytes\n")
    stdout = b"argv: worker --private-data-dir=/tmp/awx_1\npayload-bytes\n"
    assert results(standin, unit) == stdout
    assert results(standin, unit, startpos=6) == stdout[6:]
    status = command(standin, f"work status {unit}")
    assert (status["StateName"], status["StdoutSize"]) == ("Succeeded", len(stdout))
    assert unit in command(standin, "work list")
    assert command(standin, f"work release {unit}") == {"released": unit}
    assert command(standin, f"work status {unit}") == f"ERROR: unknown work unit {unit}"
    assert command(standin, "work list") == {}


def test_a_failing_worker_fails_its_unit_with_its_error(standin):
    unit = submit(standin, "--fail", b"")
    results(standin, unit)
    status = command(standin, f"work status {unit}")
    assert status["StateName"] == "Failed"
    assert status["Detail"] == "exit status 3: worker broke"


def test_cancel_stops_a_running_unit(standin):
    unit = submit(standin, "--sleep", b"")
    started = time.monotonic()
    assert command(standin, f"work status {unit}")["StateName"] == "Running"
    assert command(standin, f"work cancel {unit}") == {"cancelled": unit}
    assert results(standin, unit) == b""  # the stream ends once the worker is gone
    assert time.monotonic() - started < 20
    assert command(standin, f"work status {unit}")["Detail"] == "Canceled"


def test_unknown_commands_and_nodes_are_refused(standin):
    assert command(standin, "work frobnicate").startswith("ERROR: unknown command")
    conn, stream = session(standin)
    with conn:
        stream.write(json.dumps({"command": "work", "subcommand": "submit", "node": "elsewhere",
                                 "worktype": "local"}).encode() + b"\n")
        stream.flush()
        assert stream.readline().decode().startswith("ERROR: unknown node elsewhere")
