"""bench/scale_model.py: the lab model scaled by a factor passes the model's own validation
(build_model, what the model role runs), grows every part by the factor, spreads over the
three sites, names everything with the prefix and never shares an address with the lab model."""

from __future__ import annotations

import collections
import importlib.util
import ipaddress
from pathlib import Path

import pytest
import yaml

from ansible_collections.esa.s2p.plugins.module_utils.model.model import build_model

ROOT = Path(__file__).resolve().parents[2]
LAB_MODEL = yaml.safe_load((ROOT / "inventories" / "lab" / "group_vars" / "all" / "model.yml").read_text())
PREFIX = "b1f2e3d"


def _load():
    spec = importlib.util.spec_from_file_location("s2p_bench_scale_model", ROOT / "bench" / "scale_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scale_model = _load()


@pytest.fixture(scope="module")
def lab():
    return build_model(LAB_MODEL)


@pytest.mark.parametrize("factor", [1, 4, 16, scale_model.MAX_FACTOR])
def test_every_part_grows_by_the_factor(lab, factor):
    built = build_model(scale_model.scaled_model(LAB_MODEL, factor, PREFIX))
    for part in ("projects", "stations", "deployments", "vms", "services", "secrets", "ldap_groups", "addresses"):
        assert len(built[part]) == factor * len(lab[part]), part
    accounts = {d["service_account"]["uid"] for d in built["deployments"]}
    assert len(accounts) == factor * len(lab["deployments"])


def test_sizes_counts_what_the_model_builds():
    model = scale_model.scaled_model(LAB_MODEL, 4, PREFIX)
    built = build_model(model)
    assert scale_model.sizes(model) == {"projects": len(built["projects"]), "deployments": len(built["deployments"]),
                                        "vms": len(built["vms"]), "stations": len(built["stations"])}
    assert scale_model.sizes(LAB_MODEL)["vms"] == 48  # README: the lab model has 48 VMs, stations included


def test_everything_is_named_with_the_prefix():
    built = build_model(scale_model.scaled_model(LAB_MODEL, 4, PREFIX))
    assert built["domain"] == f"{PREFIX}.s2p.esa.int"
    names = list(built["projects"]) + list(built["stations"]) + [vm["name"] for vm in built["vms"]]
    assert names and all(PREFIX in name for name in names)
    assert all(d["stack"].startswith(PREFIX) for d in built["deployments"])


def test_copies_spread_over_the_three_sites():
    built = build_model(scale_model.scaled_model(LAB_MODEL, 3, PREFIX))
    per_site = collections.Counter(vm["site"] for vm in built["vms"])
    # three copies move every VM once to each site: the same number everywhere
    assert len(set(per_site.values())) == 1 and sorted(per_site) == ["esec", "esoc", "esrin"]


def test_no_address_is_shared_with_the_lab_model_or_the_test_copies(lab):
    built = build_model(scale_model.scaled_model(LAB_MODEL, 16, PREFIX))
    ours = {ipaddress.ip_address(ip) for ip in built["addresses"].values()}
    lab_subnets = [ipaddress.ip_network(site["subnet"]) for site in LAB_MODEL["s2p_sites"]]
    assert not any(ip in net for ip in ours for net in lab_subnets)
    assert len(ours) == len(built["addresses"])


@pytest.mark.parametrize("factor", [0, scale_model.MAX_FACTOR + 1])
def test_a_factor_out_of_range_is_refused(factor):
    with pytest.raises(ValueError, match="factor must be 1 to"):
        scale_model.scaled_model(LAB_MODEL, factor, PREFIX)
