"""SIGKILL chaos for playbooks/site.yml (tests/integration/test_site_sigkill.py).

KillingRunner starts ansible-playbook itself (not through ansible-runner, which hides the
process), reads its stdout line by line and, when the task of a kill point starts, waits the
point's seeded offset and SIGKILLs the whole process tree: the ansible-playbook process group
and every descendant (ansible runs each module in its own session, so a group kill alone
would leave the module running). The tree is frozen with SIGSTOP first, so nothing forks or
writes between the read of the tree and the kill.

expected_state() derives the desired state of a (prefixed) model with the collection's own
model code; state_problems() reads the lab through the backends' own clients (pyVmomi,
dnspython AXFR, ldap3, hvac, docker SDK) and lists every difference: duplicate, missing or
unfinished VMs, orphaned or missing DNS records, accounts that do not bind with Vault's
current password or still have a pending one, stacks not converged.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import re
import secrets
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import dns.query
import dns.rdatatype
import dns.update
import docker
import hvac
import ldap3
from ansible.plugins.loader import init_plugin_loader
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from dns_helpers import Bind
from identity_helpers import can_bind, entries_with_prefix, kv_read, ldap_admin, vault_root
from site_helpers import swarm_objects, vault_keys
from pyVmomi import vim
from vsphere_helpers import Vcsim, _descendants, _wait, endpoint_with_password

from conftest import LAB_DIR, LAB_INVENTORY, ROOT, VENV_BIN

init_plugin_loader([str(ROOT / ".build" / "collections")])
from ansible_collections.esa.s2p.plugins.module_utils.model import dns_records as model_dns  # noqa: E402
from ansible_collections.esa.s2p.plugins.module_utils.model import model as model_rules  # noqa: E402
from ansible_collections.esa.s2p.plugins.module_utils.model import naming  # noqa: E402

SITE = ROOT / "playbooks" / "site.yml"
SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
PAUSE_AT, PAUSE_FILE = "_S2P_CREDENTIAL_PAUSE_AT", "_S2P_CREDENTIAL_PAUSE_FILE"  # see workflows/credential.py


@dataclass(frozen=True)
class Stage:
    """Where a kill can land: the task (as the default callback prints it) whose start arms
    the kill, the range of the random offset after that start (a task that ends sooner is
    killed as the next one starts), or a credential phase (the
    credential module's test hook pauses there and the tree is killed while it waits).
    `default`: one of the ten points of `make test`; `make reliability` takes them all."""

    name: str
    task: str
    offsets: tuple[float, float] = (0.0, 0.0)
    phase: str | None = None
    default: bool = False


_VMS = "esa.s2p.vm : Converge the selected VMs in one batch"
_DNS = "esa.s2p.dns : DNS records of every deployment, in one batch"
_CERTIFICATES = "esa.s2p.certificate : Certificates of the model"
_CREDENTIALS = "esa.s2p.service_account : Credentials in Vault, applied to LDAP, rotated when due"
_SWARM = "esa.s2p.swarm_cluster : Converge the swarm's nodes"
_STACKS = "Converge every stack in one batch"

# In site.yml's order. The station's VMs, names, certificate, account, credential and stack are
# items of the same batches as the projects' (site.yml), so the late offsets land in them.
STAGES = [
    Stage("preflight", "esa.s2p.preflight : Preflight | check every backend in one module run", (0.1, 0.8)),
    Stage("vms", _VMS, (0.5, 4.0), default=True),
    Stage("vms-late", _VMS, (2.0, 8.0), default=True),
    Stage("vms-end", _VMS, (6.0, 14.0)),
    Stage("dns", _DNS, (0.5, 3.0), default=True),
    Stage("dns-late", _DNS, (1.0, 4.0)),
    Stage("certificates", _CERTIFICATES, (1.0, 6.0), default=True),
    Stage("certificates-late", _CERTIFICATES, (3.0, 10.0)),
    Stage("vault-projects", "esa.s2p.service_account : Vault policy and AppRole per project environment", (0.3, 1.5)),
    Stage("ldap-groups", "esa.s2p.service_account : LDAP groups of the projects", (0.3, 1.5)),
    Stage("ldap-accounts", "esa.s2p.service_account : LDAP service accounts", (0.3, 1.5), default=True),
    Stage("credential-pending", _CREDENTIALS, phase="pending", default=True),
    Stage("credential-applied", _CREDENTIALS, phase="applied", default=True),
    Stage("credentials", _CREDENTIALS, (0.3, 1.5)),
    Stage("credentials-late", _CREDENTIALS, (1.0, 3.0)),
    Stage("swarm", _SWARM, (0.1, 1.0), default=True),
    Stage("swarm-late", _SWARM, (0.5, 2.0)),
    Stage("stacks", _STACKS, (1.0, 4.0), default=True),
    Stage("stacks-late", _STACKS, (3.0, 8.0), default=True),
    Stage("stacks-end", _STACKS, (6.0, 14.0)),
]


@dataclass(frozen=True)
class KillPoint:
    stage: Stage
    offset: float

    def __str__(self) -> str:
        where = f"phase {self.stage.phase}" if self.stage.phase else f"+{self.offset:.2f}s"
        return f"{self.stage.name} ({where} in [{self.stage.task}])"


def kill_points(seed: int, which: str = "default") -> list[KillPoint]:
    """The ten default points, or all twenty ("all"), in site.yml's order, each with its
    seeded offset inside its task."""
    rng = random.Random(seed)
    stages = [s for s in STAGES if which == "all" or s.default]
    return [KillPoint(s, 0.0 if s.phase else round(rng.uniform(*s.offsets), 2))
            for s in stages]


@dataclass
class Outcome:
    """One ansible-playbook run: killed (at which task) or finished (rc, changed per task)."""

    number: int
    point: KillPoint | None
    killed: bool = False
    rc: int | None = None
    seconds: float = 0.0
    tasks: list[str] = field(default_factory=list)
    changed_tasks: list[str] = field(default_factory=list)
    failed_tasks: list[str] = field(default_factory=list)
    recap_changed: int | None = None
    log: Path | None = None

    @property
    def landed(self) -> str:
        return self.tasks[-1] if self.tasks else "(before the first task)"

    def describe(self) -> str:
        what = (f"killed in [{self.landed}] (task {len(self.tasks)})" if self.killed
                else f"finished rc={self.rc} changed={self.recap_changed}")
        return f"run {self.number}: {self.point or 'complete run'}: {what} after {self.seconds:.0f}s"

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log else ""


class KillingRunner:
    """Runs site.yml (or `playbook`) on the lab inventory with extra vars; kills it at a point."""

    TASK = re.compile(r"^TASK \[(.*)\] \*+")
    RECAP = re.compile(r"^\S+\s+: ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)")

    def __init__(self, workdir: Path, extravars: dict, playbook: Path = SITE):
        self.workdir, self.playbook = workdir, playbook
        self.vars_file = workdir / "model.json"
        self.vars_file.write_text(json.dumps(extravars))
        self.runs = 0

    def _env(self, point: KillPoint | None) -> dict:
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0", ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
                   S2P_LAB_DIR=str(LAB_DIR), PYTHONUNBUFFERED="1",
                   PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        for name in (PAUSE_AT, PAUSE_FILE):
            env.pop(name, None)
        if point and point.stage.phase:
            env.update({PAUSE_AT: point.stage.phase, PAUSE_FILE: str(self.pause_file)})
        return env

    @property
    def pause_file(self) -> Path:
        return self.workdir / f"pause-{self.runs}"

    def run(self, point: KillPoint | None = None) -> Outcome:
        self.runs += 1
        outcome = Outcome(self.runs, point, log=self.workdir / f"run-{self.runs:02d}.log")
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(LAB_INVENTORY), "-e", f"@{self.vars_file}",
               str(self.playbook)]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                start_new_session=True, env=self._env(point), cwd=ROOT)
        armed = queue.Queue()
        reader = threading.Thread(target=self._read, args=(proc, outcome, point, armed), daemon=True)
        reader.start()
        try:
            if point:
                self._wait_and_kill(proc, outcome, point, armed)
            proc.wait()
        finally:
            if proc.poll() is None:  # the test itself failed: never leave a run behind
                kill_tree(proc)
        reader.join(timeout=30)
        outcome.rc = proc.returncode
        outcome.seconds = time.monotonic() - started
        return outcome

    def _read(self, proc, outcome: Outcome, point: KillPoint | None, armed: queue.Queue) -> None:
        current = None
        with outcome.log.open("w") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                task = self.TASK.match(line)
                if task:
                    current = task.group(1)
                    outcome.tasks.append(current)
                    if point and _short(current) == _short(point.stage.task) and armed.empty():
                        armed.put(len(outcome.tasks))
                elif line.startswith("changed:") and current and current not in outcome.changed_tasks:
                    outcome.changed_tasks.append(current)
                elif line.startswith("fatal:") and current:
                    outcome.failed_tasks.append(current)
                recap = self.RECAP.match(line)
                if recap:
                    outcome.recap_changed = (outcome.recap_changed or 0) + int(recap.group(1))

    def _wait_and_kill(self, proc, outcome: Outcome, point: KillPoint, armed: queue.Queue) -> None:
        """Kill at the point's offset into its task, or as soon as the next task starts if the
        task ends sooner (so a point never lets the run go on); a phase point when the
        credential module waits at its phase."""
        while proc.poll() is None:
            try:
                started = armed.get(timeout=0.2)
                break
            except queue.Empty:
                continue
        else:
            return  # finished without reaching the point (or failed before it)
        deadline = time.monotonic() + point.offset
        while proc.poll() is None:
            if point.stage.phase:
                if self.pause_file.exists():
                    break
            elif time.monotonic() >= deadline or len(outcome.tasks) > started:
                break
            time.sleep(0.02)
        else:
            return
        kill_tree(proc)
        outcome.killed = True


def _short(task: str) -> str:
    """A task's name without its role (ansible prints `esa.s2p.vm : ...` or `vm : ...`)."""
    return task.rpartition(" : ")[2]


def _group_members(pgid: int) -> list[int]:
    found = []
    for pid in (int(entry) for entry in os.listdir("/proc") if entry.isdigit()):
        with contextlib.suppress(OSError):  # gone meanwhile
            if os.getpgid(pid) == pgid:
                found.append(pid)
    return found


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL ansible-playbook's process group and every descendant, frozen first."""
    frozen: set[int] = set()
    for _round in range(10):
        tree = set([proc.pid] + _descendants(proc.pid) + _group_members(proc.pid)) - frozen
        if not tree:
            break
        for pid in tree:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        frozen |= tree
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


# --- the desired state of the model and what the backends hold --------------------------

def expected_state(variables: dict) -> dict:
    """VMs, DNS (A and PTR), LDAP entries, credentials, Vault paths and policies, certificates and
    swarm services that site.yml converges the model to, from the collection's own model code."""
    model = model_rules.build_model(variables)
    stations = model["stations"].values()
    a_sets, ptrs = {}, {}
    for records in model_dns.records_by_owner(model, model["addresses"]).values():
        for record in records:
            a_sets[record["name"].rstrip(".").lower()] = set(record["values"])
            for ip in record["values"] if record.get("ptr") else ():
                ptrs[naming.reverse_dns(ip)] = record["name"].rstrip(".").lower()
    for station in stations:
        a_sets[station["ingest_fqdn"]] = {station["vms"][0]["ip"]}
    deployments = [d for p in model["projects"].values() for d in p["environments"].values()]
    credentials = {d["service_account"]["dn"].lower(): "/".join(
        [d["segment"], d["project"], d["environment"], "ldap-bind"]) for d in deployments}
    credentials.update((s["service_account"]["dn"].lower(), s["credential_path"]) for s in stations)
    certificates = {c["vault_kv_path"]: set(c["names"]) for c in model_dns.certificates(model)}
    certificates.update((s["tls_path"], {s["ingest_fqdn"]}) for s in stations)
    stacked = [d for d in deployments if d["environment"] in ("ire", "preope", "ope")]  # stacks.yml's default
    services = {f"{d['stack']}_{svc['name']}" for d in stacked for svc in d["services"]}
    app_secrets = {secret["path"] for d in stacked for secret in d["secrets"]}  # generated in Vault by swarm_stack
    for station in stations:
        services |= {f"{station['stack']}_{c['service']}" for c in station["cameras"]}
        services.add(f"{station['stack']}_{station['pipeline_service']}")
    return {
        "vms": {vm["name"]: vm["folder"] for vm in model["vms"]},
        "a": a_sets, "ptr": ptrs, "domain": model["domain"],
        "ldap": set(credentials) | {g["dn"].lower() for g in model["ldap_groups"]},
        "credentials": credentials, "certificates": certificates,
        "kv": set(credentials.values()) | set(certificates) | app_secrets,
        "policies": {d["vault_policy"] for d in deployments},
        "services": services,
    }


def _axfr(bind: Bind, zone: str):
    for message in dns.query.xfr(bind.server, zone, port=bind.port, keyring={bind.key.name: bind.key},
                                 keyname=bind.key.name, relativize=False, lifetime=60):
        for rrset in message.answer:
            yield rrset.name.to_text(omit_final_dot=True).lower(), rrset


def dns_problems(lab: dict, want: dict, prefix: str) -> list[str]:
    """Every record under the test's domain (and every PTR or ownership TXT that points into it)
    belongs to the model, and every declared A and PTR exists with its values."""
    bind, domain, problems = Bind(lab), want["domain"], []
    seen_a, seen_ptr, names = {}, {}, set()
    for name, rrset in _axfr(bind, "s2p.esa.int"):
        if name != domain and not name.endswith("." + domain):
            continue
        names.add(name)
        if rrset.rdtype == dns.rdatatype.A:
            seen_a[name] = {r.to_text() for r in rrset}
        elif not (rrset.rdtype == dns.rdatatype.TXT and name.startswith("_s2p-owner.")):
            problems.append(f"DNS orphan: {name} {dns.rdatatype.to_text(rrset.rdtype)} (not in the model)")
    for name, rrset in _axfr(bind, "10.in-addr.arpa"):
        if rrset.rdtype == dns.rdatatype.PTR:
            targets = {r.to_text().rstrip(".").lower() for r in rrset}
            if any(t.endswith("." + domain) for t in targets):
                seen_ptr[name] = targets
        elif rrset.rdtype == dns.rdatatype.TXT and prefix in str(rrset):
            names.add(name)
    for name in sorted(names):
        if name.startswith("_s2p-owner."):
            owned = name[len("_s2p-owner."):]
            if owned not in want["a"] and owned not in want["ptr"]:
                problems.append(f"DNS orphan: ownership record {name} of a name the model does not declare")
    for name in sorted(set(seen_a) | set(want["a"])):
        if seen_a.get(name) != want["a"].get(name):
            problems.append(f"DNS A {name}: {sorted(seen_a.get(name, []))}, model {sorted(want['a'].get(name, []))}")
    for name in sorted(set(seen_ptr) | set(want["ptr"])):
        wanted = {want["ptr"][name]} if name in want["ptr"] else set()
        if seen_ptr.get(name, set()) != wanted:
            problems.append(f"DNS PTR {name}: {sorted(seen_ptr.get(name, []))}, model {sorted(wanted)}")
    return problems


def vm_problems(lab: dict, want: dict, prefix: str) -> list[str]:
    """No duplicate (by name across all folders), none missing or extra, each in its folder,
    marked with its name and finished (not left 'building' by a killed clone)."""
    vcsim, problems = Vcsim(endpoint_with_password(lab)), []
    try:
        found = vcsim.vms(prefix)
        counts = Counter(vm.name for vm in found)
        problems += [f"duplicate VM {name}: {n} copies" for name, n in sorted(counts.items()) if n > 1]
        problems += [f"VM missing: {name}" for name in sorted(set(want["vms"]) - set(counts))]
        problems += [f"VM not in the model: {name}" for name in sorted(set(counts) - set(want["vms"]))]
        for vm in found:
            if vm.name not in want["vms"]:
                continue
            extra = {o.key: o.value for o in vm.config.extraConfig}
            folder = Vcsim.path(vm.parent)
            if folder != want["vms"][vm.name]:
                problems.append(f"VM {vm.name} in {folder}, model {want['vms'][vm.name]}")
            if extra.get("s2p.vm") != vm.name or extra.get("s2p.state") == "building":
                problems.append(f"VM {vm.name}: marker {extra.get('s2p.vm')!r}, state {extra.get('s2p.state')!r}")
    finally:
        vcsim.close()
    return problems


def identity_problems(lab: dict, want: dict, prefix: str) -> list[str]:
    """LDAP entries are exactly the model's; every account binds with Vault's current password
    and has no pending one; Vault holds exactly the model's KV paths and policies; every
    certificate in Vault covers its names."""
    problems = []
    conn = ldap_admin(lab)
    try:
        entries = {dn.lower() for dn in entries_with_prefix(conn, prefix)}
    finally:
        conn.unbind()
    problems += [f"LDAP entry missing: {dn}" for dn in sorted(want["ldap"] - entries)]
    problems += [f"LDAP entry not in the model: {dn}" for dn in sorted(entries - want["ldap"])]
    for dn, path in sorted(want["credentials"].items()):
        data = (kv_read(lab, path) or {}).get("data") or {}
        if not data.get("password"):
            problems.append(f"credential {path}: no current password in Vault")
        elif not can_bind(lab, dn, data["password"]):
            problems.append(f"credential mismatch: {dn} does not bind with Vault's current password ({path})")
        if data.get("pending_password"):
            problems.append(f"credential {path}: a pending password was left")
    paths = set(vault_keys(lab, prefix))
    problems += [f"Vault secret missing: {p}" for p in sorted(want["kv"] - paths)]
    problems += [f"Vault secret not in the model: {p}" for p in sorted(paths - want["kv"])]
    client = vault_root(lab)
    policies = {p for p in client.sys.list_acl_policies()["data"]["keys"] if p.startswith(f"s2p-{prefix}")}
    try:
        roles = {r for r in client.auth.approle.list_roles()["data"]["keys"] if r.startswith(f"s2p-{prefix}")}
    except hvac.exceptions.InvalidPath:
        roles = set()
    for kind, have in (("policy", policies), ("AppRole", roles)):
        problems += [f"Vault {kind} missing: {p}" for p in sorted(want["policies"] - have)]
        problems += [f"Vault {kind} not in the model: {p}" for p in sorted(have - want["policies"])]
    for path, names in sorted(want["certificates"].items()):
        data = (kv_read(lab, path) or {}).get("data") or {}
        pem = data.get("fullchain")  # leaf first (see workflows/certificate.py)
        if not pem:
            problems.append(f"certificate {path}: no certificate in Vault")
            continue
        cert = x509.load_pem_x509_certificates(pem.encode())[0]
        sans = set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                   .get_values_for_type(x509.DNSName))
        if sans != names:
            problems.append(f"certificate {path}: names {sorted(sans)}, model {sorted(names)}")
        key = serialization.load_pem_private_key(data.get("private_key", "").encode(), None) \
            if data.get("private_key") else None
        if key is None or key.public_key().public_bytes(*SPKI) != cert.public_key().public_bytes(*SPKI):
            problems.append(f"certificate {path}: the private key in Vault does not match the certificate")
    return problems


def swarm_problems(lab: dict, want: dict, prefix: str) -> list[str]:
    """Exactly the model's services, each converged: no update in progress, paused or rolled back,
    and every wanted task running."""
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    problems, names = [], set()
    for service in swarm_objects(lab, prefix)["services"]:
        name = service["Spec"]["Name"]
        names.add(name)
        state = (service.get("UpdateStatus") or {}).get("State")
        if state not in (None, "completed"):
            problems.append(f"stack service {name}: update state {state}")
        replicas = service["Spec"].get("Mode", {}).get("Replicated", {}).get("Replicas")
        running = [t for t in client.tasks(filters={"service": name, "desired-state": "running"})
                   if t["Status"]["State"] == "running"]
        if replicas is not None and len(running) != replicas:
            problems.append(f"stack service {name}: {len(running)} of {replicas} tasks running")
    problems += [f"stack service missing: {n}" for n in sorted(want["services"] - names)]
    problems += [f"stack service not in the model: {n}" for n in sorted(names - want["services"])]
    return problems


def state_problems(lab: dict, variables: dict, prefix: str) -> list[str]:
    want = expected_state(variables)
    return (vm_problems(lab, want, prefix) + dns_problems(lab, want, prefix)
            + identity_problems(lab, want, prefix) + swarm_problems(lab, want, prefix))


# --- faults planted after the last run: the checks must see each one ---------------------

def plant_faults(lab: dict, variables: dict, prefix: str) -> list[str]:
    """Break the converged state once per backend, as a killed run could leave it, and return
    the start of the problem line state_problems() must report for each: a stale ACME challenge
    TXT, a pending password in Vault, an account whose LDAP password is not Vault's, a second
    VM of the same name in another folder, a service the model does not declare."""
    want = expected_state(variables)
    fqdn = sorted(c for names in want["certificates"].values() for c in names)[0]
    bind = Bind(lab)
    update = dns.update.UpdateMessage("s2p.esa.int")
    update.add(f"_acme-challenge.{fqdn}.", 60, "TXT", '"left by a killed order"')
    update.use_tsig(bind.key)
    assert dns.query.tcp(update, bind.server, port=bind.port, timeout=10).rcode() == 0

    (dn_pending, path_pending), (dn_other, _path) = sorted(want["credentials"].items())[:2]
    client, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    data = client.secrets.kv.v2.read_secret_version(path=path_pending, mount_point=mount,
                                                    raise_on_deleted_version=False)["data"]["data"]
    client.secrets.kv.v2.create_or_update_secret(path=path_pending, mount_point=mount,
                                                 secret=dict(data, pending_password=secrets.token_urlsafe(24)))
    conn = ldap_admin(lab)
    try:
        assert conn.modify(dn_other, {"userPassword": [(ldap3.MODIFY_REPLACE, [secrets.token_urlsafe(24)])]})
    finally:
        conn.unbind()

    vcsim = Vcsim(endpoint_with_password(lab))
    try:
        vm = sorted(vcsim.vms(prefix), key=lambda v: v.name)[0]
        datacenter = vm.parent
        while not isinstance(datacenter, vim.Datacenter):
            datacenter = datacenter.parent
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=vm.resourcePool), powerOn=False)
        _wait(vm.CloneVM_Task(folder=datacenter.vmFolder, name=vm.name, spec=spec))
        duplicate = vm.name
    finally:
        vcsim.close()

    extra = sorted(want["services"])[0] + "-extra"
    docker.APIClient(base_url=lab["swarm_sites"]["docker_host"]).create_service(
        docker.types.TaskTemplate(docker.types.ContainerSpec(lab["swarm_sites"]["images"]["busybox"], ["sleep", "1"])),
        name=extra, mode=docker.types.ServiceMode("replicated", 0))
    return [f"DNS orphan: _acme-challenge.{fqdn}", f"credential {path_pending}: a pending password was left",
            f"credential mismatch: {dn_other} ", f"duplicate VM {duplicate}: 2 copies",
            f"stack service not in the model: {extra}"]
