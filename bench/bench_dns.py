"""DNS benchmark: N A records in one zone (default 1,000), created and then re-run with no change.

Ours: one esa.s2p.dns_record task (one read, one UPDATE per zone, split only at the 64 KiB
message limit). Anchor: a loop of community.general.nsupdate over the same records on the
same lab BIND (one module start, one query and one update per record). Also measures our
two ways of reading the state on the no-change run (AXFR vs one ANY query per name), which
decides read_mode=auto's threshold, and a run changing one record of the N (its UPDATE pins all
N RRsets as read). Every record is deleted afterwards.

Usage: python bench/bench_dns.py  (env S2P_BENCH_DNS_N=100 for a quick run)
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import dns.name
import dns.query
import dns.tsig
import dns.update
import yaml
from results_io import result, timer, write

ROOT = Path(__file__).resolve().parents[1]
LAB_DIR = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab"))
N = int(os.environ.get("S2P_BENCH_DNS_N", "1000"))
# The loop costs one module start per record, so its time grows linearly with the records: on a
# loaded machine it may be timed on the first ANCHOR_N records and scaled to N (reported as such).
ANCHOR_N = min(N, int(os.environ.get("S2P_BENCH_DNS_ANCHOR_N", str(N))))
ZONE = "s2p.esa.int"
CONNECTION = {"group/esa.s2p.dns": "{{ s2p_dns_connection }}"}


def playbook(tasks: list[dict]) -> list:
    return [{"name": "bench dns", "hosts": "localhost", "gather_facts": False,
             "module_defaults": CONNECTION, "tasks": tasks}]


def run(play: list, workdir: Path) -> dict:
    """Run the play; return {seconds, changed} (changed: the sum over the play's tasks)."""
    path = workdir / f"play_{secrets.token_hex(3)}.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), S2P_LAB_DIR=str(LAB_DIR),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_NOCOLOR="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    with timer() as elapsed:
        proc = subprocess.run(["ansible-playbook", "-i", str(ROOT / "inventories" / "lab"), str(path)],
                              capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench_dns: playbook failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    stats = json.loads(proc.stdout)["stats"]
    return {"seconds": elapsed(), "changed": sum(h["changed"] for h in stats.values())}


def records(prefix: str) -> list[dict]:
    return [{"name": f"r{i:04d}.{prefix}.{ZONE}", "type": "A", "values": [f"10.251.{i // 250}.{i % 250 + 1}"],
             "ttl": 300} for i in range(N)]


def ours(prefix: str, read_mode: str = "auto", changed_one: bool = False) -> list[dict]:
    batch = records(prefix)
    if changed_one:  # one value changed: the UPDATE still pins every RRset of the batch as read
        batch[N // 2] = dict(batch[N // 2], values=["10.251.255.1"])
    return playbook([{"name": "records", "esa.s2p.dns_record": {
        "records": batch, "owner": f"{prefix}/bench", "read_mode": read_mode}}])


def anchor(prefix: str) -> list[dict]:
    items = [{"record": r["name"] + ".", "value": r["values"][0]} for r in records(prefix)[:ANCHOR_N]]
    task = {"name": "nsupdate loop", "community.general.nsupdate": {
        "server": "{{ s2p_dns_connection.server }}", "port": "{{ s2p_dns_connection.port | int }}",
        "key_name": "{{ s2p_dns_connection.key_name }}", "key_secret": "{{ s2p_dns_connection.key_secret }}",
        "key_algorithm": "{{ s2p_dns_connection.key_algorithm }}", "zone": ZONE, "record": "{{ item.record }}",
        "type": "A", "ttl": 300, "value": "{{ item.value }}"}, "loop": items, "no_log": True}
    return [{"name": "bench dns anchor", "hosts": "localhost", "gather_facts": False, "tasks": [task]}]


def cleanup(prefixes: list[str]) -> None:
    """Delete every name under the benchmark's prefixes (and their ownership records)."""
    bind = json.loads((LAB_DIR / "endpoints.json").read_text())["bind"]
    key = dns.tsig.Key(bind["tsig_key_name"], Path(bind["tsig_secret_file"]).read_text().strip(),
                       bind["tsig_algorithm"])
    doomed = set()
    for message in dns.query.xfr(bind["server"], ZONE, port=bind["port"], keyring={key.name: key},
                                 keyname=key.name, relativize=False, lifetime=60):
        for rrset in message.answer:
            if any(f".{p}.{ZONE}." in rrset.name.to_text() for p in prefixes):
                doomed.add(rrset.name)
    names = sorted(doomed)
    for start in range(0, len(names), 500):
        update = dns.update.UpdateMessage(ZONE)
        for name in names[start:start + 500]:
            update.delete(name)
        update.use_tsig(key)
        dns.query.tcp(update, bind["server"], port=bind["port"], timeout=30)


def main() -> None:
    ours_prefix, anchor_prefix = "b" + secrets.token_hex(3), "b" + secrets.token_hex(3)
    with tempfile.TemporaryDirectory(prefix="bench-dns-") as tmp:
        workdir = Path(tmp)
        try:
            first = run(ours(ours_prefix), workdir)
            rerun = run(ours(ours_prefix), workdir)
            by_query = run(ours(ours_prefix, "query"), workdir)
            by_axfr = run(ours(ours_prefix, "axfr"), workdir)
            one_change = run(ours(ours_prefix, changed_one=True), workdir)
            assert first["changed"] == 1 and rerun["changed"] == by_query["changed"] == by_axfr["changed"] == 0
            assert one_change["changed"] == 1
            print(f"bench_dns: ours done ({first['seconds']:.1f}s, {rerun['seconds']:.1f}s, one change of {N} "
                  f"{one_change['seconds']:.1f}s); anchor loop of {ANCHOR_N} nsupdate tasks, twice: this takes a "
                  "while", flush=True)
            anchor_first = run(anchor(anchor_prefix), workdir)
            anchor_rerun = run(anchor(anchor_prefix), workdir)
        finally:
            cleanup([ours_prefix, anchor_prefix])
    anchor_name = "community.general.nsupdate loop"
    scale = N / ANCHOR_N
    if scale != 1:
        print(f"bench_dns: anchor timed on {ANCHOR_N} records ({anchor_first['seconds']:.1f}s, "
              f"{anchor_rerun['seconds']:.1f}s) and scaled by {scale:g} to {N}", flush=True)
        anchor_name += f" (timed on {ANCHOR_N}, scaled to {N})"
    anchor_first["seconds"] *= scale
    anchor_rerun["seconds"] *= scale
    extra = {"read_query_s": round(by_query["seconds"], 3), "read_axfr_s": round(by_axfr["seconds"], 3),
             "one_change_s": round(one_change["seconds"], 3)}
    write("dns", [
        result("dns_record", N, "first", first["seconds"], anchor_name, anchor_first["seconds"]),
        result("dns_record", N, "rerun", rerun["seconds"], anchor_name, anchor_rerun["seconds"], **extra),
    ])


if __name__ == "__main__":
    main()
