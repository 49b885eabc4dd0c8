"""The floor of a no-op site.yml run: a bare script (pyVmomi, ldap3, hvac, dnspython, docker SDK;
no Ansible) that reads the state a no-op run must read for the estate named with a prefix,
plus the time of an empty ansible-playbook run (one debug task on localhost).

What it reads, each in as few requests as the backend allows:
- vSphere: every VM (name, size, power, marker, folder) in one property-collector call
- DNS: an AXFR of each zone (s2p.esa.int, 10.in-addr.arpa)
- LDAP: one subtree search of the service accounts and one of the groups
- Vault: the list of policies and of AppRoles, each of ours read (Vault has no bulk read), and
  every KV secret under <segment>/<prefix>* listed and read one by one (the same reason); the
  reads VAULT_WORKERS at a time, as the collection's modules read them (a sequential floor
  would grow faster than a no-op run and flatter the ratio at large factors)
- Swarm: one list each of services, tasks, networks, secrets, configs and nodes

  python bench/scale_floor.py PREFIX     (a converged estate named with PREFIX, e.g. by bench_scale.py)
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dns.query
import dns.tsig
import docker
import hvac
import ldap3
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

ROOT = Path(__file__).resolve().parents[1]
LAB = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab"))
SEGMENTS = ("swe", "sd", "pd", "dsdc")
VAULT_WORKERS = 8  # the modules' bound (module_utils/vault/project.py, workflows/credential.py)
VM_PROPERTIES = ["name", "parent", "runtime.powerState", "config.hardware.numCPU", "config.hardware.memoryMB",
                 "config.extraConfig", "config.hardware.device"]


def _vsphere(lab: dict, prefix: str) -> int:
    vcsim = lab["vcsim"]
    si = SmartConnect(host=vcsim["hostname"], port=vcsim["port"], user=vcsim["username"],
                      pwd=Path(vcsim["password_file"]).read_text().strip(),
                      sslContext=ssl.create_default_context(cafile=lab["ca_file"]))
    try:
        content = si.content
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        collector = vmodl.query.PropertyCollector
        traverse = collector.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)
        spec = collector.FilterSpec(objectSet=[collector.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
                                    propSet=[collector.PropertySpec(type=vim.VirtualMachine, pathSet=VM_PROPERTIES)])
        found = [c for c in content.propertyCollector.RetrieveContents([spec])
                 if any(p.name == "name" and p.val.find(prefix) >= 0 for p in c.propSet)]
        view.DestroyView()
        return len(found)
    finally:
        Disconnect(si)


def _dns(lab: dict, prefix: str) -> int:
    bind = lab["bind"]
    key = dns.tsig.Key(bind["tsig_key_name"], Path(bind["tsig_secret_file"]).read_text().strip(),
                       bind["tsig_algorithm"])
    found = 0
    for zone in ("s2p.esa.int", "10.in-addr.arpa"):
        for message in dns.query.xfr(bind["server"], zone, port=int(bind["port"]), keyring={key.name: key},
                                     keyname=key.name, relativize=False, lifetime=60):
            found += sum(1 for rrset in message.answer
                         if prefix in rrset.name.to_text() or any(prefix in r.to_text() for r in rrset))
    return found


def _ldap(lab: dict, prefix: str) -> int:
    slapd = lab["slapd"]
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=lab["ca_file"])
    conn = ldap3.Connection(ldap3.Server(slapd["ldaps_uri"], use_ssl=True, tls=tls, get_info=ldap3.NONE),
                            slapd["admin_dn"], Path(slapd["admin_password_file"]).read_text().strip(),
                            auto_bind=True)
    try:
        found = 0
        for ou, attribute in (("services", "uid"), ("groups", "cn")):
            conn.search(f"ou={ou},{slapd['base_dn']}", f"({attribute}={prefix}*)", attributes=["*", "+"])
            found += len(conn.entries)
        return found
    finally:
        conn.unbind()


def _vault(lab: dict, prefix: str) -> int:
    bao = lab["openbao"]
    token = Path(bao["root_token_file"]).read_text().strip()
    client = hvac.Client(url=bao["url"], token=token, verify=lab["ca_file"])
    policies = [p for p in client.sys.list_acl_policies()["data"]["keys"] if prefix in p]
    roles = [r for r in client.auth.approle.list_roles()["data"]["keys"] if prefix in r]
    secrets, folders = [], [f"{segment}/" for segment in SEGMENTS]
    while folders:
        folder = folders.pop()
        try:
            keys = client.secrets.kv.v2.list_secrets(path=folder, mount_point=bao["kv_mount"])["data"]["keys"]
        except hvac.exceptions.InvalidPath:
            continue
        for key in keys:
            if folder.count("/") == 1 and not key.startswith(prefix):
                continue  # <segment>/<project>/: only ours
            (folders if key.endswith("/") else secrets).append(folder + key)
    reads = ([lambda c, p=p: c.sys.read_acl_policy(p) for p in policies]
             + [lambda c, r=r: c.auth.approle.read_role(r) for r in roles]
             + [lambda c, s=s: c.secrets.kv.v2.read_secret_version(path=s, mount_point=bao["kv_mount"],
                                                                   raise_on_deleted_version=True) for s in secrets])
    clients = [hvac.Client(url=bao["url"], token=token, verify=lab["ca_file"]) for _worker in range(VAULT_WORKERS)]
    with ThreadPoolExecutor(max_workers=VAULT_WORKERS) as pool:
        list(pool.map(lambda index: [read(clients[index]) for read in reads[index::VAULT_WORKERS]],
                      range(VAULT_WORKERS)))
    return len(policies) + len(roles) + len(secrets)


def _swarm(lab: dict, prefix: str) -> int:
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    try:
        services = [s for s in client.services() if s["Spec"]["Name"].startswith(prefix)]
        client.tasks()
        for listing in (client.networks, client.secrets, client.configs, client.nodes):
            listing()
        return len(services)
    finally:
        client.close()


def empty_playbook_s() -> float:
    """An ansible-playbook run of one debug task on localhost, with the project's configuration."""
    with tempfile.TemporaryDirectory() as tmp:
        playbook = Path(tmp) / "empty.yml"
        playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                            "    - ansible.builtin.debug: {msg: floor}\n")
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)],
                       env=env, check=True, capture_output=True, cwd=str(ROOT))
        return time.perf_counter() - start


def floor(lab: dict, prefix: str) -> dict:
    """{seconds, per backend: {s, objects}, empty_playbook_s}; seconds is the sum of all. Requests are
    counted by whoever points `lab` at counting proxies (bench_scale.py)."""
    out, total = {}, 0.0
    for backend, read in (("vsphere", _vsphere), ("dns", _dns), ("ldap", _ldap), ("vault", _vault),
                          ("swarm", _swarm)):
        start = time.perf_counter()
        found = read(lab, prefix)
        seconds = time.perf_counter() - start
        out[backend] = {"s": round(seconds, 3), "objects": found}
        total += seconds
    out["empty_playbook_s"] = round(empty_playbook_s(), 3)
    out["seconds"] = round(total + out["empty_playbook_s"], 3)
    return out


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__.rsplit("\n\n", maxsplit=1)[-1])
    print(json.dumps(floor(json.loads((LAB / "endpoints.json").read_text()), sys.argv[1]), indent=2))


if __name__ == "__main__":
    main()
