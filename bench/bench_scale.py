"""Benchmark: site.yml on the lab model scaled by 1, 4 and 16 (bench/scale_model.py).

Per factor, on a copy named with a random prefix (removed at the end, leftovers checked):
  first  the first run from nothing
  rerun  the no-op re-run
  check  the drift check (playbooks/drift.yml: the stages in check and diff mode, then the report)
         after a known drift (bench/scale_drift.py: a few objects per backend changed with the
         backends' own clients); the row records the planted changes the report missed, and the
         same check on the converged estate before the drift (its rows: false positives)
and the floor (bench/scale_floor.py: the reads a no-op needs, bare, plus an empty playbook).
Every run goes through counting proxies (bench/counting_proxies.py), one per backend, named in a
private copy of the lab's endpoints.json (S2P_LAB_DIR): requests per backend are exact, and split
by stage with the plays' start times (bench/callback_plugins/s2p_stage_times.py). Each run also
records what the machine's load does not change: the tasks started, the host results that were
not skipped, the module runs (scale_stages.task_counts) and cpu_s, the CPU seconds of
ansible-playbook with its workers and modules.

Writes bench/results/scale.json, one row per factor and phase (rows of other factors are kept,
so `--factors 16` adds to an earlier `--factors 1,4`); the anchor is the floor (ratio = floor /
ours). `--profile` prints every task of the re-run by time (profile_tasks).

  python bench/bench_scale.py [--factors 1,4,16] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from counting_proxies import DnsProxy, DockerSocketProxy, LdapProxy, proxy_cert
from results_io import RESULTS, result, timer, write
from scale_model import scaled_model, sizes
from scale_stages import per_stage, stage_windows, task_counts

ROOT = Path(__file__).resolve().parents[1]
LAB = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / ".build" / "collections"))

from ansible_collections.esa.s2p.plugins.module_utils.model.model import build_model  # noqa: E402
from counting_proxy import CountingProxy  # noqa: E402
from scale_drift import drift, missed  # noqa: E402  (imports the integration helpers)
from scale_floor import floor  # noqa: E402
from site_helpers import cleanup_checked  # noqa: E402

LAB_MODEL = ROOT / "inventories" / "lab" / "group_vars" / "all" / "model.yml"


class Proxies:
    """One counting proxy per backend and a lab folder naming them instead of the servers."""

    def __init__(self, lab: dict, workdir: Path):
        cert = proxy_cert(workdir, Path(lab["ca_file"]).parent)
        ca = lab["ca_file"]
        vcsim, bao, bind, slapd = lab["vcsim"], lab["openbao"], lab["bind"], lab["slapd"]
        bao_host, bao_port = bao["url"].split("//")[1].split(":")
        pebble_host, pebble_port = lab["pebble"]["directory_url"].split("//")[1].split("/")[0].split(":")
        ldap_host, ldap_port = slapd["ldaps_uri"].split("//")[1].rstrip("/").split(":")
        self.http = {"vsphere": CountingProxy(vcsim["hostname"], int(vcsim["port"]), ca, *cert),
                     "vault": CountingProxy(bao_host, int(bao_port), ca, *cert),
                     "acme": CountingProxy(pebble_host, int(pebble_port), ca, *cert, preserve_host=True)}
        self.ldap = LdapProxy((ldap_host, int(ldap_port)), ca, cert)
        self.dns = DnsProxy((bind["server"], int(bind["port"])))
        managers = lab["swarm_sites"]["managers"]
        self.docker = {site: DockerSocketProxy(url.split("unix://")[1], str(workdir / f"{site}.sock"))
                       for site, url in managers.items()}
        proxied = json.loads(json.dumps(lab))
        proxied["vcsim"].update(port=self.http["vsphere"].port,
                                url=f"https://127.0.0.1:{self.http['vsphere'].port}/sdk")
        proxied["openbao"]["url"] = f"https://127.0.0.1:{self.http['vault'].port}"
        proxied["pebble"]["directory_url"] = f"https://127.0.0.1:{self.http['acme'].port}/dir"
        proxied["slapd"]["ldaps_uri"] = f"ldaps://127.0.0.1:{self.ldap.port}"
        proxied["bind"].update(server="127.0.0.1", port=self.dns.port)
        proxied["swarm_sites"]["managers"] = {site: f"unix://{p.path}" for site, p in self.docker.items()}
        proxied["swarm_sites"]["docker_host"] = proxied["swarm_sites"]["managers"]["esoc"]
        self.lab = proxied
        self.lab_dir = workdir / "lab"
        self.lab_dir.mkdir()
        (self.lab_dir / "endpoints.json").write_text(json.dumps(proxied))

    def all(self) -> list:
        return [*self.http.values(), self.ldap, self.dns, *self.docker.values()]

    def __enter__(self):
        for proxy in self.all():
            proxy.__enter__()
        return self

    def __exit__(self, *exc):
        for proxy in self.all():
            proxy.__exit__(*exc)

    def events(self) -> dict[str, list[tuple[float, str]]]:
        """{backend: [(time, request)]} since the last reset."""
        found = {name: list(p.events) for name, p in self.http.items()}
        found["ldap"], found["dns"] = list(self.ldap.counts.events), list(self.dns.counts.events)
        found["swarm"] = sorted(e for p in self.docker.values() for e in p.counts.events)
        return found

    def reset(self) -> None:
        for proxy in self.http.values():
            proxy.reset()
        for proxy in (self.ldap, self.dns, *self.docker.values()):
            proxy.counts.reset()


def run_site(proxies: Proxies, extravars: Path, workdir: Path, check: bool = False, profile: bool = False,
             playbook: str = "site.yml", extra: tuple = ()) -> dict:
    proxies.reset()
    times, tasks = workdir / "plays.json", workdir / "tasks.json"
    callbacks = ["s2p_stage_times"] + (["ansible.posix.profile_tasks"] if profile else [])
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), S2P_LAB_DIR=str(proxies.lab_dir),
               ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).resolve().parent / "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED=",".join(callbacks), S2P_STAGE_TIMES=str(times),
               S2P_TASK_TIMES=str(tasks), PROFILE_TASKS_TASK_OUTPUT_LIMIT="all")
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(ROOT / "inventories" / "lab"),
               str(ROOT / "playbooks" / playbook), "-e", f"@{extravars}"] + (["--check"] if check else []) + list(extra)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with timer() as elapsed:
        proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if proc.returncode:  # the failure itself (a long progress list can follow it), then the end
        fatal = proc.stdout.rfind("fatal: ")
        raise RuntimeError("site.yml failed:\n" + (proc.stdout[fatal:fatal + 3000] + "\n...\n" if fatal >= 0 else "")
                           + proc.stdout[-1500:] + proc.stderr[-2000:])
    lines = proc.stdout.splitlines()
    if profile:
        start = max(i for i, line in enumerate(lines) if line.startswith("=" * 20))
        print("\n".join(lines[start + 1:]), flush=True)
    recap = [line for line in lines if line.startswith("localhost")][-1]
    events = proxies.events()
    return {"seconds": elapsed(), "cpu_s": round(cpu_s, 2), "changed": int(recap.split("changed=")[1].split()[0]),
            "changed_tasks": _changed_tasks(lines),
            "requests": {backend: len(found) for backend, found in events.items()},
            "requests_by_call": {backend: _by_call(found) for backend, found in events.items()},
            **task_counts(json.loads(tasks.read_text())),
            "stages": per_stage(stage_windows(json.loads(times.read_text())), events)}


def drift_check(proxies: Proxies, extravars: Path, workdir: Path) -> dict:
    """playbooks/drift.yml (site.yml's stages in check and diff mode, then the report): the run's
    figures with `report`, the rows of its JSON Lines report."""
    report = workdir / "drift.jsonl"
    report.unlink(missing_ok=True)
    run = run_site(proxies, extravars, workdir, check=True, playbook="drift.yml",
                   extra=("--diff", "-e", f"drift__report_path={report}"))
    run["report"] = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    return run


def _changed_tasks(lines: list[str]) -> list[str]:
    """The names of the tasks that reported changed (in check mode: would change)."""
    found, task = [], ""
    for line in lines:
        if line.startswith("TASK ["):
            task = line[len("TASK ["):].split("]")[0] + "]" + line.split("]", 1)[1].rstrip(" *")
        elif line.startswith("changed: ") and task not in found:
            found.append(task)
    return found


def _call(key: str) -> str:
    """An HTTP request's key without object names: path segments past the fourth, or long ones
    (ACME URLs, tokens), as *."""
    method, path = key.split(" ", 1) if " " in key else (key, "")
    if not path.startswith("/"):
        return key  # a SOAP method, an LDAP operation, a DNS message
    parts = path.split("/")
    return method + " " + "/".join(p if i < 5 and len(p) < 24 else "*" for i, p in enumerate(parts))


def _by_call(events) -> dict:
    counts: dict[str, int] = {}
    for _time, key in events:
        counts[_call(key)] = counts.get(_call(key), 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def load() -> str:
    """The machine's load averages (1, 5, 15 min): other runs on the machine distort the timings."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def bench_factor(lab: dict, factor: int, profile: bool) -> list[dict]:
    prefix = "b" + secrets.token_hex(3)
    variables = scaled_model(yaml.safe_load(LAB_MODEL.read_text()), factor, prefix)
    variables["preflight__dns_zones"] = ["s2p.esa.int", "10.in-addr.arpa"]
    model, size = build_model(variables), sizes(variables)
    print(f"== factor {factor}: prefix {prefix}, {size}, load {load()}", flush=True)
    runs, floor_figures = {}, {}
    with tempfile.TemporaryDirectory(prefix="s2p-scale-") as tmp, Proxies(lab, Path(tmp)) as proxies:
        extravars = Path(tmp) / "model.json"
        extravars.write_text(json.dumps(variables))
        try:
            for phase in ("first", "rerun"):
                runs[phase] = run_site(proxies, extravars, Path(tmp), profile=profile and phase == "rerun")
                runs[phase]["load"] = load()
                print(f"{phase:<6} {runs[phase]['seconds']:8.1f}s changed={runs[phase]['changed']} "
                      f"requests {runs[phase]['requests']} load {runs[phase]['load']}", flush=True)
            proxies.reset()
            floor_figures = floor(proxies.lab, prefix)
            floor_figures["requests"] = {b: len(e) for b, e in proxies.events().items() if e}
            print(f"floor  {floor_figures['seconds']:8.1f}s {floor_figures}", flush=True)
            converged = drift_check(proxies, extravars, Path(tmp))
            planted = drift(lab, prefix, model)
            runs["check"] = drift_check(proxies, extravars, Path(tmp))
            runs["check"].update(load=load(), drift=planted, drift_missed=missed(planted, runs["check"]["report"]),
                                 converged_check_s=converged["seconds"], converged_rows=converged["report"])
            print(f"check  {runs['check']['seconds']:8.1f}s changed={runs['check']['changed']} "
                  f"requests {runs['check']['requests']}; drift report: {len(runs['check']['report'])} rows, "
                  f"planted changes it missed {runs['check']['drift_missed']}; on the converged estate "
                  f"{len(converged['report'])} rows in {converged['seconds']:.1f}s", flush=True)
        finally:
            cleanup_checked(lab, prefix)
            print(f"cleanup of {prefix} complete (no leftovers)", flush=True)
    floor_s = floor_figures["seconds"]
    return [result(f"site.yml x{factor}", size["deployments"], phase, figures["seconds"], "floor", floor_s,
                   factor=factor, floor_s=floor_s, over_floor=round(figures.pop("seconds") / floor_s, 1),
                   floor=floor_figures, size=size, **figures)
            for phase, figures in runs.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--factors", default="1,4,16", help="comma-separated scale factors (default 1,4,16)")
    parser.add_argument("--profile", action="store_true", help="print every task of the re-runs by time")
    args = parser.parse_args()
    # stopped (kill PID, or Ctrl-C of a run started in the background, which ignores SIGINT): the
    # running factor's copy is still removed (bench_factor's finally)
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda number, frame: sys.exit(f"bench_scale: stopped by signal {number}"))
    factors = [int(f) for f in args.factors.split(",")]
    lab = json.loads((LAB / "endpoints.json").read_text())
    path = RESULTS / "scale.json"
    rows = json.loads(path.read_text()) if path.exists() else []
    rows = rows if isinstance(rows, list) else [rows]
    for factor in factors:
        fresh = bench_factor(lab, factor, args.profile)
        rows = [r for r in rows if r.get("factor") != factor] + fresh
        write("scale", sorted(rows, key=lambda r: (r["factor"], ["first", "rerun", "check"].index(r["phase"]))))


if __name__ == "__main__":
    main()
