"""The ElementTree parser of the inventory read (vsphere/fast_read): a RetrievePropertiesResponse
as vcsim and vCenter send it becomes the same objects the Inventory reads from pyVmomi."""

from __future__ import annotations

import pytest
from pyVmomi import vim

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.fast_read import _request_body, parse_response
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.inventory import (
    Inventory,
    host_summaries,
    marker_of,
    vm_summary,
)

XSI = 'xmlns:X="http://www.w3.org/2001/XMLSchema-instance"'


def _val(kind: str, inner: str, extra: str = "") -> str:
    return f'<val {XSI} X:type="{kind}"{extra}>{inner}</val>'


def _prop(name: str, val: str) -> str:
    return f"<propSet><name>{name}</name>{val}</propSet>"


EXTRA_CONFIG = (
    '<OptionValue X:type="OptionValue"><key>s2p.vm</key><value X:type="xsd:string">esoc-x-ire-app01</value>'
    '</OptionValue><OptionValue X:type="OptionValue"><key>s2p.state</key>'
    '<value X:type="xsd:string">ready</value></OptionValue>')
CUSTOM_VALUES = '<CustomFieldValue X:type="CustomFieldStringValue"><key>101</key><value>pd</value></CustomFieldValue>'
RESPONSE = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    '<soapenv:Body><RetrievePropertiesResponse xmlns="urn:vim25">'
    '<returnval><obj type="Datacenter">datacenter-2</obj>'
    + _prop("name", _val("xsd:string", "ESOC"))
    + _prop("parent", _val("ManagedObjectReference", "group-d1", ' type="Folder"')) + "</returnval>"
    '<returnval><obj type="Folder">folder-3</obj>'
    + _prop("name", _val("xsd:string", "vm"))
    + _prop("parent", _val("ManagedObjectReference", "datacenter-2", ' type="Datacenter"')) + "</returnval>"
    '<returnval><obj type="VirtualMachine">vm-7</obj>'
    + _prop("name", _val("xsd:string", "esoc-x-ire-app01 &amp; {{ no }}"))
    + _prop("parent", _val("ManagedObjectReference", "folder-3", ' type="Folder"'))
    + _prop("config.template", _val("xsd:boolean", "false"))
    + _prop("config.extraConfig", _val("ArrayOfOptionValue", EXTRA_CONFIG))
    + _prop("runtime.powerState", _val("VirtualMachinePowerState", "poweredOn"))
    + _prop("customValue", _val("ArrayOfCustomFieldValue", CUSTOM_VALUES))
    + _prop("guest.ipAddress", _val("xsd:string", "10.11.7.7"))
    + "</returnval></RetrievePropertiesResponse></soapenv:Body></soapenv:Envelope>")


def test_response_becomes_inventory_objects():
    objects = parse_response(RESPONSE.encode())
    assert [type(o.ref) for o in objects] == [vim.Datacenter, vim.Folder, vim.VirtualMachine]
    vm = objects[2]
    assert vm.moid == "vm-7" and vm["name"] == "esoc-x-ire-app01 & {{ no }}"
    assert vm["config.template"] is False and vm["parent"]._moId == "folder-3"
    assert marker_of(vm) == "esoc-x-ire-app01"
    inventory = Inventory(objects, {101: "s2p.segment"})
    summary = vm_summary(inventory, vm)
    assert summary["folder"] == "/ESOC/vm" and summary["datacenter"] == "ESOC"
    assert (summary["managed"], summary["build_state"], summary["power"]) == (True, "ready", "poweredon")
    assert (summary["segment"], summary["ip"]) == ("pd", "10.11.7.7")


def test_host_summaries_are_the_inventory_fields_of_vm_summary():
    """The inventory plugin's lean path gives the same values as vm_summary (what vsphere_vm_info
    returns) for what it reads: no moid, no hardware; an unmarked VM only without managed_only."""
    unmarked = RESPONSE.replace(EXTRA_CONFIG, "").replace("vm-7", "vm-8").replace("10.11.7.7", "fe80::1")
    objects = parse_response(RESPONSE.encode()) + parse_response(unmarked.encode())[2:]
    inventory = Inventory(objects, {101: "s2p.segment", 102: "notes"})
    full = dict((o.moid, vm_summary(inventory, o)) for o in inventory.vms())
    hosts = host_summaries(inventory, managed_only=False)
    assert len(hosts) == 2 and [h["managed"] for h in hosts] == [True, False]
    for host, moid in zip(hosts, ("vm-7", "vm-8"), strict=True):
        expected = dict((k, v) for k, v in full[moid].items()
                        if k not in ("moid", "cpus", "memory_mb") and v is not None)
        assert dict((k, v) for k, v in host.items() if v is not None) == expected
    assert hosts[0]["ip"] == "10.11.7.7" and "ip" not in hosts[1] and hosts[1]["ips"] == ["fe80::1"]
    assert [h["managed"] for h in host_summaries(inventory)] == [True]


def test_fault_is_an_error_not_a_traceback():
    fault = ('<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
             '<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode>'
             '<faultstring>The session is not authenticated.</faultstring></soapenv:Fault></soapenv:Body>'
             '</soapenv:Envelope>')
    with pytest.raises(S2PError, match="not authenticated"):
        parse_response(fault.encode())


def test_request_escapes_and_names_every_type():
    body = _request_body("propertyCollector", "session[1]<view>", {vim.VirtualMachine: ["name", "parent"],
                                                                   vim.Folder: ["name"]})
    assert "<type>VirtualMachine</type><pathSet>name</pathSet><pathSet>parent</pathSet>" in body
    assert "<type>Folder</type><pathSet>name</pathSet>" in body
    assert "session[1]&lt;view&gt;" in body


def test_find_by_name_kind_and_datacenter_including_objects_added_in_the_run():
    """find() looks objects up by name (an index, not a scan per call): same name in another
    datacenter or of another kind is not found, and a folder add()ed later is."""
    second_dc = RESPONSE.replace("datacenter-2", "datacenter-9").replace("folder-3", "folder-4").replace(
        "vm-7", "vm-5").replace(">ESOC<", ">ESEC<")
    inventory = Inventory(parse_response(RESPONSE.encode()) + parse_response(second_dc.encode()))
    name = "esoc-x-ire-app01 & {{ no }}"
    assert [o.moid for o in inventory.find("ESOC", vim.VirtualMachine, name)] == ["vm-7"]
    assert [o.moid for o in inventory.find("ESEC", vim.VirtualMachine, name)] == ["vm-5"]
    assert inventory.find("ESOC", vim.Folder, name) == [] and inventory.find("ESOC", vim.Folder, "new") == []
    added = inventory.add(vim.Folder("folder-10"), "new", "folder-3")
    assert inventory.find("ESOC", vim.Folder, "new") == [added] and inventory.find("ESEC", vim.Folder, "new") == []
