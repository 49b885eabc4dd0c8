"""Shared plumbing for the lab: state folder, fixed ports, processes by PID, the lab CA.

Every lab service lives in ``lab/services/<name>.py`` and exposes::

    NAME = "slapd"                 # key in PORTS / state folder name
    APT = ["slapd", "ldap-utils"]  # Debian packages it needs
    def up(lab: Lab) -> str        # idempotent: healthy -> do nothing, stale -> clean and start;
                                   # returns "started" or "already running"
    def status(lab: Lab) -> Health
    def down(lab: Lab) -> str      # stop only our own PIDs

Nothing here needs anything beyond the Python standard library and Debian tools,
so the lab can come up before the project's virtualenv exists.
"""

from __future__ import annotations

import dataclasses
import fcntl
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab")).resolve()
VENV_BIN = Path(os.environ.get("S2P_VENV", ROOT / ".venv")) / "bin"

HOST = "127.0.0.1"
# Fixed loopback ports, one block per service. Inventories and tests read them from
# STATE/endpoints.json, which `lab up` writes; this table is the only place they are set.
PORTS = {
    "vcsim": {"https": 18989},
    "slapd": {"ldap": 10389, "ldaps": 10636},
    "openbao": {"api": 18200, "cluster": 18201},
    "bind": {"dns": 10053},
    "pebble": {"acme": 14000, "management": 15000, "http01": 15002, "tlsalpn01": 15001},
    "dockerd": {},
    "awx": {"api": 18043, "postgres": 18432},
    "git_server": {"git": 19418},
}


def _port_overrides() -> None:
    """Scratch instances (a test that stops a server starts its own) take other ports:
    S2P_LAB_PORTS='{"slapd": {"ldap": 20389, "ldaps": 20636}}' with S2P_LAB_DIR elsewhere."""
    raw = os.environ.get("S2P_LAB_PORTS")
    if not raw:
        return
    try:
        overrides = json.loads(raw)
        for service, ports in overrides.items():
            unknown = set(ports) - set(PORTS[service])
            if unknown:
                raise KeyError(f"{service}: {', '.join(sorted(unknown))}")
            PORTS[service].update({name: int(port) for name, port in ports.items()})
    except (ValueError, KeyError, AttributeError, TypeError) as err:
        raise SystemExit(f"lab: S2P_LAB_PORTS is not a valid override of {json.dumps(PORTS)}: {err}") from None


_port_overrides()


class LabError(Exception):
    """A lab step failed; the message says what and where to look."""


@dataclasses.dataclass
class Health:
    name: str
    healthy: bool
    endpoint: str
    detail: str = ""


class Lab:
    """Context handed to every service: where state lives and how to run things."""

    def __init__(self, state: Path = STATE):
        self.state = state
        self.state.mkdir(parents=True, exist_ok=True, mode=0o700)

    def dir(self, name: str) -> Path:
        path = self.state / name
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def log(self, name: str) -> Path:
        return self.dir("logs") / f"{name}.log"

    # --- processes -------------------------------------------------------
    def pidfile(self, name: str) -> Path:
        return self.dir("pids") / f"{name}.pid"

    def pid(self, name: str) -> int | None:
        """PID of our running process `name`, or None (a stale PID file is removed)."""
        path = self.pidfile(name)
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            return None
        if _alive(pid):
            return pid
        path.unlink(missing_ok=True)
        return None

    def spawn(self, name: str, argv: list[str], env: dict | None = None, cwd: Path | None = None) -> int:
        """Start argv in the background, detached, logging to logs/<name>.log; record its PID."""
        log = open(self.log(name), "ab")
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True,
        )
        self.pidfile(name).write_text(str(proc.pid))
        return proc.pid

    def stop(self, name: str, timeout: float = 15) -> bool:
        """SIGTERM our process by PID, SIGKILL after timeout. True if something was stopped."""
        pid = self.pid(name)
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        self.pidfile(name).unlink(missing_ok=True)
        return True

    def still_running(self, name: str) -> bool:
        """True while our process lives; a process that died during start-up fails at once."""
        if self.pid(name) is not None:
            return True
        tail = "\n".join(self.log(name).read_text(errors="replace").splitlines()[-15:])
        raise LabError(f"{name} exited during start-up; last lines of {self.log(name)}:\n{tail}")

    def wait_started(self, name: str, healthy, what: str, timeout: float) -> None:
        """After spawn(): wait until healthy() is true; fail at once if the process died, or
        after `timeout` with the last lines of its log."""
        wait_for(lambda: self.still_running(name) and healthy(), what, timeout=timeout, log=self.log(name))

    def check_pid(self, name: str, program: str, marker: str) -> None:
        """Keep the PID file honest: drop it when its PID now runs another program (PIDs are
        reused, e.g. after a reboot), and re-record our process when its PID file was lost.
        Ours = argv[0] named `program` with `marker` (a path unique to this lab) in argv."""
        def ours(pid: int) -> bool:
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                return False
            return Path(argv[0].decode(errors="replace")).name == program and any(marker.encode() in a for a in argv)

        pid = self.pid(name)
        if pid is not None:
            if not ours(pid):
                self.pidfile(name).unlink(missing_ok=True)
            return
        found = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and ours(int(p.name))]
        if len(found) == 1:
            self.pidfile(name).write_text(str(found[0]))

    # --- secrets and endpoints -----------------------------------------------
    def write_secret(self, relpath: str, value: str) -> Path:
        path = self.state / relpath
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return path

    def read_or_create_secret(self, relpath: str, nbytes: int = 24) -> str:
        path = self.state / relpath
        if path.exists():
            return path.read_text().strip()
        import secrets
        value = secrets.token_urlsafe(nbytes)
        self.write_secret(relpath, value)
        return value

    def set_endpoint(self, name: str, data) -> None:
        """Merge `data` into STATE/endpoints.json under `name` (read by inventories and tests)."""
        path = self.state / "endpoints.json"
        # Locked read-modify-write: several `lab.py up <service>` may run at once.
        with open(self.state / ".endpoints.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = json.loads(path.read_text()) if path.exists() else {}
            if current.get(name) == data:
                return  # an unchanged lab leaves the file untouched
            current[name] = data
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
            tmp.replace(path)

    # --- the lab CA ----------------------------------------------------------
    @property
    def ca_cert(self) -> Path:
        return self.state / "ca" / "ca.crt"

    def ensure_ca(self) -> Path:
        """Create the lab CA once (kept across up/down; removed only by `lab clean`)."""
        ca = self.dir("ca")
        # Locked: `lab.py up` and `lab.py up awx` start at the same moment in CI's stages.
        with open(self.state / ".ca.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._make_ca(ca)
        return self.ca_cert

    def _make_ca(self, ca: Path) -> None:
        if not self.ca_cert.exists():
            run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", str(ca / "ca.key"), "-out", str(self.ca_cert), "-days", "3650",
                 "-subj", "/O=ESA S2P lab/CN=S2P lab CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            os.chmod(ca / "ca.key", 0o600)

    def server_cert(self, name: str, dns: tuple[str, ...] = ("localhost",),
                    ips: tuple[str, ...] = (HOST,)) -> tuple[Path, Path]:
        """A server certificate and key for `name`, signed by the lab CA; reused when present."""
        self.ensure_ca()
        folder = self.dir(f"ca/{name}")
        cert, key = folder / "server.crt", folder / "server.key"
        if cert.exists() and key.exists():
            return cert, key
        san = ",".join([f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips])
        csr = folder / "server.csr"
        ext = folder / "ext.cnf"
        ext.write_text(f"subjectAltName={san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(key), "-out", str(csr), "-subj", f"/O=ESA S2P lab/CN={dns[0]}"])
        run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(self.ca_cert),
             "-CAkey", str(self.state / "ca" / "ca.key"), "-CAcreateserial", "-days", "825",
             "-extfile", str(ext), "-out", str(cert)])
        os.chmod(key, 0o600)
        return cert, key


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command; on failure raise LabError with its output (never a bare traceback)."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    proc = subprocess.run(argv, **kwargs, check=False)
    if proc.returncode != 0:
        output = f"{proc.stdout or ''}{proc.stderr or ''}"
        raise LabError(f"{' '.join(map(str, argv))} failed ({proc.returncode}):\n{output}")
    return proc


def port_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ports_free(ports, timeout: float = 5) -> bool:
    """Wait for a process we just killed to release its ports; False if they stay taken."""
    deadline = time.monotonic() + timeout
    while any(port_open(p) for p in ports):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def wait_for(check, what: str, timeout: float = 60, log: Path | None = None) -> None:
    """Poll check() until true; on timeout raise LabError pointing at the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    tail = ""
    if log and log.exists():
        lines = log.read_text(errors="replace").splitlines()[-20:]
        tail = f"\n--- last lines of {log} ---\n" + "\n".join(lines)
    raise LabError(f"{what} did not become ready within {timeout:.0f}s{tail}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our child already exited) counts as dead.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


# --- Docker Engine API over a unix socket (dockerd, swarm_sites) -------------------------
class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def engine_call(sock: Path | str, method: str, path: str, body: dict | None = None, timeout: float = 10,
                where: str = ""):
    """(status, parsed JSON or text) of a Docker Engine API call on the daemon listening at unix
    socket `sock`; raises OSError when it is unreachable (`where` is added to that message)."""
    conn = _UnixConnection(str(sock), timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        raw = response.read().decode(errors="replace")
    except (http.client.HTTPException, ValueError) as err:
        raise OSError(f"Engine API {method} {path}{where}: {err}") from err
    finally:
        conn.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw


def engine_ping(sock: Path | str) -> bool:
    """Whether the daemon at unix socket `sock` answers GET /_ping."""
    try:
        return engine_call(sock, "GET", "/_ping", timeout=3) == (200, "OK")
    except OSError:
        return False
