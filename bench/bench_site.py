"""Benchmark: the whole site.yml on the lab model, first run and no-change re-run.

The model is the lab inventory's (ten projects, 48 VMs, 31 deployments, two Flyeye stations),
renamed with a random prefix (tests/integration/site_helpers.py) so the first run really
starts from nothing and the lab model's own objects are left alone; everything made is
removed at the end. The anchor is our own first run: the re-run of a converged estate must
take at most a quarter of it (ratio = first / re-run, target >= 4). Writes
bench/results/site.json."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from results_io import result, timer, write

ROOT = Path(__file__).resolve().parents[1]
LAB = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from site_helpers import cleanup, prefixed_model  # noqa: E402  (after the path is set)


def run_site(extravars: Path, profile: bool = False) -> tuple[float, str]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), S2P_LAB_DIR=str(LAB))
    if profile:  # every task of the run by time, printed before the timing line
        env.update(ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", PROFILE_TASKS_TASK_OUTPUT_LIMIT="all")
    with timer() as elapsed:
        playbook = str(Path(sys.executable).parent / "ansible-playbook")
        proc = subprocess.run([playbook, "-i", str(ROOT / "inventories" / "lab"),
                               str(ROOT / "playbooks" / "site.yml"), "-e", f"@{extravars}"],
                              env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit("site.yml failed:\n" + proc.stdout[-4000:] + proc.stderr[-2000:])
    lines = proc.stdout.splitlines()
    recap = [line for line in lines if line.startswith("localhost")]
    if profile:
        start = max(i for i, line in enumerate(lines) if line.startswith("=" * 20))
        print("\n".join(lines[start + 1:]), flush=True)
    return elapsed(), recap[-1] if recap else ""


def main() -> None:
    profile = "--profile" in sys.argv[1:]  # bench_site.py --profile: also print every task of each run by time
    lab = json.loads((LAB / "endpoints.json").read_text())
    prefix = "b" + secrets.token_hex(3)
    model = prefixed_model(prefix)
    model["preflight__dns_zones"] = ["s2p.esa.int", "10.in-addr.arpa"]
    with tempfile.TemporaryDirectory() as tmp:
        extravars = Path(tmp) / "model.json"
        extravars.write_text(json.dumps(model))
        try:
            first, first_recap = run_site(extravars, profile)
            print(f"first run  {first:8.1f}s  {first_recap}", flush=True)
            rerun, rerun_recap = run_site(extravars, profile)
            print(f"re-run     {rerun:8.1f}s  {rerun_recap}", flush=True)
        finally:
            cleanup(lab, prefix)
    deployments = sum(len(p["environments"]) for p in model["s2p_projects"])
    write("site", [result("site.yml lab model", deployments, "rerun", rerun, "first run", first,
                          changed_on_rerun=int(rerun_recap.split("changed=")[1].split()[0]) if "changed=" in rerun_recap
                          else None)])


if __name__ == "__main__":
    main()
