# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNS records and certificates derived from the normalised S2P model (s2p_model).

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Pure Python over the model built by model/model.py; every name comes from the model (which took
it from model/naming.py), owners from naming.dns_owner. The model holds no addresses: they come
from `addresses` ({VM, station or camera name or FQDN: IP or list of IPs}), for example the
results of the vSphere run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.model import naming

# "stations" is a reserved project name (stations.<domain>), so the stations own their names as:
STATIONS_OWNER = "telescopes/ope"


def _ips(addresses, *keys):
    for key in keys:
        value = addresses.get(key)
        if value:
            return sorted(value) if isinstance(value, (list, tuple)) else [value]
    return []


def records_by_owner(model, addresses, ttl=3600, ptr=True):
    """{owner: [dns_record items]}: per deployment its VMs (A + PTR) and its services (a
    round-robin A set of the deployment's VM addresses, across its sites); telescope
    stations and cameras under STATIONS_OWNER (telescopes/ope), each station's ingest endpoint
    (an A/AAAA of its ingest VM) with the station's VMs."""
    addresses = addresses or {}
    owners = {}
    vms_by_deployment = {}
    for vm in model.get("vms", []):
        vms_by_deployment.setdefault((vm["project"], vm["environment"]), []).append(vm)
    for (project, env), vms in sorted(vms_by_deployment.items()):
        owner = naming.dns_owner(project, env)
        records = owners.setdefault(owner, [])
        pool = []
        for vm in sorted(vms, key=lambda v: v["name"]):
            ips = _ips(addresses, vm["name"], vm["fqdn"])
            pool.extend(ips)
            for rdtype, values in _by_family(ips):
                records.append({"name": vm["fqdn"], "type": rdtype, "values": values, "ttl": ttl, "ptr": ptr})
        for svc in model.get("services", []):
            if (svc["project"], svc["environment"]) == (project, env) and pool:
                for rdtype, values in _by_family(pool):
                    records.append({"name": svc["fqdn"], "type": rdtype, "values": values, "ttl": ttl})
    for station in sorted(model.get("stations", {}).values(), key=lambda s: s["name"]):
        # the ingest endpoint: an A/AAAA of the station's first VM (ingest), which keeps its own PTR
        ingest_vm = station["vms"][0] if station.get("vms") else None
        for rdtype, values in _by_family(_ips(addresses, ingest_vm["name"], ingest_vm["fqdn"]) if ingest_vm else []):
            owners.setdefault(station["dns_owner"], []).append(
                {"name": station["ingest_fqdn"], "type": rdtype, "values": values, "ttl": ttl})
        for fqdn, keys in [(station["fqdn"], (station["name"], station["fqdn"]))] + [
                (cam["fqdn"], ("%s-%s" % (station["name"], cam["name"]), cam["fqdn"])) for cam in station["cameras"]]:
            for rdtype, values in _by_family(_ips(addresses, *keys)):
                owners.setdefault(STATIONS_OWNER, []).append(
                    {"name": fqdn, "type": rdtype, "values": values, "ttl": ttl, "ptr": ptr})
    return dict((owner, records) for owner, records in owners.items() if records)


def _by_family(ips):
    v4 = sorted(set(ip for ip in ips if ":" not in ip))
    v6 = sorted(set(ip for ip in ips if ":" in ip))
    return [(t, v) for t, v in (("A", v4), ("AAAA", v6)) if v]


def certificates(model, path=None, issuer="acme", pki_roles=None, kv=True, environments=None):
    """One certificate per deployment with services: its service FQDNs, kept at `path`
    (files) and/or in Vault KV at the deployment's `tls` secret path."""
    found = []
    names = {}
    for svc in model.get("services", []):
        names.setdefault((svc["project"], svc["environment"]), []).append(svc["fqdn"])
    segments = dict((d["project"], d["segment"]) for d in model.get("deployments", []))
    for (project, env), fqdns in sorted(names.items()):
        if environments and env not in environments:
            continue
        item = {"name": naming.stack_name(project, env), "names": sorted(fqdns),
                "issuer": issuer if isinstance(issuer, str) else issuer.get(env, issuer.get("default", "acme"))}
        if item["issuer"] == "vault_pki" and pki_roles:
            item["pki_role"] = pki_roles.get(env) or pki_roles.get("default")
        if path:
            item["path"] = path
        if kv:
            item["vault_kv_path"] = naming.vault_kv_path(segments[project], project, env, "tls")
        found.append(item)
    return found
