"""A private copy of the lab model for site.yml tests: every project and station renamed
<prefix>-<name>, the domain <prefix>.s2p.esa.int and the address blocks moved, so a test
never touches the lab model's own objects (other tests and `make run` use them), and
cleanup() finds everything it made by the prefix, through the backends' own clients."""

from __future__ import annotations

import os
import random
import time

import dns.query
import dns.rdatatype
import docker
import hvac
import yaml
from dns_helpers import Bind
from identity_helpers import BASE, clean_ldap, clean_vault, kv_paths, ldap_admin, vault_root
from pyVmomi import vim
from vsphere_helpers import Vcsim, _wait, endpoint_with_password

from conftest import ROOT

LAB_MODEL = ROOT / "inventories" / "lab" / "group_vars" / "all" / "model.yml"
SEGMENTS = ("swe", "sd", "pd", "dsdc")


def _shifts() -> tuple[int, int]:
    """How far a copy moves the model's address blocks (projects 1-10, stations 201-202), so that
    copies living at the same time never share an address (their reverse DNS names would then
    have two owners). Under pytest-xdist each worker runs one test at a time and has a slot of
    its own (gwN -> N); without xdist (one test at a time) a random slot."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    slot = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else random.randrange(16)
    if slot >= 16:
        raise RuntimeError(f"site_helpers: {worker} has no address slot (16 at most): use fewer xdist workers")
    return 20 + 10 * slot, 2 + 2 * slot


def prefixed_model(prefix: str, projects: list[str] | None = None, stations: list[str] | None = None) -> dict:
    """The lab model's variables with names, domain and address blocks of our own."""
    model = yaml.safe_load(LAB_MODEL.read_text())
    shift, station_shift = _shifts()
    kept = [p for p in model["s2p_projects"] if projects is None or p["name"] in projects]
    for project in kept:
        project["name"] = f"{prefix}-{project['name']}"
        project["address_block"] += shift
    kept_stations = [s for s in model["s2p_stations"] if stations is None or s["name"] in stations]
    for station in kept_stations:
        station["name"] = f"{prefix}-{station['name']}"
        station["address_block"] += station_shift
    model.update(s2p_domain=f"{prefix}.s2p.esa.int", s2p_projects=kept, s2p_stations=kept_stations)
    return model


def swarm_objects(lab: dict, prefix: str) -> dict:
    """Services, networks, secrets and configs of the lab swarm whose name starts with prefix."""
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    return {"services": [s for s in client.services() if s["Spec"]["Name"].startswith(prefix)],
            "networks": [n for n in client.networks() if n["Name"].startswith(prefix)],
            "secrets": [s for s in client.secrets() if s["Spec"]["Name"].startswith(prefix)],
            "configs": [c for c in client.configs() if c["Spec"]["Name"].startswith(prefix)]}


def vault_keys(lab: dict, prefix: str) -> list[str]:
    """KV paths <segment>/<prefix>*/... of the lab Vault."""
    client, mount, found = vault_root(lab), lab["openbao"]["kv_mount"], []
    for segment in SEGMENTS:
        try:
            top = client.secrets.kv.v2.list_secrets(path=segment + "/", mount_point=mount)["data"]["keys"]
        except hvac.exceptions.InvalidPath:
            continue
        for key in top:
            if key.startswith(prefix):
                found += list(kv_paths(client, mount, f"{segment}/{key}"))
    return found


def cleanup(lab: dict, prefix: str) -> None:
    """Remove everything named with prefix: stacks, DNS names, LDAP entries, Vault secrets,
    policies and AppRoles, VMs and their folders."""
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    objects = swarm_objects(lab, prefix)
    for service in objects["services"]:
        client.remove_service(service["ID"])
    for kind, remove in (("secrets", client.remove_secret), ("configs", client.remove_config)):
        for obj in objects[kind]:
            try:
                remove(obj["ID"])
            except docker.errors.APIError:
                pass  # still in use by a task shutting down: removed with the next cleanup
    for network in objects["networks"]:
        try:
            client.remove_network(network["Id"])
        except docker.errors.APIError:
            pass
    Bind(lab).cleanup(prefix)
    clean_ldap(lab, prefix)
    clean_vault(lab, prefix)
    vault, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    for path in vault_keys(lab, prefix):
        vault.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=mount)
    vcsim = Vcsim(endpoint_with_password(lab))
    try:
        for vm in vcsim.vms(prefix):
            if vm.runtime.powerState == "poweredOn":
                _wait(vm.PowerOffVM_Task())
            _wait(vm.Destroy_Task())
        for dc in ("ESOC", "ESEC", "ESRIN"):
            for segment in SEGMENTS:
                parent = vcsim.folder(f"/{dc}/vm/s2p/{segment}")
                for child in list(parent.childEntity) if parent is not None else []:
                    if child.name.startswith(prefix):
                        vcsim.destroy_folder(f"/{dc}/vm/s2p/{segment}/{child.name}")
    finally:
        vcsim.close()


def leftovers(lab: dict, prefix: str) -> dict:
    """Every object of the lab that names prefix, read through each backend's own client and
    searched wider than cleanup() removes (the whole LDAP tree, every KV path, every vCenter
    folder, both zones): {backend: [names]}, only the backends that hold some; {} when the
    prefix left nothing behind."""
    found = {}
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    try:
        names = [s["Spec"]["Name"] for listing in (client.services, client.secrets, client.configs)
                 for s in listing()] + [n["Name"] for n in client.networks()]
    finally:
        client.close()
    found["swarm"] = [n for n in names if prefix in n]
    conn = ldap_admin(lab)
    try:
        conn.search(BASE, "(objectClass=*)", attributes=["1.1"])
        found["ldap"] = [e["dn"] for e in conn.response if e["type"] == "searchResEntry" and prefix in e["dn"]]
    finally:
        conn.unbind()
    vault, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    found["vault"] = [p for p in kv_paths(vault, mount, "") if prefix in p]
    found["vault"] += [f"policy {n}" for n in vault.sys.list_acl_policies()["data"]["keys"] if prefix in n]
    try:
        roles = vault.auth.approle.list_roles()["data"]["keys"]
    except hvac.exceptions.InvalidPath:
        roles = []
    found["vault"] += [f"approle {n}" for n in roles if prefix in n]
    bind = Bind(lab)
    found["dns"] = []
    for zone in ("s2p.esa.int", "10.in-addr.arpa"):
        for message in dns.query.xfr(bind.server, zone, port=bind.port, keyring={bind.key.name: bind.key},
                                     keyname=bind.key.name, relativize=False, lifetime=30):
            for rrset in message.answer:
                # the name, or a value: a PTR to our name, the ownership TXT of such a PTR
                if prefix in rrset.name.to_text() or any(prefix in r.to_text() for r in rrset):
                    found["dns"].append(f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)}")
    vcsim = Vcsim(endpoint_with_password(lab))
    try:
        found["vsphere"] = [vcsim.path(vm) for vm in vcsim.vms(prefix)]
        found["vsphere"] += [vcsim.path(f) for f in vcsim._all(vim.Folder) if prefix in f.name]
    finally:
        vcsim.close()
    return {backend: sorted(names) for backend, names in found.items() if names}


def cleanup_checked(lab: dict, prefix: str, attempts: int = 6) -> None:
    """cleanup(), then fail when anything named with prefix is left (leftovers()). A swarm
    network or secret still held by a task shutting down is removed by a later attempt."""
    for attempt in range(attempts):
        cleanup(lab, prefix)
        left = leftovers(lab, prefix)
        if not left:
            return
        time.sleep(5 * (attempt + 1))
    raise AssertionError(f"objects named {prefix} left behind in the lab: {left}")
