"""The pure parts of bench_scale.py: how the counting proxies name a request (LDAP operation, DNS
message, Docker API call) and how the plays of site.yml become stages."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import dns.message
import dns.update
import pytest
from ldap3.protocol.rfc4511 import DelRequest, LDAPMessage, MessageID, ProtocolOp, UnbindRequest
from pyasn1.codec.ber import encoder

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(f"s2p_bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


proxies = _load("counting_proxies")


def _ldap_wire(request, op_name: str, message_id: int) -> bytes:
    message = LDAPMessage()
    message["messageID"] = MessageID(message_id)
    operation = ProtocolOp()
    operation[op_name] = request
    message["protocolOp"] = operation
    return encoder.encode(message)


@pytest.mark.parametrize("message_id", [1, 300, 70000])
def test_ldap_operation_is_read_past_the_message_id(message_id):
    assert proxies.ldap_operation(_ldap_wire(UnbindRequest(), "unbindRequest", message_id)) == "unbind"


def test_ldap_frames_are_cut_at_the_ber_length():
    long_dn = "uid=" + "x" * 300 + ",ou=services,dc=s2p,dc=esa,dc=int"  # a long-form BER length
    wires = [_ldap_wire(DelRequest(long_dn), "delRequest", 2), _ldap_wire(UnbindRequest(), "unbindRequest", 3)]
    assert wires[0][1] & 0x80
    seen = []
    frames = proxies._Frames(proxies._ber_length, lambda m: seen.append(proxies.ldap_operation(m)))
    stream = b"".join(wires)
    for start in range(0, len(stream), 7):  # arrives in small pieces
        frames(stream[start:start + 7])
    assert seen == ["delete", "unbind"]


def test_dns_request_names_the_opcode_and_the_query_type():
    assert proxies.dns_request(dns.message.make_query("s2p.esa.int.", "SOA").to_wire()) == "QUERY SOA"
    assert proxies.dns_request(dns.message.make_query("s2p.esa.int.", "AXFR").to_wire()) == "QUERY AXFR"
    assert proxies.dns_request(dns.update.UpdateMessage("s2p.esa.int.").to_wire()) == "UPDATE"


@pytest.mark.parametrize("method, path, key", [
    ("GET", "/v1.41/services?filters=x", "GET /services"),
    ("POST", "/v1.41/services/abc123/update?version=3", "POST /services/*/update"),
    ("GET", "/v1.41/networks/b12-neocc-ire_default", "GET /networks/*"),
    ("POST", "/v1.41/secrets/create", "POST /secrets/create"),
    ("GET", "/version", "GET /version"),
])
def test_docker_call_leaves_out_version_and_names(method, path, key):
    assert proxies.docker_call(method, path) == key


def test_plays_become_stages_and_model_plays_count_with_the_next_stage():
    stages_of = _load("scale_stages")
    plays = [{"play": "Validate the S2P model", "start": 0}, {"play": "Preflight | one host per backend", "start": 1},
             {"play": "Provision the model's VMs", "start": 3}, {"play": "Validate the S2P model", "start": 10},
             {"play": "DNS records of the model", "start": 11}, {"play": "Summary per site", "start": 15},
             {"play": "end", "start": 16}]
    stages = stages_of.per_stage(stages_of.stage_windows(plays), {"dns": [(10.5, "QUERY AXFR"), (12, "UPDATE")]})
    assert {name: entry["s"] for name, entry in stages.items()} == {
        "model": 1, "preflight": 2, "vms": 7, "dns": 5, "summary": 1}
    assert stages["dns"]["requests"] == {"dns": 2}


def test_task_counts_leave_out_skipped_results_and_controller_actions():
    stages_of = _load("scale_stages")
    tasks = [{"task": "validate", "action": "esa.s2p.model_validate", "results": {"ok": 1}},
             {"task": "plan", "action": "set_fact", "results": {"ok": 1}},
             {"task": "converge", "action": "esa.s2p.vsphere_vm", "results": {"ok": 1}},
             {"task": "health", "action": "esa.s2p.swarm_health", "results": {"changed": 2, "failed": 1}},
             {"task": "prune", "action": "esa.s2p.vsphere_vm", "results": {"skipped": 1}},
             {"task": "report", "action": "ansible.builtin.debug", "results": {"ok": 1}}]
    assert stages_of.task_counts(tasks) == {"tasks": 6, "host_results": 7, "module_runs": 4}


def test_drift_check_misses_only_planted_drift_no_report_row_names():
    sys.path.insert(0, str(ROOT / "tests" / "integration"))  # scale_drift uses the integration helpers
    scale_drift = _load("scale_drift")
    planted = [{"change": "vm memory x2", "name": "esoc-b00-neocc-ope-db01", "drift": True},
               {"change": "vm powered off", "name": "esoc-b00-neocc-ope-app01", "drift": False},
               {"change": "service replicas 2", "name": "b00-neocc-ope_web", "drift": True},
               {"change": "policy rewritten", "name": "s2p-b00-neocc-ope", "drift": True}]
    rows = [{"name": "esoc-b00-neocc-ope-db01", "summary": "memory_mb: 2048 -> 4096"},
            {"name": "b00-neocc-ope", "summary": "update service b00-neocc-ope_web: 2 replicas, not 1"}]
    assert scale_drift.missed(planted, rows) == ["policy rewritten"]
    assert scale_drift.missed(planted, rows + [{"name": "s2p-b00-neocc-ope", "summary": ""}]) == []
