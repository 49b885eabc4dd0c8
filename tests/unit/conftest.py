"""Unit tests import the collection as ansible_collections.esa.s2p through Ansible's own
collection loader (as ansible-test does), so plugins load exactly as Ansible loads them."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import pytest
import yaml
from ansible.plugins.loader import init_plugin_loader

ROOT = Path(__file__).resolve().parents[2]


def _collections_root() -> Path:
    """.build/collections when `make collection` made it, else a temporary link to ROOT."""
    built = ROOT / ".build" / "collections"
    if (built / "ansible_collections" / "esa" / "s2p").resolve() == ROOT:
        return built
    tmp = Path(tempfile.mkdtemp(prefix="s2p-unit-"))
    (tmp / "ansible_collections" / "esa").mkdir(parents=True)
    (tmp / "ansible_collections" / "esa" / "s2p").symlink_to(ROOT)
    return tmp


COLLECTIONS_ROOT = _collections_root()
init_plugin_loader([str(COLLECTIONS_ROOT)])


def _site(name: str, octet: int) -> dict:
    return {"name": name, "datacenter": name.upper(), "cluster": name.upper() + "-CL01",
            "datastore": name + "-ds01", "folder": "s2p", "network": name + "-vm-net",
            "template": "debian-12-template", "subnet": "10.%d.0.0/16" % octet,
            "gateway": "10.%d.0.1" % octet, "dns_servers": ["10.%d.0.53" % octet]}


# A small good model. esec is referenced by nothing, so breaking it cascades nowhere.
BASE_MODEL = {
    "s2p_sites": [_site("esoc", 11), _site("esec", 12), _site("esrin", 13)],
    "s2p_projects": [
        {"name": "neocc", "segment": "pd",
         "environments": {"ire": {"sites": ["esrin"]}, "ope": {"sites": ["esrin", "esoc"]}},
         "services": ["web", {"name": "api", "port": 8000}],
         "vms": [{"role": "app", "count": 2}, "db"],
         "secrets": ["db-password"],
         "ldap_groups": [{"name": "developers", "members": ["jdoe"]}]},
        {"name": "dish", "segment": "sd", "environments": {"ope": {"sites": ["esoc"]}}},
    ],
    "s2p_stations": [{"name": "flyeye-1", "site": "esrin"}],
}


@pytest.fixture
def model() -> dict:
    """A fresh deep copy of BASE_MODEL to break."""
    return copy.deepcopy(BASE_MODEL)


@pytest.fixture
def inventory_model():
    """The model variables of inventories/<name>/group_vars/all/model.yml."""
    def _load(name: str) -> dict:
        return yaml.safe_load((ROOT / "inventories" / name / "group_vars" / "all" / "model.yml").read_text())
    return _load


@pytest.fixture
def root() -> Path:
    return ROOT
