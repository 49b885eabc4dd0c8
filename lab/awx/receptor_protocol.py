"""The part of receptor's control-socket protocol that AWX 24 and receptorctl 1.4 speak (pure
logic, no I/O; used by the lab-only receptor stand-in and its unit tests).

A session: the server greets with "Receptor Control, node <id>"; the client sends one command
line, either words ("status", "work list", "work status <unit>", "work release <unit>",
"work cancel <unit>", "work results <unit> <startpos>") or JSON ({"command": "work",
"subcommand": "submit", "worktype": ..., "node": ..., "params": ...}).  Replies are one JSON
line, or a line "ERROR: <message>".  `work submit` answers "Work unit created with ID <unit>.
Send stdin data and EOF.", reads the payload until the client shuts its side, then answers
{"result": "Job Started", "unitid": <unit>}.  `work results` answers "Streaming results for work
unit <unit>" and streams the unit's stdout from <startpos> until the unit ends.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import shlex

# receptor's workceptor states
PENDING, RUNNING, SUCCEEDED, FAILED = 0, 1, 2, 3
STATE_NAMES = {PENDING: "Pending", RUNNING: "Running", SUCCEEDED: "Succeeded", FAILED: "Failed"}
CONN_STREAM = 1  # netceptor's connection type of a plain (non-TLS) stream
WORK_TYPES = ("local", "ansible-runner")  # both run `ansible-runner worker` here


class ProtocolError(Exception):
    """A command the stand-in does not understand; sent back as "ERROR: <message>"."""


@dataclasses.dataclass
class Command:
    verb: str  # status | list | status-unit | release | cancel | results | submit
    unit: str = ""
    startpos: int = 0
    submit: dict = dataclasses.field(default_factory=dict)


def greeting(node: str) -> bytes:
    return f"Receptor Control, node {node}\n".encode()


def parse(line: str) -> Command:
    """One command line as a Command; ProtocolError naming what is wrong."""
    text = line.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ProtocolError(f"invalid JSON command: {err}") from None
        if not isinstance(data, dict) or data.get("command") != "work":
            raise ProtocolError(f"unsupported JSON command {text[:80]!r}")
        if data.get("subcommand") != "submit":
            raise ProtocolError(f"unsupported work subcommand {data.get('subcommand')!r}")
        if data.get("worktype") not in WORK_TYPES:
            raise ProtocolError(f"unknown work type {data.get('worktype')!r} (this node runs {', '.join(WORK_TYPES)})")
        return Command("submit", submit=data)
    words = text.split()
    if words == ["status"]:
        return Command("status")
    if words == ["work", "list"]:
        return Command("list")
    if len(words) == 3 and words[0] == "work" and words[1] in ("status", "release", "cancel"):
        verb = {"status": "status-unit", "release": "release", "cancel": "cancel"}[words[1]]
        return Command(verb, unit=words[2])
    if len(words) in (3, 4) and words[:2] == ["work", "results"]:
        startpos = words[3] if len(words) == 4 else "0"
        if not startpos.isdigit():
            raise ProtocolError(f"work results: start position {startpos!r} is not a number")
        return Command("results", unit=words[2], startpos=int(startpos))
    raise ProtocolError(f"unknown command {text[:80]!r} (the lab's receptor stand-in serves status and "
                        "work submit/status/results/release/cancel/list)")


def worker_argv(command: str, submit: dict) -> list[str]:
    """The argv of a unit: `<command> worker` plus the runtime params AWX sends
    ("--private-data-dir=/x [--delete]", or "--worker-info")."""
    return [command, "worker", *shlex.split(str(submit.get("params") or ""))]


def unit_status(state: int, detail: str, stdout_size: int, work_type: str, params: str) -> dict:
    """A unit as `work status` / `work list` show it."""
    return {
        "State": state,
        "StateName": STATE_NAMES[state],
        "Detail": detail,
        "StdoutSize": stdout_size,
        "WorkType": work_type,
        "ExtraData": {"RemoteWorkType": work_type, "RemoteParams": {"params": params}},
    }


def mesh_status(node: str, now: datetime.datetime | None = None) -> dict:
    """`status` of a one-node mesh: the node advertises its work types."""
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "NodeID": node,
        "SystemCPUCount": 0,
        "SystemMemoryMiB": 0,
        "Connections": [],
        "RoutingTable": {},
        "KnownConnectionCosts": {node: {}},
        "Advertisements": [{
            "NodeID": node, "Service": "control", "ConnType": CONN_STREAM, "Time": stamp, "Tags": None,
            "WorkCommands": [{"WorkType": t, "Secure": False} for t in WORK_TYPES],
        }],
    }


def reply(data) -> bytes:
    return (json.dumps(data) + "\n").encode()


def error(message: str) -> bytes:
    return f"ERROR: {message}\n".encode()


def submitted(unit: str) -> bytes:
    return f"Work unit created with ID {unit}. Send stdin data and EOF.\n".encode()


def streaming(unit: str) -> bytes:
    return f"Streaming results for work unit {unit}\n".encode()
