"""Pure part of the preflight's template check: the `vms` option of vsphere_health, grouped by
datacenter and template, with every bad item named."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.template_check import validate_vms


def test_vms_are_grouped_by_datacenter_and_template_and_extra_fields_ignored():
    groups = validate_vms([
        {"name": "a", "datacenter": "ESOC", "template": "t", "disk_gb": 40, "cpus": 2},
        {"name": "b", "datacenter": "ESOC", "template": "t"},
        {"name": "c", "datacenter": "ESRIN", "template": "t", "disk_gb": 10},
    ])
    assert groups == {("ESOC", "t"): [("a", 40), ("b", None)], ("ESRIN", "t"): [("c", 10)]}
    assert validate_vms([]) == {}


def test_every_bad_item_is_named():
    with pytest.raises(ValidationError) as err:
        validate_vms([{"name": "a", "datacenter": "ESOC"}, "b", {"name": "c", "datacenter": "X", "template": "t",
                                                                 "disk_gb": "40"}])
    assert err.value.errors == [
        "vms[0] (a).template: must be a non-empty string, got None",
        "vms[1]: must be a mapping with name, datacenter, template, got a string",
        "vms[2] (c).disk_gb: must be a whole number of GB >= 1, got '40'",
    ]
