"""playbooks/awx_configure.yml applied to the lab AWX from a test, under a random prefix
(awx_lab_prefix), and everything it made removed again: the AWX objects, the project's branch
on the lab's git server and AWX's clone of it."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from awx_jobs import lab_playbook, remove_organization
from awx_service_helpers import Awx


def apply(prefix: str) -> str:
    """ansible-playbook -i inventories/lab playbooks/awx_configure.yml -e awx_lab_prefix=PREFIX;
    its output (the run must succeed)."""
    proc = lab_playbook("awx_configure.yml", "-e", f"awx_lab_prefix={prefix}")
    assert proc.returncode == 0, f"awx_configure.yml failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout


def changed_tasks(stdout: str) -> dict[str, int]:
    """{task: number of changed results} from the default callback's output."""
    counts, task = {}, None
    for line in stdout.splitlines():
        match = re.match(r"TASK \[(.+?)\] \*", line)
        if match:
            task = match.group(1)
        elif line.startswith("changed: ["):
            counts[task] = counts.get(task, 0) + 1
    return counts


def project_branch(prefix: str) -> str:
    """The branch of the lab's git server that awx_configure.yml publishes the checkout to."""
    return f"{prefix}main"


def branch_commit(lab: dict, branch: str) -> str | None:
    proc = subprocess.run(["git", "--git-dir", lab["git_server"]["repository"], "rev-parse", "--verify", "--quiet",
                           f"refs/heads/{branch}"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None


def remove_prefixed(awx: Awx, lab: dict, prefix: str) -> None:
    """Every object awx_configure.yml made under the prefix (awx_jobs.remove_organization: the
    organization's content, the organization, its instance groups), the project's branch, and
    AWX's clone of the project and its cache folder (AWX's dispatcher removes them once the
    project is deleted; here too if it is slow or down)."""
    root, clones = Path(lab["awx"]["projects_root"]), []
    for org in awx.call("GET", f"/api/v2/organizations/?name={prefix}S2P")["results"]:
        for project in awx.call("GET", f"/api/v2/projects/?organization={org['id']}")["results"]:
            clones += [root / project["local_path"], root / ".__awx_cache" / project["local_path"]]
    remove_organization(awx, f"{prefix}S2P", root, f"{prefix}esa.s2p")
    if branch_commit(lab, project_branch(prefix)):
        subprocess.run(["git", "--git-dir", lab["git_server"]["repository"], "branch", "--quiet", "-D",
                        project_branch(prefix)], check=True)
    deadline = time.monotonic() + 60
    while any(c.exists() for c in clones) and time.monotonic() < deadline:
        time.sleep(1)
    for clone in clones:
        shutil.rmtree(clone, ignore_errors=True)
        clone.with_name(clone.name + ".lock").unlink(missing_ok=True)
