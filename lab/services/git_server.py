"""A read-only git server on git://127.0.0.1:19418/, optional: `lab.py up git_server` (and `up awx`).

The lab AWX's project is a git project, as in production: AWX clones it in a project update (in
its control-plane execution environment) and never sees the checkout itself.  `git daemon`
serves the bare repositories of STATE/git_server/repos (one, esa.s2p.git, made by `up`);
playbooks/awx_configure.yml publishes the checkout it runs from into a branch of it by pushing
to the folder (lab/awx/publish_checkout.sh), so the daemon never accepts a push.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from common import HOST, PORTS, Health, Lab, LabError, port_open, run, wait_for

NAME = "git_server"
APT = ["git"]
PORT = PORTS[NAME]["git"]
REPOSITORY = "esa.s2p.git"
URL = f"git://{HOST}:{PORT}/{REPOSITORY}"
PROGRAM = "git-daemon"


def _repos(lab: Lab) -> Path:
    return lab.state / NAME / "repos"


def _daemon() -> str:
    exec_path = run(["git", "--exec-path"]).stdout.strip()
    daemon = Path(exec_path) / PROGRAM
    if not daemon.is_file():
        raise LabError(f"{daemon} not found: install the Debian package git")
    return str(daemon)


def _problem() -> str:
    """'' when the daemon lists the repository's references."""
    try:
        proc = subprocess.run(["git", "ls-remote", URL], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"git ls-remote {URL}: {err}"
    if proc.returncode != 0:
        return f"git ls-remote {URL} failed: {proc.stderr.strip()[-300:]}"
    return ""


def status(lab: Lab) -> Health:
    """Never started (or stopped by `down`): healthy, "not started"; started: git ls-remote."""
    lab.check_pid(NAME, PROGRAM, str(_repos(lab)))
    if lab.pid(NAME) is None and not (lab.state / NAME / "started").exists():
        return Health(NAME, True, URL, "not started (optional: lab.py up git_server)")
    problem = _problem()
    if problem:
        return Health(NAME, False, URL, problem)
    branches = len(run(["git", "--git-dir", str(_repos(lab) / REPOSITORY), "branch", "--list"]).stdout.split())
    return Health(NAME, True, URL, f"git daemon serving {REPOSITORY} (read-only, {branches} branches)")


def up(lab: Lab) -> str:
    repos = lab.dir(f"{NAME}/repos")
    bare = repos / REPOSITORY
    if not (bare / "HEAD").exists():
        run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare)])
    (lab.state / NAME / "started").write_text("")
    lab.check_pid(NAME, PROGRAM, str(repos))
    if lab.pid(NAME) and not _problem():
        _set_endpoint(lab)
        return "already running"
    lab.stop(NAME)
    if port_open(PORT):
        raise LabError(f"port {PORT} is taken by a process that is not the lab's {NAME}")
    lab.spawn(NAME, [_daemon(), "--reuseaddr", f"--listen={HOST}", f"--port={PORT}", f"--base-path={repos}",
                     "--export-all", "--informative-errors", str(repos)], cwd=repos)
    lab.wait_started(NAME, lambda: port_open(PORT), f"{NAME} on {HOST}:{PORT}", timeout=30)
    wait_for(lambda: not _problem(), f"{NAME}: git ls-remote {URL}", timeout=15, log=lab.log(NAME))
    _set_endpoint(lab)
    return "started"


def down(lab: Lab) -> str:
    lab.check_pid(NAME, PROGRAM, str(_repos(lab)))
    (lab.state / NAME / "started").unlink(missing_ok=True)
    return "stopped" if lab.stop(NAME) else "not running"


def _set_endpoint(lab: Lab) -> None:
    lab.set_endpoint(NAME, {"url": URL, "repository": str(_repos(lab) / REPOSITORY)})
