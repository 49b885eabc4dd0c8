"""Benchmark: 20 projects x 3 environments = 60 stacks of 2-3 services, first deploy and no-change
re-run, esa.s2p.swarm_stack (one task, the whole batch) against community.docker.docker_stack (one
task per stack with a generated compose file, i.e. `docker stack deploy`) on the lab's three-site swarm.

Services run with S2P_BENCH_REPLICAS tasks each (default 0: the deploy path through the API is
measured, not container start-up on this 2-core vfs machine; docker stack deploy does not wait for
tasks either). Writes bench/results/swarm.json and prints the ratios."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from results_io import result, timer, write

ROOT = Path(__file__).resolve().parents[1]
LAB = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab"))
PROJECTS, ENVS = 20, ("ire", "preope", "ope")
REPLICAS = int(os.environ.get("S2P_BENCH_REPLICAS", "0"))


def model(prefix: str, image: str) -> list[dict]:
    stacks = []
    for p in range(PROJECTS):
        for env in ENVS:
            services = [{"name": name, "image": image, "replicas": REPLICAS,
                         "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
                         "env": {"S2P_ENV": env, "S2P_SERVICE": name}}
                        for name in ("web", "api", "worker")[: 2 + p % 2]]
            stacks.append({"name": f"{prefix}p{p:02d}-{env}", "services": services})
    return stacks


def compose(stack: dict) -> dict:
    return {"version": "3.8", "services": {
        s["name"]: {"image": s["image"], "command": s["command"], "environment": s["env"],
                    "deploy": {"replicas": s["replicas"],
                               "update_config": {"failure_action": "rollback", "order": "start-first"}}}
        for s in stack["services"]}}


def playbook(tasks: list[dict], folder: Path) -> Path:
    path = folder / f"play-{secrets.token_hex(3)}.yml"
    path.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False))
    return path


def run(path: Path) -> float:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "S2P_LAB_DIR": str(LAB)}
    with timer() as elapsed:
        proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i",
                               str(ROOT / "inventories" / "lab"), str(path)],
                              env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench_swarm: {path.name} failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    return elapsed()


def main() -> None:
    lab = json.loads((LAB / "endpoints.json").read_text())["swarm_sites"]
    host, image = lab["docker_host"], lab["image_digests"]["busybox"]
    tag = secrets.token_hex(2)
    ours, theirs = model(f"bo{tag}", image), model(f"ba{tag}", image)
    folder = Path(tempfile.mkdtemp(prefix="bench-swarm-"))
    files = []
    for stack in theirs:
        path = folder / f"{stack['name']}.yml"
        path.write_text(yaml.safe_dump(compose(stack), sort_keys=False))
        files.append((stack["name"], str(path)))
    ours_play = playbook([{"esa.s2p.swarm_stack": {"docker_host": host, "stacks": ours, "wait_timeout": 600}}],
                         folder)
    theirs_play = playbook([{"community.docker.docker_stack": {
        "docker_host": host, "name": "{{ item.0 }}", "compose": ["{{ item.1 }}"], "state": "present"},
        "loop": files}], folder)
    cleanup = playbook([{"esa.s2p.swarm_stack": {"docker_host": host, "stacks": [
        {"name": s["name"], "state": "absent"} for s in ours + theirs]}}], folder)
    try:
        ours_first, theirs_first = run(ours_play), run(theirs_play)
        ours_rerun, theirs_rerun = run(ours_play), run(theirs_play)
    finally:
        run(cleanup)
    n = len(ours)
    extra = {"services": sum(len(s["services"]) for s in ours), "replicas": REPLICAS}
    write("swarm", [
        result("swarm_stack", n, "first", ours_first, "community.docker.docker_stack", theirs_first, **extra),
        result("swarm_stack", n, "rerun", ours_rerun, "community.docker.docker_stack", theirs_rerun, **extra),
    ])


if __name__ == "__main__":
    main()
