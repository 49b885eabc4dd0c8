"""AWX 24.6.1 on http://127.0.0.1:18043 (REST API only), optional: `lab.py up awx`.

Not in the default services (a fresh machine spends minutes on it).  Built from the source
tarballs (lab/awx/awx_install.py; the built venv is cached in .lab/awx/cache/), run without
containers on its own PostgreSQL 15 cluster (127.0.0.1:18432, data in the lab folder, owned by
the postgres user) and its own redis-server on a unix socket.  Processes: `awx-manage
runserver` (the API), `run_dispatcher`, `run_callback_receiver` and the lab-only receptor
stand-in (lab/awx/receptor_standin.py), whose jobs run in their execution environment's image
on the lab's dockerd (lab/awx/podman_shim.py).

The database is migrated once per machine and AWX build (~6 min): the bootstrapped database
(admin user, preloaded data, instance and queues) is then kept as a `pg_dump -Fc` beside the
cached venv with the SECRET_KEY it was made with; a fresh database is restored from it.  The
admin password is random, in a 0600 file named in endpoints.json, never printed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import HOST, PORTS, ROOT, Health, Lab, LabError, port_open, run, wait_for

sys.path.insert(0, str(ROOT / "lab" / "awx"))

import awx_install
from services import dockerd, git_server

NAME = "awx"
APT = ["postgresql-15", "redis-server", "libldap2-dev", "libsasl2-dev", "libxmlsec1-dev", "libpq-dev",
       "pkg-config", "util-linux", "git"]  # git: the git server of its project (git_server)
API_PORT = PORTS[NAME]["api"]
PG_PORT = PORTS[NAME]["postgres"]
URL = f"http://{HOST}:{API_PORT}"
NODE = "s2p-lab-awx"  # CLUSTER_HOST_ID: fixed, so that the cached database fits every lab
# Project updates (git clones) run in the control-plane execution environment: the lab's EE image,
# built by `make ee` (it has git), never pulled (settings.py.in, _control_plane_ee()).
CONTROL_PLANE_EE = "s2p/ee:latest"
SYSTEM_UUID = "5a2b0000-1ab0-4a3c-9000-000000000001"
ADMIN = "admin"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
TEMPLATES = ROOT / "lab" / "awx"
PROCESSES = {  # PID name -> awx-manage arguments, in start order
    "awx-api": ["runserver", "--noreload", f"{HOST}:{API_PORT}"],
    "awx-dispatcher": ["run_dispatcher"],
    "awx-callback": ["run_callback_receiver"],
}
BOOTSTRAP = [  # after migrate: what an AWX installer does once (AWX.md)
    ["create_preload_data"],
    ["register_default_execution_environments"],
    ["provision_instance", f"--hostname={NODE}", "--node_type=hybrid"],
    ["register_queue", "--queuename=controlplane", f"--hostnames={NODE}"],
    ["register_queue", "--queuename=default", f"--hostnames={NODE}"],
]
SOCKET_MAX = 100  # sun_path is 108 bytes


# --- paths -----------------------------------------------------------------------------
def _paths(lab: Lab) -> dict[str, Path]:
    run_dir = lab.state / NAME / "run"  # made by up(); status() creates nothing
    short = Path("/run") / f"s2p-lab-{hashlib.sha256(str(lab.state).encode()).hexdigest()[:10]}-awx"
    sockets = run_dir / "sock"
    if len(str(sockets / "receptor.sock")) > SOCKET_MAX:  # CI may check out under a long path
        sockets = short
    return {
        "run": run_dir,
        "cache": lab.state / NAME / "cache",
        "settings": run_dir / "settings.py",
        "settings_dir": run_dir / "conf.d",
        "receptor_conf": run_dir / "receptor.conf",
        "data": run_dir / "data",
        "projects": run_dir / "data" / "projects",
        # AWX lists no playbook below a folder whose name starts with a dot (.lab): it sees the
        # manual projects through this link instead.
        "projects_link": short.with_name(short.name + "-projects"),
        "pgdata": run_dir / "pgdata",
        "sockets": sockets,
        "pgsock": sockets / "pg",
        "redis_sock": sockets / "redis.sock",
        "receptor_sock": sockets / "receptor.sock",
        "work": run_dir / "receptor-work",
        "bin": run_dir / "bin",
        "started": run_dir / "started",  # present while the lab AWX is meant to run
    }


def _secret(lab: Lab, name: str) -> Path:
    return lab.state / NAME / "run" / name


def _endpoint(lab: Lab) -> dict:
    return {"url": URL, "username": ADMIN, "password_file": str(_secret(lab, "admin-password")),
            "node": NODE, "version": awx_install.AWX_VERSION,
            "projects_root": str(_paths(lab)["projects"])}  # manual projects' folders


# --- health ----------------------------------------------------------------------------
def _get(path: str, auth: tuple[str, str] | None = None, timeout: float = 10) -> tuple[int, dict]:
    request = urllib.request.Request(f"{URL}{path}")
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, {}
    except ValueError:
        return 0, {}


def _problem(lab: Lab) -> str:
    """'' when the API answers, our instance is online with capacity and the admin logs in."""
    try:
        code, ping = _get("/api/v2/ping/", timeout=5)
    except OSError as err:
        return f"no answer on {URL}/api/v2/ping/ ({getattr(err, 'reason', err)})"
    if code != 200:
        return f"/api/v2/ping/ -> {code}"
    node = next((i for i in ping.get("instances", []) if i.get("node") == NODE), None)
    if node is None:
        return f"instance {NODE} not registered"
    if not node.get("capacity"):
        return f"instance {NODE} has no capacity yet (heartbeat {node.get('heartbeat')})"
    password = _read(_secret(lab, "admin-password"))
    code, me = _get("/api/v2/me/", auth=(ADMIN, password or ""))
    if code != 200:
        return f"authenticated GET /api/v2/me/ as {ADMIN} -> {code}"
    missing = [name for name in ("awx-receptor", "awx-dispatcher", "awx-callback") if lab.pid(name) is None]
    if missing:
        return f"not running: {', '.join(missing)}"
    return ""


# --- service contract ------------------------------------------------------------------
def status(lab: Lab) -> Health:
    """Never started (or stopped by `down`): healthy, "not started"; started: the checks."""
    if not _paths(lab)["started"].exists() and not any(lab.pid(n) for n in _all_names()):
        return Health(NAME, True, URL, "not started (optional: lab.py up awx)")
    problem = _problem(lab)
    online = f"AWX {awx_install.AWX_VERSION}, instance {NODE} online, login ok as {ADMIN}"
    return Health(NAME, not problem, URL, problem or online)


def up(lab: Lab) -> str:
    git_server.up(lab)  # the git server of the lab AWX's project
    paths = _paths(lab)
    lab.dir(f"{NAME}/run")
    lab.dir(f"{NAME}/cache")
    paths["started"].write_text("")
    built, seconds = awx_install.build(awx_install.source_dir(ROOT), paths["cache"], lab.log("awx-build"))
    if seconds is not None:
        print(f"lab: awx: venv built in {seconds:.0f}s", flush=True)
    venv = built / "venv"
    settings_changed = _write_config(lab, built)
    if not settings_changed and not _problem(lab):
        lab.set_endpoint(NAME, _endpoint(lab))
        return "already running"
    _stop_awx(lab)
    _start_postgres(lab)
    _start_redis(lab)
    _ensure_database(lab, built, venv)
    _control_plane_ee(lab)
    _start_receptor(lab, venv)
    for name, args in PROCESSES.items():
        lab.spawn(name, [str(venv / "bin" / "python"), str(venv / "bin" / "awx-manage"), *args], env=_env(lab, venv),
                  cwd=paths["run"])
    lab.wait_started("awx-api", lambda: port_open(API_PORT), f"{NAME} API on {URL}", timeout=180)
    wait_for(lambda: not _problem(lab) or _died(lab), f"{NAME} instance {NODE} online", timeout=180,
             log=lab.log("awx-dispatcher"))
    problem = _problem(lab)
    if problem:
        raise LabError(f"{NAME} started but is not healthy: {problem} (logs: {lab.log('awx-*')})")
    lab.set_endpoint(NAME, _endpoint(lab))
    return "started"


def down(lab: Lab) -> str:
    paths = _paths(lab)
    if not paths["run"].exists():
        return "not running"
    stopped = _stop_awx(lab) + [n for n in ("awx-redis", "awx-postgres") if lab.stop(n, timeout=30)]
    paths["started"].unlink(missing_ok=True)
    return f"stopped {', '.join(stopped)}" if stopped else "not running"


def _all_names() -> list[str]:
    return ["awx-receptor", *PROCESSES, "awx-redis", "awx-postgres"]


def _died(lab: Lab) -> bool:
    dead = [name for name in ("awx-receptor", *PROCESSES) if lab.pid(name) is None]
    if dead:
        raise LabError(f"{NAME}: {', '.join(dead)} exited during start-up; see {lab.log(dead[0])}")
    return False


def _stop_awx(lab: Lab) -> list[str]:
    """Stop the AWX processes and the stand-in, then what is left of the process group each one
    led (start_new_session): the dispatcher's workers, the stand-in's running units, also when
    the leader itself died.  PostgreSQL and redis stay."""
    stopped = []
    for name in [*reversed(PROCESSES), "awx-receptor"]:
        try:
            leader = int(lab.pidfile(name).read_text().strip())
        except (OSError, ValueError):
            continue
        if lab.stop(name, timeout=20):
            stopped.append(name)
        for pid in _group_members(leader, str(lab.state)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return stopped


def _group_members(pgid: int, marker: str) -> list[int]:
    """PIDs in process group `pgid` whose command line names `marker` (our lab folder): a
    reused group number never makes us kill someone else's process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


# --- configuration -----------------------------------------------------------------------
def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _write_config(lab: Lab, built: Path) -> bool:
    """Settings, receptor.conf and the podman link; True when the settings file changed."""
    paths, venv = _paths(lab), built / "venv"
    for name in ("websocket-secret", "db-password", "admin-password"):
        lab.read_or_create_secret(f"{NAME}/run/{name}", 32)
    if not _secret(lab, "secret-key").exists():
        lab.read_or_create_secret(f"{NAME}/run/secret-key", 48)
    for sub in ("projects", "job_status", "log", "tmp", "public/static", "venv"):
        (paths["data"] / sub).mkdir(parents=True, exist_ok=True)
    paths["settings_dir"].mkdir(exist_ok=True)
    paths["sockets"].mkdir(parents=True, exist_ok=True, mode=0o711)
    paths["bin"].mkdir(exist_ok=True)
    projects_root = paths["projects"]
    if any(part.startswith(".") for part in projects_root.parts):
        link = paths["projects_link"]
        if not link.is_symlink() or link.resolve() != projects_root.resolve():
            link.unlink(missing_ok=True)
            link.symlink_to(projects_root)
        projects_root = link
    podman = paths["bin"] / "podman"  # the units' `podman`: the shim, with the Python running the lab
    podman.unlink(missing_ok=True)
    podman.write_text(f'#!/bin/sh\nS2P_AWX_LAB_ENDPOINTS="{lab.state / "endpoints.json"}" '
                      f'exec "{sys.executable}" "{TEMPLATES / "podman_shim.py"}" "$@"\n')
    podman.chmod(0o755)
    paths["receptor_conf"].write_text(
        f"---\n- node:\n    id: {NODE}\n- control-service:\n    service: control\n"
        f"    filename: {paths['receptor_sock']}\n- work-command:\n    worktype: local\n"
        f"    command: {venv / 'bin' / 'ansible-runner'}\n    params: worker\n    allowruntimeparams: true\n")
    text = string.Template((TEMPLATES / "settings.py.in").read_text()).substitute(
        secret_key_file=_secret(lab, "secret-key"), websocket_secret_file=_secret(lab, "websocket-secret"),
        db_password_file=_secret(lab, "db-password"), host=HOST, pg_port=PG_PORT,
        redis_socket=paths["redis_sock"], data=paths["data"], projects_root=projects_root, node=NODE,
        system_uuid=SYSTEM_UUID, build=built.name, control_plane_ee=CONTROL_PLANE_EE)
    changed = _read(paths["settings"]) != text.strip()
    if changed:
        paths["settings"].write_text(text)
    return changed


def _env(lab: Lab, venv: Path) -> dict:
    paths = _paths(lab)
    return {
        "DJANGO_SETTINGS_MODULE": "awx.settings.production",
        "AWX_SETTINGS_FILE": str(paths["settings"]),
        "AWX_SETTINGS_DIR": str(paths["settings_dir"]),
        awx_install.RECEPTOR_CONF_ENV: str(paths["receptor_conf"]),
        "AWX_LOGGING_MODE": "stdout",  # each process logs to its file in the lab's logs/
        "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "VIRTUAL_ENV": str(venv),
        "HOME": str(paths["data"]),
    }


def _manage(lab: Lab, venv: Path, args: list[str], stdin: str | None = None, env: dict | None = None) -> None:
    """awx-manage ARGS, its output appended to logs/awx-manage.log as it comes (migrate is long)."""
    log_path = lab.log("awx-manage")
    with open(log_path, "a") as log:
        log.write(f"$ awx-manage {' '.join(args)}\n")
        log.flush()
        start = log.tell()
        proc = subprocess.run([str(venv / "bin" / "awx-manage"), *args], input=stdin, stdout=log,
                              stderr=subprocess.STDOUT, text=True, check=False,
                              env={**os.environ, **_env(lab, venv), **(env or {})}, cwd=_paths(lab)["run"])
    if proc.returncode != 0:
        with open(log_path, errors="replace") as log:
            log.seek(start)
            tail = "\n".join(log.read().splitlines()[-20:])
        raise LabError(f"awx-manage {args[0]} failed ({proc.returncode}; log {log_path}):\n{tail}")


# --- PostgreSQL and redis ------------------------------------------------------------------
def _as_postgres(argv: list[str]) -> list[str]:
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *argv]


def _postgres_ready(lab: Lab) -> bool:
    proc = subprocess.run([str(PG_BIN / "pg_isready"), "-q", "-h", str(_paths(lab)["pgsock"]), "-p", str(PG_PORT)],
                          check=False)
    return proc.returncode == 0


def _start_postgres(lab: Lab) -> None:
    paths = _paths(lab)
    lab.check_pid("awx-postgres", "postgres", str(paths["pgdata"]))
    if lab.pid("awx-postgres") and _postgres_ready(lab):
        return
    lab.stop("awx-postgres", timeout=30)
    # The postgres user must reach its folders: traverse (not list) the lab folders above them.
    for folder in (lab.state, lab.state / NAME, paths["run"]):
        folder.chmod(folder.stat().st_mode | 0o111)
    paths["pgsock"].mkdir(parents=True, exist_ok=True)
    shutil.chown(paths["pgsock"], "postgres", "postgres")
    reach = subprocess.run(_as_postgres(["test", "-w", str(paths["pgsock"])]), capture_output=True, check=False)
    if reach.returncode != 0:
        raise LabError(f"the postgres user cannot reach {paths['pgsock']}: every folder above the lab folder "
                       f"{lab.state} must be searchable by others (chmod o+x), or set S2P_LAB_DIR elsewhere")
    if not (paths["pgdata"] / "PG_VERSION").exists():
        shutil.rmtree(paths["pgdata"], ignore_errors=True)
        paths["pgdata"].mkdir(mode=0o700)
        shutil.chown(paths["pgdata"], "postgres", "postgres")
        run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(paths["pgdata"]), "-U", "postgres", "-E", "UTF8",
                          "--locale=C.UTF-8", "--auth-local=peer", "--auth-host=scram-sha-256"]),
            cwd="/")
    (paths["pgdata"] / "postmaster.pid").unlink(missing_ok=True)  # left by a killed server
    if port_open(PG_PORT):
        raise LabError(f"port {PG_PORT} is taken by a process that is not the lab's PostgreSQL for {NAME}")
    # fsync off: a lab database; after a crash the next `up` restores the cached dump.
    lab.spawn("awx-postgres", _as_postgres([
        str(PG_BIN / "postgres"), "-D", str(paths["pgdata"]), "-p", str(PG_PORT), "-c", f"listen_addresses={HOST}",
        "-c", f"unix_socket_directories={paths['pgsock']}", "-c", "fsync=off", "-c", "synchronous_commit=off",
        "-c", "full_page_writes=off", "-c", "max_connections=200"]), cwd=Path("/"))
    lab.wait_started("awx-postgres", lambda: _postgres_ready(lab), f"{NAME} PostgreSQL on {HOST}:{PG_PORT}", 60)


def _redis_ready(lab: Lab) -> bool:
    sock = _paths(lab)["redis_sock"]
    proc = subprocess.run(["redis-cli", "-s", str(sock), "ping"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() == "PONG"


def _start_redis(lab: Lab) -> None:
    paths = _paths(lab)
    if lab.pid("awx-redis") and _redis_ready(lab):
        return
    lab.stop("awx-redis")
    folder = paths["run"] / "redis"
    folder.mkdir(exist_ok=True)
    paths["redis_sock"].unlink(missing_ok=True)
    lab.spawn("awx-redis", ["redis-server", "--port", "0", "--unixsocket", str(paths["redis_sock"]),
                            "--unixsocketperm", "700", "--dir", str(folder), "--save", "", "--appendonly", "no",
                            "--daemonize", "no"])
    lab.wait_started("awx-redis", lambda: _redis_ready(lab), f"{NAME} redis on {paths['redis_sock']}", 30)


def _psql(lab: Lab, sql: str, database: str = "postgres") -> str:
    proc = run(_as_postgres([str(PG_BIN / "psql"), "-h", str(_paths(lab)["pgsock"]), "-p", str(PG_PORT),
                             "-d", database, "-v", "ON_ERROR_STOP=1", "-tAq", "-f", "-"]), input=sql, cwd="/")
    return proc.stdout.strip()


def _ensure_database(lab: Lab, built: Path, venv: Path) -> None:
    """The awx role and database; a new database is restored from the cached bootstrap dump,
    or migrated and bootstrapped (then dumped for the next time)."""
    password = _read(_secret(lab, "db-password")) or ""
    quoted = password.replace("'", "''")
    _psql(lab, "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'awx') THEN CREATE ROLE awx LOGIN; "
               f"END IF; END$$;\nALTER ROLE awx PASSWORD '{quoted}';")
    if _psql(lab, "SELECT 1 FROM pg_database WHERE datname = 'awx'") == "1":
        return
    _psql(lab, "CREATE DATABASE awx OWNER awx ENCODING 'UTF8';")
    dump, key = built / "bootstrap.dump", built / "bootstrap.secret-key"
    pg_env = {**os.environ, "PGPASSWORD": password}
    started = time.monotonic()
    if dump.exists() and key.exists():
        lab.write_secret(f"{NAME}/run/secret-key", key.read_text())
        run([str(PG_BIN / "pg_restore"), "-h", HOST, "-p", str(PG_PORT), "-U", "awx", "-d", "awx", "--no-owner",
             "--no-privileges", "--exit-on-error", str(dump)], env=pg_env)
        _set_admin_password(lab, venv)
        print(f"lab: awx: database restored from {dump} in {time.monotonic() - started:.0f}s", flush=True)
        return
    print(f"lab: awx: migrating a new database (about 6 minutes, once per machine and AWX build; "
          f"log {lab.log('awx-manage')})", flush=True)
    _manage(lab, venv, ["migrate", "--noinput"])
    _manage(lab, venv, ["createsuperuser", "--noinput", f"--username={ADMIN}", "--email=admin@localhost"],
            env={"DJANGO_SUPERUSER_PASSWORD": _read(_secret(lab, "admin-password")) or ""})
    for args in BOOTSTRAP:
        _manage(lab, venv, args)
    print(f"lab: awx: database migrated and bootstrapped in {time.monotonic() - started:.0f}s", flush=True)
    partial = dump.with_suffix(".partial")
    run([str(PG_BIN / "pg_dump"), "-h", HOST, "-p", str(PG_PORT), "-U", "awx", "-Fc", "-f", str(partial), "awx"],
        env=pg_env)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(_secret(lab, "secret-key").read_text())
    partial.chmod(0o600)
    partial.replace(dump)


def _control_plane_ee(lab: Lab) -> None:
    """The managed "Control Plane Execution Environment" record runs the lab's image, never pulled.

    register_default_execution_environments sets the image only when it bootstraps a database
    (not on one restored from the cached dump) and never sets `pull`; AWX's API refuses to change
    a managed record's image.  So every start sets both (before AWX runs: nothing caches it)."""
    done = _psql(lab, "UPDATE main_executionenvironment SET image = '%s', pull = 'never' "
                      "WHERE managed AND name = 'Control Plane Execution Environment' RETURNING id;"
                 % CONTROL_PLANE_EE, database="awx")
    if not done:
        raise LabError(f"{NAME}: the database has no managed 'Control Plane Execution Environment' to point at "
                       f"{CONTROL_PLANE_EE}")


def _set_admin_password(lab: Lab, venv: Path) -> None:
    """The restored admin gets this lab's password (read from its file, never on a command line)."""
    script = ("from django.contrib.auth.models import User\n"
              f"u = User.objects.get(username={ADMIN!r})\n"
              f"u.set_password(open({str(_secret(lab, 'admin-password'))!r}).read().strip())\n"
              "u.save()\n")
    _manage(lab, venv, ["shell"], stdin=script)


# --- the receptor stand-in -------------------------------------------------------------------
def _start_receptor(lab: Lab, venv: Path) -> None:
    paths = _paths(lab)
    lab.stop("awx-receptor")
    lab.spawn("awx-receptor", [
        sys.executable, str(TEMPLATES / "receptor_standin.py"), "--socket", str(paths["receptor_sock"]),
        "--node", NODE, "--workdir", str(paths["work"]), "--runner", str(venv / "bin" / "ansible-runner"),
        "--path-prepend", f"{paths['bin']}:{venv / 'bin'}"],
        env={"S2P_AWX_DOCKER_HOST": dockerd.docker_host(lab)})
    lab.wait_started("awx-receptor", paths["receptor_sock"].exists, f"{NAME} receptor stand-in", 30)
