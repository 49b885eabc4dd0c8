"""LAB-ONLY stand-in for receptor, the work mesh every AWX since 18 hands its jobs to.

The real receptor (Go) cannot be built on this machine kind (see docs/awx.md); production runs
it.  This stand-in is a single node with no mesh, no TLS and no work signing: it serves, on a
unix socket, the control-protocol subset that AWX 24 and receptorctl 1.4 use
(receptor_protocol.py) and runs `ansible-runner worker` for each work unit, the payload AWX
streams as its stdin and its stdout kept for `work results`.  Units live in memory (a restart
forgets them) with their files under --workdir.

Usage: receptor_standin.py --socket PATH --node ID --workdir DIR --runner PATH [--path-prepend DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import receptor_protocol as rp


class Unit:
    def __init__(self, unit_id: str, folder: Path, work_type: str, params: str):
        self.id, self.folder, self.work_type, self.params = unit_id, folder, work_type, params
        self.state, self.detail = rp.PENDING, "Pending"
        self.proc: subprocess.Popen | None = None
        self.done = threading.Event()

    @property
    def stdout(self) -> Path:
        return self.folder / "stdout"

    def status(self) -> dict:
        size = self.stdout.stat().st_size if self.stdout.exists() else 0
        return rp.unit_status(self.state, self.detail, size, self.work_type, self.params)


class StandIn:
    def __init__(self, node: str, workdir: Path, runner: str, path_prepend: str):
        self.node, self.workdir, self.runner = node, workdir, runner
        self.env = {**os.environ, "PATH": f"{path_prepend}:{os.environ.get('PATH', '')}" if path_prepend
                    else os.environ.get("PATH", "")}
        self.units: dict[str, Unit] = {}
        self.lock = threading.Lock()

    def unit(self, unit_id: str) -> Unit:
        with self.lock:
            found = self.units.get(unit_id)
        if found is None:
            raise rp.ProtocolError(f"unknown work unit {unit_id}")
        return found

    def start(self, submit: dict, payload: Path, unit: Unit) -> None:
        argv = rp.worker_argv(self.runner, submit)
        with open(payload, "rb") as stdin, open(unit.stdout, "wb") as stdout, \
                open(unit.folder / "stderr", "wb") as stderr:
            unit.proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, env=self.env,
                                         start_new_session=True)
        unit.state, unit.detail = rp.RUNNING, "Running: PID %d" % unit.proc.pid
        threading.Thread(target=self._wait, args=(unit,), daemon=True).start()

    def _wait(self, unit: Unit) -> None:
        code = unit.proc.wait()
        if unit.state == rp.RUNNING:
            if code == 0:
                unit.state, unit.detail = rp.SUCCEEDED, "exit status 0"
            else:
                err = (unit.folder / "stderr").read_text(errors="replace").strip()[-500:]
                unit.state, unit.detail = rp.FAILED, f"exit status {code}" + (f": {err}" if err else "")
        unit.done.set()

    def cancel(self, unit: Unit) -> None:
        if unit.proc and unit.proc.poll() is None:
            unit.state, unit.detail = rp.FAILED, "Canceled"
            try:
                os.killpg(unit.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def release(self, unit: Unit) -> None:
        self.cancel(unit)
        with self.lock:
            self.units.pop(unit.id, None)
        shutil.rmtree(unit.folder, ignore_errors=True)


class Handler(socketserver.StreamRequestHandler):
    server: Server

    def handle(self) -> None:
        standin = self.server.standin
        self.wfile.write(rp.greeting(standin.node))
        line = self.rfile.readline().decode(errors="replace")
        if not line:
            return
        try:
            command = rp.parse(line)
            self._dispatch(standin, command)
        except rp.ProtocolError as err:
            self.wfile.write(rp.error(str(err)))

    def _dispatch(self, standin: StandIn, command: rp.Command) -> None:
        if command.verb == "status":
            self.wfile.write(rp.reply(rp.mesh_status(standin.node)))
        elif command.verb == "list":
            with standin.lock:
                units = list(standin.units.values())
            self.wfile.write(rp.reply({u.id: u.status() for u in units}))
        elif command.verb == "status-unit":
            self.wfile.write(rp.reply(standin.unit(command.unit).status()))
        elif command.verb == "release":
            standin.release(standin.unit(command.unit))
            self.wfile.write(rp.reply({"released": command.unit}))
        elif command.verb == "cancel":
            standin.cancel(standin.unit(command.unit))
            self.wfile.write(rp.reply({"cancelled": command.unit}))
        elif command.verb == "results":
            self._results(standin.unit(command.unit), command.startpos)
        else:
            self._submit(standin, command.submit)

    def _submit(self, standin: StandIn, submit: dict) -> None:
        node = submit.get("node") or "localhost"
        if node not in ("localhost", standin.node):
            raise rp.ProtocolError(f"unknown node {node} (this mesh has one node, {standin.node})")
        unit_id = uuid.uuid4().hex[:8]
        folder = standin.workdir / unit_id
        folder.mkdir(parents=True, mode=0o700)
        unit = Unit(unit_id, folder, submit["worktype"], str(submit.get("params") or ""))
        with standin.lock:
            standin.units[unit_id] = unit
        self.wfile.write(rp.submitted(unit_id))
        self.wfile.flush()
        payload = folder / "stdin"
        with open(payload, "wb") as out:
            shutil.copyfileobj(self.rfile, out)  # until the client shuts its side
        try:
            standin.start(submit, payload, unit)
        except OSError as err:
            unit.state, unit.detail = rp.FAILED, f"cannot start {standin.runner}: {err}"
            unit.done.set()
        self.wfile.write(rp.reply({"result": "Job Started", "unitid": unit_id}))

    def _results(self, unit: Unit, startpos: int) -> None:
        self.wfile.write(rp.streaming(unit.id))
        self.wfile.flush()
        while not unit.stdout.exists() and not unit.done.is_set():
            time.sleep(0.1)
        if not unit.stdout.exists():
            return
        with open(unit.stdout, "rb") as source:
            source.seek(startpos)
            while True:
                finished = unit.done.is_set()  # read before the last chunk: nothing is lost
                chunk = source.read(65536)
                if chunk:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                elif finished:
                    return
                else:
                    time.sleep(0.1)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, standin: StandIn):
        self.standin = standin
        super().__init__(path, Handler)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--runner", required=True, help="the ansible-runner executable")
    parser.add_argument("--path-prepend", default="", help="folder put first on the units' PATH (podman)")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in args.workdir.iterdir():  # units of an earlier run are forgotten
        shutil.rmtree(stale, ignore_errors=True)
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    server = Server(args.socket, StandIn(args.node, args.workdir, args.runner, args.path_prepend))
    os.chmod(args.socket, 0o600)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"receptor stand-in (lab only): node {args.node}, control socket {args.socket}", flush=True)
    with server:
        server.serve_forever()
    os.unlink(args.socket)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
