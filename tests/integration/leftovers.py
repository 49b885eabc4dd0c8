"""What the shared lab holds, as one set of object names per backend, read with each backend's
own client library (never the collection's code): the leftover check (leftovers_plugin.py)
takes this snapshot before and after a test run and compares the two.

Every name starts with its kind ("vm /ESOC/vm/s2p/...", "policy s2p-neocc-ire"), so one set per
backend holds every kind. Only objects that a test can create and forget are counted; what
changes on its own is left out, backend by backend:
- vsphere: VMs, folders, resource pools and datacenters by inventory path; tasks, events,
  sessions and custom attribute definitions are not objects a test leaves behind.
- ldap: every DN under the suffix (lower case); attributes change (passwords, ppolicy's lockout
  and failure times, timestamps) without an entry being left behind, so only DNs count.
- vault: mounts (secrets engines and auth methods), ACL policies, AppRole roles, PKI roles and
  the KV keys (metadata) of every KV mount. Tokens, token accessors, leases, AppRole secret-id
  accessors, identity entities (one per login) and issued certificates grow with every login or
  issue and expire by themselves: not counted.
- dns: every RRset as "<name> <type>" of each lab zone by AXFR; the SOA is left out (its serial
  moves with every update, and it is always there), record data is not compared (only RRsets
  appearing or going) except what ties a reverse name to its owner (see _rrset_name).
- swarm_sites: the swarm's services, secrets, configs and networks (not the ingress network nor
  the engine's own bridge/host/none/docker_gwbridge), read from the first manager that answers;
  tasks and their containers come and go with the services.
- dockerd (the loopback engine): containers (stopped ones too), volumes, networks (same
  exclusions) and, when it is a swarm manager, services and secrets.
- pebble is not read: its accounts, orders and authorizations live in memory, cannot be deleted
  and vanish with a restart.

A backend that cannot be read is reported as such (Reading.error), never as zero objects."""

from __future__ import annotations

import json
import ssl
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dns.query
import dns.rdatatype
import dns.tsig
import docker
import hvac
from leftovers_report import Reading
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

TIMEOUT = 10  # seconds per request: a hung server must not hold the test run for long
ENGINE_NETWORKS = frozenset({"bridge", "host", "none", "docker_gwbridge"})


def read_lab(lab_dir: Path) -> dict:
    return json.loads((Path(lab_dir) / "endpoints.json").read_text())


def _secret(path: str) -> str:
    return Path(path).read_text().strip()


def vsphere_names(lab: dict) -> set[str]:
    """One PropertyCollector read of name and parent of every entity (a few requests in all, and
    no unset property fetched one by one, which crashes the lab's vcsim)."""
    endpoint = lab["vcsim"]
    si = SmartConnect(host=endpoint["hostname"], port=int(endpoint["port"]), user=endpoint["username"],
                      pwd=_secret(endpoint["password_file"]), httpConnectionTimeout=TIMEOUT,
                      sslContext=ssl.create_default_context(cafile=lab["ca_file"]))
    try:
        content = si.content
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.ManagedEntity], True)
        try:
            collector = vmodl.query.PropertyCollector
            traverse = collector.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)
            spec = collector.FilterSpec(
                objectSet=[collector.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
                propSet=[collector.PropertySpec(type=vim.ManagedEntity, pathSet=["name", "parent"])])
            found = content.propertyCollector.RetrieveContents([spec])
        finally:
            view.DestroyView()
    finally:
        Disconnect(si)
    entities = {}
    for item in found:
        props = {p.name: p.val for p in item.propSet}
        parent = props.get("parent")
        entities[item.obj._moId] = (item.obj, props.get("name", "?"), parent._moId if parent is not None else None)
    kinds = ((vim.VirtualMachine, "vm"), (vim.ResourcePool, "pool"), (vim.Folder, "folder"),
             (vim.Datacenter, "datacenter"))
    names = set()
    for obj, _name, _parent in entities.values():
        kind = next((label for cls, label in kinds if isinstance(obj, cls)), None)
        if kind:
            names.add(f"{kind} {_inventory_path(entities, obj._moId)}")
    return names


def _inventory_path(entities: dict, moid: str) -> str:
    """/ESOC/vm/s2p/...: names up from `moid` until the root folder (not in `entities`)."""
    parts = []
    while moid in entities:
        _obj, name, moid = entities[moid]
        parts.insert(0, name)
    return "/" + "/".join(parts)


def ldap_names(lab: dict) -> set[str]:
    import ldap3  # here, under snapshot()'s warning filter: its import warns (pyasn1 deprecations)

    slapd = lab["slapd"]
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=lab["ca_file"])
    server = ldap3.Server(slapd["ldaps_uri"], use_ssl=True, tls=tls, get_info=ldap3.NONE, connect_timeout=TIMEOUT)
    conn = ldap3.Connection(server, slapd["admin_dn"], _secret(slapd["admin_password_file"]),
                            receive_timeout=TIMEOUT, raise_exceptions=True)
    conn.bind()
    try:
        entries = conn.extend.standard.paged_search(slapd["base_dn"], "(objectClass=*)", attributes=["1.1"],
                                                    paged_size=500, generator=False)
        return {f"entry {e['dn'].lower()}" for e in entries if e["type"] == "searchResEntry"}
    finally:
        conn.unbind()


def vault_names(lab: dict) -> set[str]:
    bao = lab["openbao"]
    client = hvac.Client(url=bao["url"], token=_secret(bao["root_token_file"]), verify=lab["ca_file"],
                         timeout=TIMEOUT)
    names = {f"policy {p}" for p in client.sys.list_acl_policies()["data"]["keys"]}
    for mount, info in client.sys.list_mounted_secrets_engines()["data"].items():
        names.add(f"secrets-mount {mount}")
        if info["type"] == "kv":
            v2 = str((info.get("options") or {}).get("version", "1")) == "2"
            names.update(f"kv {mount}{key}" for key in _kv_keys(client, mount + ("metadata/" if v2 else "")))
        elif info["type"] == "pki":
            names.update(f"pki-role {mount}{role}" for role in _listed(client, f"{mount}roles"))
    for mount, info in client.sys.list_auth_methods()["data"].items():
        names.add(f"auth-mount {mount}")
        if info["type"] == "approle":
            names.update(f"approle {mount}{role}" for role in _listed(client, f"auth/{mount}role"))
    return names


def _listed(client, path: str) -> list[str]:
    answer = client.list(path)  # None when the path holds nothing (404)
    return answer["data"]["keys"] if answer else []


def _kv_keys(client, base: str, folder: str = "") -> list[str]:
    """Every key under `base` (<mount>/metadata/ for KV v2), folders walked one LIST each."""
    keys = []
    for key in _listed(client, base + folder):
        keys += _kv_keys(client, base, folder + key) if key.endswith("/") else [folder + key]
    return keys


def dns_names(lab: dict) -> set[str]:
    bind = lab["bind"]
    key = dns.tsig.Key(bind["tsig_key_name"], _secret(bind["tsig_secret_file"]), bind["tsig_algorithm"])
    names = set()
    for zone in bind["zones"]:
        for message in dns.query.xfr(bind["server"], zone, port=int(bind["port"]), keyring={key.name: key},
                                     keyname=key.name, relativize=False, lifetime=TIMEOUT):
            names.update(_rrset_name(r) for r in message.answer if r.rdtype != dns.rdatatype.SOA)
    return names


def _rrset_name(rrset) -> str:
    """"rrset <name> <type>", and for the names that hold no test prefix themselves the part of
    the data that does (leftovers_report tells runs apart by the prefix): a PTR's targets, and the
    owner of an ownership TXT ("s2p-owner=<project>/<env>", not its changing "types=...")."""
    name = rrset.name.to_text().lower()
    text = f"rrset {name} {dns.rdatatype.to_text(rrset.rdtype)}"
    if rrset.rdtype == dns.rdatatype.PTR:
        text += " " + ",".join(sorted(r.target.to_text().lower() for r in rrset))
    elif rrset.rdtype == dns.rdatatype.TXT and name.startswith("_s2p-owner."):
        words = (word for r in rrset for part in r.strings for word in part.decode(errors="replace").split())
        text += " " + ",".join(sorted({w for w in words if w.startswith("s2p-owner=")}))
    return text


def _networks(api) -> set[str]:
    return {f"network {n['Name']}" for n in api.networks()
            if n["Name"] not in ENGINE_NETWORKS and not n.get("Ingress")}


def _swarm_objects(api, kinds=("service", "secret", "config")) -> set[str]:
    """Swarm-wide objects through the low-level API (the high-level list() inspects every object
    again, seconds on the lab swarm)."""
    calls = {"service": api.services, "secret": api.secrets, "config": api.configs}
    return {f"{kind} {obj['Spec']['Name']}" for kind in kinds for obj in calls[kind]()}


def swarm_sites_names(lab: dict) -> set[str]:
    """From the first manager that answers: any manager sees the whole swarm, and tests kill sites."""
    errors = []
    for site, host in lab["swarm_sites"]["managers"].items():
        api = docker.APIClient(base_url=host, timeout=TIMEOUT)
        try:
            return _swarm_objects(api) | _networks(api)
        except (docker.errors.DockerException, OSError) as error:
            errors.append(f"{site}: {error}")
        finally:
            api.close()
    raise ConnectionError("no manager answered (" + "; ".join(errors) + ")")


def dockerd_names(lab: dict) -> set[str]:
    api = docker.APIClient(base_url=lab["dockerd"]["docker_host"], timeout=TIMEOUT)
    try:
        names = {f"container {c['Names'][0].lstrip('/')}" for c in api.containers(all=True)}
        names |= {f"volume {v['Name']}" for v in api.volumes().get("Volumes") or []}
        names |= _networks(api)
        if api.info().get("Swarm", {}).get("ControlAvailable"):
            names |= _swarm_objects(api, ("service", "secret"))
        return names
    finally:
        api.close()


READERS = {"vsphere": vsphere_names, "ldap": ldap_names, "vault": vault_names, "dns": dns_names,
           "swarm_sites": swarm_sites_names, "dockerd": dockerd_names}


def _read(reader, lab: dict) -> Reading:
    try:
        return Reading(frozenset(reader(lab)))
    except Exception as error:  # any failure means "could not read", and is reported as such
        text = " ".join(str(error).split()) or type(error).__name__
        return Reading(None, f"{type(error).__name__}: {text[:200]}")


def snapshot(lab: dict) -> dict[str, Reading]:
    """Every backend's Reading, read at the same time (the run waits for the slowest one only).
    The client libraries' deprecation warnings (ldap3's ssl.match_hostname...) are not the
    tests': kept out of the run's warning summary."""
    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=len(READERS)) as pool:
        warnings.simplefilter("ignore", DeprecationWarning)
        futures = {name: pool.submit(_read, reader, lab) for name, reader in READERS.items()}
        return {name: future.result() for name, future in futures.items()}


if __name__ == "__main__":
    import os
    import sys
    import time

    started = time.monotonic()
    lab_dir = Path(os.environ.get("S2P_LAB_DIR", Path(__file__).resolve().parents[2] / ".lab"))
    for backend, reading in snapshot(read_lab(lab_dir)).items():
        if reading.names is None:
            print(f"{backend}: unreachable: {reading.error}")
        else:
            print(f"{backend}: {len(reading.names)}")
            if "-v" in sys.argv:
                print("".join(f"  {name}\n" for name in sorted(reading.names)), end="")
    print(f"snapshot in {time.monotonic() - started:.2f} s")
