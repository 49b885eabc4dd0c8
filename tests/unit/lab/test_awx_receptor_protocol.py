"""The lab receptor stand-in's protocol: the commands AWX 24 and receptorctl 1.4 send, the
replies receptorctl parses."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from lab_awx_modules import load

rp = load("receptor_protocol")


@pytest.mark.parametrize(("line", "verb", "unit", "startpos"), [
    ("status\n", "status", "", 0),
    ("work list\n", "list", "", 0),
    ("work status abc123\n", "status-unit", "abc123", 0),
    ("work release abc123\n", "release", "abc123", 0),
    ("work cancel abc123\n", "cancel", "abc123", 0),
    ("work results abc123 0\n", "results", "abc123", 0),
    ("work results abc123 4096\n", "results", "abc123", 4096),
])
def test_word_commands(line, verb, unit, startpos):
    command = rp.parse(line)
    assert (command.verb, command.unit, command.startpos) == (verb, unit, startpos)


def test_submit_as_receptorctl_sends_it():
    # receptorctl.socket_interface.submit_work: one JSON line, params merged in
    line = json.dumps({"command": "work", "subcommand": "submit", "node": "localhost", "worktype": "local",
                       "params": "--private-data-dir=/tmp/awx_1_x"}) + "\n"
    command = rp.parse(line)
    assert command.verb == "submit"
    assert rp.worker_argv("/venv/bin/ansible-runner", command.submit) == [
        "/venv/bin/ansible-runner", "worker", "--private-data-dir=/tmp/awx_1_x"]


@pytest.mark.parametrize(("line", "message"), [
    ("work frobnicate x\n", "unknown command"),
    ("work results abc x\n", "not a number"),
    ('{"command": "work", "subcommand": "submit", "worktype": "kubernetes-incluster-auth"}\n', "unknown work type"),
    ('{"command": "work", "subcommand": "verify"}\n', "unsupported work subcommand"),
    ("{not json\n", "invalid JSON"),
    ("connect node control tls\n", "unknown command"),
])
def test_refused_commands_say_why(line, message):
    with pytest.raises(rp.ProtocolError, match=message):
        rp.parse(line)


def test_replies_match_receptorctl_patterns():
    # The regular expressions of receptorctl 1.4's socket_interface.py
    assert re.fullmatch("Receptor Control, node (.+)", rp.greeting("n1").decode().strip())
    assert re.fullmatch("Work unit created with ID (.+). Send stdin data and EOF.", rp.submitted("u1").decode().strip())
    assert re.fullmatch("Streaming results for work unit (.+)", rp.streaming("u1").decode().strip())
    assert rp.error("unknown work unit u9").decode() == "ERROR: unknown work unit u9\n"
    assert json.loads(rp.reply({"released": "u1"})) == {"released": "u1"}


def test_mesh_status_as_awx_reads_it():
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    status = rp.mesh_status("s2p-lab-awx", now)
    (ad,) = status["Advertisements"]
    assert ad["NodeID"] == "s2p-lab-awx"
    assert ad["ConnType"] == 1  # awx ReceptorConnectionType.STREAM
    assert ad["Time"] == "2026-01-02T03:04:05.000000Z"
    assert status["KnownConnectionCosts"] == {"s2p-lab-awx": {}}


def test_unit_status_as_awx_reads_it():
    status = rp.unit_status(rp.FAILED, "exit status 1", 12, "local", "--worker-info")
    assert status["StateName"] == "Failed"
    assert status["StdoutSize"] == 12
    # administrative_workunit_reaper reads these
    assert status["ExtraData"]["RemoteParams"]["params"] == "--worker-info"
