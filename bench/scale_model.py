"""The lab model scaled by an integer factor, for bench_scale.py: pure, no lab access.

Factor k makes k copies of every project and station of the lab model (inventories/lab), so
projects, environments, VMs, stations, DNS names, accounts, groups, secrets and deployments all
grow together by k. Copy c of a project or station is named <prefix><cc>-<name> (bench_site.py's
random-prefix convention: cleanup finds everything by the prefix, the lab's own objects are
left alone) and moves every site of the original c places along esoc, esec, esrin, so the
copies spread over the three sites. Each copy gets address blocks of its own (1, 2, ... in
model order), in site subnets of its own (10.111-113.0.0/16 instead of 10.11-13), so a copy
never shares an address, hence a reverse DNS name, with the lab model or the copies the
integration tests make (tests/integration/site_helpers.py moves blocks inside 10.11-13).
"""

from __future__ import annotations

import copy

SITE_ORDER = ("esoc", "esec", "esrin")
SUBNET_OCTET = {"esoc": 111, "esec": 112, "esrin": 113}  # the lab's 11, 12, 13 plus 100
MAX_FACTOR = 21  # 12 address blocks per copy (10 projects, 2 stations), 254 blocks per subnet


def copy_name(prefix: str, copy_index: int, name: str) -> str:
    return f"{prefix}{copy_index:02d}-{name}"


def _moved(site: str, copy_index: int) -> str:
    return SITE_ORDER[(SITE_ORDER.index(site) + copy_index) % len(SITE_ORDER)]


def _sites(sites: list[dict]) -> list[dict]:
    """The lab's sites with subnets, gateways and DNS servers of their own."""
    out = []
    for site in copy.deepcopy(sites):
        octet = SUBNET_OCTET[site["name"]]
        site.update(subnet=f"10.{octet}.0.0/16", gateway=f"10.{octet}.0.1", dns_servers=[f"10.{octet}.0.53"])
        out.append(site)
    return out


def _project(project: dict, prefix: str, copy_index: int, block: int) -> dict:
    project = copy.deepcopy(project)
    project["name"] = copy_name(prefix, copy_index, project["name"])
    project["address_block"] = block
    for env in project["environments"].values():
        env["sites"] = [_moved(site, copy_index) for site in env["sites"]]
    return project


def _station(station: dict, prefix: str, copy_index: int, block: int) -> dict:
    station = copy.deepcopy(station)
    station.update(name=copy_name(prefix, copy_index, station["name"]), site=_moved(station["site"], copy_index),
                   address_block=block)
    return station


def scaled_model(base: dict, factor: int, prefix: str) -> dict:
    """The model variables of `base` (the lab's model.yml, loaded) scaled by `factor`."""
    if not 1 <= factor <= MAX_FACTOR:
        raise ValueError(f"factor must be 1 to {MAX_FACTOR} (address blocks of the site subnets), got {factor}")
    model = copy.deepcopy(base)
    projects, stations, block = [], [], 0
    for copy_index in range(factor):
        for project in base["s2p_projects"]:
            block += 1
            projects.append(_project(project, prefix, copy_index, block))
        for station in base.get("s2p_stations") or []:
            block += 1
            stations.append(_station(station, prefix, copy_index, block))
    model.update(s2p_domain=f"{prefix}.s2p.esa.int", s2p_sites=_sites(base["s2p_sites"]), s2p_projects=projects,
                 s2p_stations=stations)
    return model


def sizes(model: dict) -> dict:
    """What a model holds, for the bench's result rows: projects, deployments, VMs, stations."""
    deployments = [(p, env, spec) for p in model["s2p_projects"] for env, spec in p["environments"].items()]
    vms = 0
    for project, _env, spec in deployments:
        per_site = sum(vm.get("count", 1) if isinstance(vm, dict) else 1 for vm in spec.get("vms", project["vms"]))
        vms += per_site * len(spec["sites"])
    stations = model.get("s2p_stations") or []
    return {"projects": len(model["s2p_projects"]), "deployments": len(deployments),
            "vms": vms + 3 * len(stations), "stations": len(stations)}
