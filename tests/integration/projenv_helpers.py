"""Helpers of the project_environment, duplicate_environment and decommission tests: an inventory
with a prefixed model, and an independent picture of every object of the prefixed projects read
through the backends' own clients (ldap3, hvac, dnspython, docker SDK, pyVmomi), never the
collection's code, so a test sees what really is on the servers."""

from __future__ import annotations

import itertools
import os
import random
import shutil
from pathlib import Path

import dns.query
import docker
import hvac
import yaml
from dns_helpers import Bind
from identity_helpers import clean_ldap, kv_paths, ldap_admin, snapshot, vault_root

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
SEGMENTS = ("swe", "sd", "pd", "dsdc")


def write_inventory(tmp_path: Path, projects: list[dict] | None = None, model: dict | None = None) -> Path:
    """A copy of the lab inventory whose model holds only `projects` (and no station), or whose
    model is `model` (the variables of group_vars/all/model.yml, e.g. site_helpers.prefixed_model)."""
    inv = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "lab", inv)
    if model is None:
        model = yaml.safe_load((inv / "group_vars" / "all" / "model.yml").read_text())
        model.update(s2p_projects=projects, s2p_stations=[])
    (inv / "group_vars" / "all" / "model.yml").write_text(yaml.safe_dump(model))
    return inv


_NEXT_ADDRESS = itertools.count(random.randrange(248))


def addresses(vm_names: list[str]) -> dict:
    """A 10.<site>.x.y address per VM name (the model holds none; the sites use 10.11-13) that no
    test running at the same time has: block x is the xdist worker's own (235 + N for gwN, outside
    the lab model's blocks 1-10 and 201-202 and site_helpers' copies, 21-180 and 203-234), and
    each worker hands out its addresses in turn (its tests run one after the other)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    block = 235 + (int(worker[2:]) % 16 if worker[2:].isdigit() else random.randrange(16))
    picked = {}
    for name in vm_names:
        site = {"esoc": 11, "esec": 12, "esrin": 13}[name.split("-")[0]]
        picked[name] = f"10.{site}.{block}.{2 + next(_NEXT_ADDRESS) % 248}"
    return picked


def stack_vars(lab: dict) -> dict:
    """project_stack__* settings that deploy fast: the lab's busybox, no task to schedule."""
    return {"project_stack__default_image": lab["swarm_sites"]["images"]["busybox"], "project_stack__replicas": 0}


def _kv_paths(client: hvac.Client, mount: str, prefix: str) -> dict:
    """{path: current version} of every KV secret of a project whose name starts with prefix."""
    found = {}
    for segment in SEGMENTS:
        try:
            keys = client.secrets.kv.v2.list_secrets(path=segment, mount_point=mount)["data"]["keys"]
        except hvac.exceptions.InvalidPath:
            continue
        for key in keys:
            if key.startswith(prefix):
                for path in kv_paths(client, mount, f"{segment}/{key}"):
                    meta = client.secrets.kv.v2.read_secret_metadata(path=path, mount_point=mount)["data"]
                    found[path] = meta["current_version"]
    return found


def _approles(client: hvac.Client, prefix: str) -> dict:
    try:
        names = client.auth.approle.list_roles()["data"]["keys"]
    except hvac.exceptions.InvalidPath:
        return {}
    return {n: client.auth.approle.read_role(n)["data"] for n in names if n.startswith(f"s2p-{prefix}")}


def _dns(lab: dict, prefix: str) -> dict:
    """{(name, type): sorted values} of every RRset naming prefix (or a PTR pointing at such a name)."""
    bind = Bind(lab)
    found = {}
    for zone in ("s2p.esa.int", "10.in-addr.arpa"):
        for message in dns.query.xfr(bind.server, zone, port=bind.port, keyring={bind.key.name: bind.key},
                                     keyname=bind.key.name, relativize=False, lifetime=30):
            for rrset in message.answer:
                name = rrset.name.to_text(omit_final_dot=True)
                values = sorted(r.to_text() for r in rrset)
                if prefix in name or any(prefix in v for v in values):
                    found[(name, rrset.rdtype.name if hasattr(rrset.rdtype, "name") else str(rrset.rdtype))] = values
    return found


def _swarm(lab: dict, prefix: str) -> dict:
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    try:
        return {
            "services": {s["Spec"]["Name"]: s["Version"]["Index"] for s in client.services()
                         if s["Spec"]["Name"].startswith(prefix)},
            "secrets": sorted(s["Spec"]["Name"] for s in client.secrets() if s["Spec"]["Name"].startswith(prefix)),
            "configs": sorted(c["Spec"]["Name"] for c in client.configs() if c["Spec"]["Name"].startswith(prefix)),
            "networks": sorted(n["Name"] for n in client.networks() if n["Name"].startswith(prefix)),
        }
    finally:
        client.close()


def picture(lab: dict, prefix: str) -> dict:
    """Every object of the prefixed projects in every backend, keyed by backend."""
    conn = ldap_admin(lab)
    try:
        ldap = {dn: attrs for dn, attrs in snapshot(conn).items() if prefix in dn}
    finally:
        conn.unbind()
    client = vault_root(lab)
    policies = {n: client.sys.read_acl_policy(n)["data"]["policy"]
                for n in client.sys.list_acl_policies()["data"]["keys"] if n.startswith(f"s2p-{prefix}")}
    return {"ldap": ldap, "vault_kv": _kv_paths(client, lab["openbao"]["kv_mount"], prefix),
            "vault_policies": policies, "vault_approles": _approles(client, prefix),
            "dns": _dns(lab, prefix), "swarm": _swarm(lab, prefix)}


def of_unit(pic: dict, project: str, env: str) -> dict:
    """The part of a picture that belongs to one project environment, found by its names: KV paths
    /<p>/<env>/, FQDNs .<p>.<env>. and VM names -<p>-<env>- (and PTRs to them), the service account
    =<p>-<env>, ownership records s2p-owner=<p>/<env>, policy and AppRole s2p-<p>-<env>, stack objects <p>-<env>_."""
    unit = f"{project}-{env}"
    tokens = (f"/{project}/{env}/", f".{project}.{env}.", f"-{project}-{env}-", f"{project}-{env}-",
              f"={unit},", f"{unit}_", f"s2p-owner={project}/{env} ")

    def mine(key, value=None) -> bool:
        text = " ".join(key) if isinstance(key, tuple) else key
        if isinstance(key, tuple):  # DNS: the name, and for PTRs the name pointed at
            text += " " + " ".join(value or [])
        return any(t in "/" + text for t in tokens) or text in (unit, f"s2p-{unit}")

    out = {}
    for backend, objects in pic.items():
        if backend == "swarm":
            out[backend] = {kind: ({k: v for k, v in items.items() if mine(k)} if isinstance(items, dict)
                                   else [i for i in items if mine(i)]) for kind, items in objects.items()}
        else:
            out[backend] = {k: v for k, v in objects.items() if mine(k, v if backend == "dns" else None)}
    return out


def without_unit(pic: dict, project: str, env: str) -> dict:
    unit = of_unit(pic, project, env)
    out = {}
    for backend, objects in pic.items():
        if backend == "swarm":
            out[backend] = {kind: ({k: v for k, v in items.items() if k not in unit[backend][kind]}
                                   if isinstance(items, dict) else [i for i in items if i not in unit[backend][kind]])
                            for kind, items in objects.items()}
        else:
            out[backend] = {k: v for k, v in objects.items() if k not in unit[backend]}
    return out


def only(pic: dict, needle: str) -> dict:
    """The part of a picture whose names (or, for DNS, values) contain `needle`."""
    out = {}
    for backend, objects in pic.items():
        if backend == "swarm":
            out[backend] = {kind: ({k: v for k, v in items.items() if needle in k} if isinstance(items, dict)
                                   else [i for i in items if needle in i]) for kind, items in objects.items()}
        else:
            out[backend] = {k: v for k, v in objects.items()
                            if needle in " ".join(k if isinstance(k, tuple) else [k])
                            or (backend == "dns" and any(needle in x for x in v))}
    return out


def count(pic: dict) -> int:
    return sum(len(v) if not isinstance(v, dict) or not all(isinstance(x, (dict, list)) for x in v.values())
               else sum(len(x) for x in v.values()) for v in pic.values())


def clean_all(lab: dict, prefix: str) -> None:
    """Remove every object of the prefixed projects from every backend (test teardown)."""
    if not (isinstance(prefix, str) and len(prefix) >= 6 and prefix[0] == "t"):
        raise ValueError(f"refusing to clean with prefix {prefix!r}: only a test prefix (see the prefix fixture)")
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    try:
        for service in client.services():
            if service["Spec"]["Name"].startswith(prefix):
                client.remove_service(service["ID"])
        for secret in client.secrets():
            if secret["Spec"]["Name"].startswith(prefix):
                client.remove_secret(secret["ID"])
        for config in client.configs():
            if config["Spec"]["Name"].startswith(prefix):
                client.remove_config(config["ID"])
        for network in client.networks():
            if network["Name"].startswith(prefix):
                try:
                    client.remove_network(network["Id"])
                except docker.errors.APIError:
                    pass  # tasks still detaching; the network is empty and harmless
    finally:
        client.close()
    clean_ldap(lab, prefix)
    vault = vault_root(lab)
    mount = lab["openbao"]["kv_mount"]
    for path in _kv_paths(vault, mount, prefix):
        vault.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=mount)
    for name in vault.sys.list_acl_policies()["data"]["keys"]:
        if name.startswith(f"s2p-{prefix}"):
            vault.sys.delete_acl_policy(name)
    for name in _approles(vault, prefix):
        vault.auth.approle.delete_role(name)
    Bind(lab).cleanup(prefix)
