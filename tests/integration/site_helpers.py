"""A private copy of the lab model for site.yml tests: every project and station renamed
<prefix>-<name>, the domain <prefix>.s2p.esa.int and the address blocks moved, so a test
never touches the lab model's own objects (other tests and `make run` use them), and
cleanup() finds everything it made by the prefix, through the backends' own clients."""

from __future__ import annotations

import random

import docker
import hvac
import yaml
from dns_helpers import Bind
from identity_helpers import clean_ldap, clean_vault, kv_paths, vault_root
from vsphere_helpers import Vcsim, _wait, endpoint_with_password

from conftest import ROOT

LAB_MODEL = ROOT / "inventories" / "lab" / "group_vars" / "all" / "model.yml"
SEGMENTS = ("swe", "sd", "pd", "dsdc")


def prefixed_model(prefix: str, projects: list[str] | None = None, stations: list[str] | None = None) -> dict:
    """The lab model's variables with names, domain and address blocks of our own."""
    model = yaml.safe_load(LAB_MODEL.read_text())
    shift = random.randrange(20, 180)
    kept = [p for p in model["s2p_projects"] if projects is None or p["name"] in projects]
    for project in kept:
        project["name"] = f"{prefix}-{project['name']}"
        project["address_block"] += shift
    station_shift = random.randrange(2, 50)
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
