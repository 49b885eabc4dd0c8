"""The three-site swarm of the lab (lab/services/swarm_sites.py) on a scratch state folder:
cold up, warm up leaves it alone, killed daemons and a node that lost its swarm state are
recovered, every node pulls the registry's digest, down removes our processes, namespaces
and links.  The shared lab is never touched: names and subnet derive from the scratch folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import docker
import pytest
from scratch_lab import ScratchLab

# One xdist worker runs the whole module: its tests share one scratch swarm (a module fixture).
pytestmark = pytest.mark.xdist_group("scratch-swarm-sites")

SITES = ["esoc", "esec", "esrin"]


def _scratch(lab, prefix):
    scratch = ScratchLab(lab, ["swarm_sites"], prefix=prefix)

    def lab_py(*args, check=True):
        result = scratch.lab_py(*args)
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    return scratch, lab_py


@pytest.fixture(scope="module")
def scratch(lab):
    """One scratch swarm for the module; each test brings it up first (`up` is idempotent), so
    the tests pass in any order."""
    scratch, lab_py = _scratch(lab, "s2p-sites-")
    yield scratch.folder, lab_py
    scratch.down()


@pytest.fixture
def fresh(lab):
    """A scratch folder where swarm_sites never ran: for the cold start."""
    scratch, lab_py = _scratch(lab, "s2p-cold-")
    yield scratch.folder, lab_py
    scratch.down()


def _endpoints(folder: Path) -> dict:
    return json.loads((folder / "endpoints.json").read_text())["swarm_sites"]


def _client(folder: Path, site: str = "esoc") -> docker.DockerClient:
    return docker.DockerClient(base_url=_endpoints(folder)["managers"][site], timeout=30)


def _pid(folder: Path, name: str) -> int:
    return int((folder / "pids" / f"swarm_sites-{name}.pid").read_text())


def _alive(pid: int) -> bool:
    """True while pid runs; a zombie waiting for init to reap it counts as gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_cold_up_gives_three_labelled_managers_and_a_registry(fresh):
    folder, lab_py = fresh
    result = lab_py("up")
    assert "swarm_sites started" in result.stdout
    assert "swarm_sites healthy" in result.stdout
    nodes = _client(folder).nodes.list()
    assert sorted(n.attrs["Spec"]["Labels"]["site"] for n in nodes) == sorted(SITES)
    assert all(n.attrs["ManagerStatus"]["Reachability"] == "reachable" for n in nodes)
    # one cluster seen from every site
    clusters = {_client(folder, s).info()["Swarm"]["Cluster"]["ID"] for s in SITES}
    assert len(clusters) == 1


def test_warm_up_changes_nothing(scratch):
    folder, lab_py = scratch
    lab_py("up")
    pids = {p.name: p.read_text() for p in (folder / "pids").glob("*.pid")}
    result = lab_py("up")
    assert "already running" in result.stdout
    assert {p.name: p.read_text() for p in (folder / "pids").glob("*.pid")} == pids


def test_every_site_pulls_the_registry_digest(scratch, prefix):
    folder, lab_py = scratch
    lab_py("up")
    pinned = _endpoints(folder)["image_digests"]["busybox"]
    client = _client(folder)
    service = client.services.create(pinned, name=f"{prefix}-web", mode=docker.types.ServiceMode("global"),
                                     command=["httpd", "-f", "-p", "8080", "-h", "/var/www"])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            running = [t for t in service.tasks() if t["Status"]["State"] == "running"]
            if len(running) == len(SITES):
                break
            time.sleep(1)
        assert len(running) == len(SITES), service.tasks()
        for site in SITES:
            images = _client(folder, site).images.list()
            assert any(pinned in (i.attrs.get("RepoDigests") or []) for i in images), site
    finally:
        service.remove()


def test_killed_daemons_are_recovered(scratch):
    folder, lab_py = scratch
    lab_py("up")
    for site in ("esec", "esrin"):
        os.kill(_pid(folder, site), signal.SIGKILL)
    assert lab_py("status", check=False).returncode == 1
    result = lab_py("up")
    assert "swarm_sites started" in result.stdout and "swarm_sites healthy" in result.stdout
    # Usually the swarm comes back from its own raft state. Under CI load a restarted node was once
    # seen staying "down" past the lab's 120 s wait; the lab then rebuilt the swarm, which is a
    # recovery too (the next test covers the rebuild itself).
    if "rebuilding" in result.stdout:
        print("recovered by rebuilding the swarm:", result.stdout)


def test_a_node_that_lost_its_swarm_state_is_rejoined(scratch):
    folder, lab_py = scratch
    lab_py("up")
    before = _client(folder).info()["Swarm"]["Cluster"]["ID"]
    pid = _pid(folder, "esrin")
    os.kill(pid, signal.SIGTERM)
    while Path(f"/proc/{pid}").exists():
        time.sleep(0.2)
    shutil.rmtree(folder / "swarm_sites" / "esrin" / "data" / "swarm")
    result = lab_py("up")
    assert "rebuilding the three-site swarm" in result.stdout and "swarm_sites healthy" in result.stdout
    assert _client(folder).info()["Swarm"]["Cluster"]["ID"] != before


def test_down_removes_processes_namespaces_and_links(scratch):
    folder, lab_py = scratch
    lab_py("up")
    netns = _endpoints(folder)["netns"]
    pids = [int(p.read_text()) for p in (folder / "pids").glob("swarm_sites-*.pid")]
    assert len(pids) == 7  # three dockerd, three containerd, the registry
    assert "stopped" in lab_py("down").stdout
    assert not [p for p in pids if _alive(p)]
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    assert not [n for n in netns.values() if n in listed]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False).stdout
    tag = next(iter(netns.values())).split("-")[0]
    assert tag not in links and f"s2pw{tag[3:]}" not in links  # veths and the bridge
