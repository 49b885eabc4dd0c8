"""esa.s2p.swarm_stack with a stack secret read from Vault KV v2 (lab OpenBao, AppRole login) on the
lab's three-site swarm: a missing secret is generated in Vault exactly once, even by two concurrent
runs (check-and-set 0), with check mode predicting it; a new Vault version becomes a new Docker
secret (named after its version, never after its value), the service converges on it while some
site serves at every moment, the old version is removed afterwards, a changed config is versioned
the same way, a rerun changes nothing, and `absent` removes services, networks, secrets and
configs. The secret values must appear in no output (stdout at -vvvv, ANSIBLE_LOG_PATH,
ansible-runner events)."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time

import docker
import hvac
import pytest
from identity_helpers import vault_root
from swarm_helpers import served

TASK = "stacks"


def _short(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def _vault_name(stack: str, secret: str, path: str, version: int) -> str:
    """The Docker name of a Vault version: KV version and a hash of mount/path#field@version."""
    where = hashlib.sha256(f"s2p/{path}#value@{version}".encode()).hexdigest()[:8]
    return f"{stack}_{secret}_v{version}-{where}"


def _no_value_hash(names, *values):
    """No Docker name carries any prefix (6+ hex) of the plain sha256 of a secret value."""
    for value in values:
        digest = hashlib.sha256(value.encode()).hexdigest()
        for name in names:
            assert not [n for n in range(6, 13) if digest[:n] in name], f"{name} carries a hash of a value"


def _play(stack, **options):
    return [{"name": "stacks", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/esa.s2p.swarm": "{{ s2p_swarm_connection }}"},
             "tasks": [{"name": TASK, "esa.s2p.swarm_stack": dict(
                 stacks=stack if isinstance(stack, list) else [stack], vault="{{ s2p_vault_connection }}",
                 wait_timeout=180, **options)}]}]


def _stack(lab, name, path, port, settings):
    return {"name": name, "networks": ["front"],
            "secrets": [{"name": "api-key", "vault_path": path}],
            "configs": [{"name": "settings", "data": settings}],
            "services": [{
                "name": "web", "image": lab["swarm_sites"]["images"]["busybox"], "replicas": 1,
                "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
                "ports": [{"published": port, "target": 8080}], "networks": ["front"],
                "healthcheck": {"test": ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/"],
                                "interval": 1, "timeout": 2, "retries": 2},
                "update": {"monitor": 2}, "secrets": ["api-key"], "stop_grace_period": 1,
                "resources": {"limit_memory": "64M", "limit_cpus": 0.5, "reserve_memory": "8M"},
                "configs": [{"source": "settings", "target": "/etc/s2p.conf"}]}]}


def _hidden(runs, log, *values):
    texts = {"log": log.read_text() if log.exists() else ""}
    assert texts["log"], "ANSIBLE_LOG_PATH was not written"
    for index, run in enumerate(runs):
        texts[f"stdout of run {index}"] = run.stdout
        texts[f"events of run {index}"] = "\n".join(json.dumps(e) for e in run.events)
    for value in values:
        for where, text in texts.items():
            assert value not in text, f"a secret leaked into {where}"


@pytest.fixture
def vault_path(lab, prefix):
    client = vault_root(lab)
    path = f"pd/{prefix}/ire/api-key"  # the model's rule <segment>/<project>/<env>/<secret>
    yield path
    client.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=lab["openbao"]["kv_mount"])


def test_new_vault_version_rolls_out_as_a_new_docker_secret(lab, prefix, vault_path, run_playbook, tmp_path):
    vault, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    manager = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"], timeout=60)
    name, port = f"{prefix}-ire", random.randrange(32000, 33000)
    log = tmp_path / "ansible.log"
    first_value, second_value = "marker-" + prefix + "-one", "marker-" + prefix + "-two"
    vault.secrets.kv.v2.create_or_update_secret(path=vault_path, secret={"value": first_value}, mount_point=mount)

    def run(stack, **kw):
        return run_playbook(_play(stack), verbosity=4, envvars={"ANSIBLE_LOG_PATH": str(log)}, **kw)

    def mine(kind):
        return sorted(o["Spec"]["Name"] for o in getattr(manager, kind)() if o["Spec"]["Name"].startswith(prefix))

    runs, networks = [], []
    try:
        runs.append(run(_stack(lab, name, vault_path, port, "v=1\n")))
        assert runs[-1].rc == 0, runs[-1].stdout[-3000:]
        old_secret = _vault_name(name, "api-key", vault_path, 1)
        old_config = f"{name}_settings_{_short('v=1' + chr(10))}"
        assert mine("secrets") == [old_secret] and mine("configs") == [old_config]
        networks = [n["Id"] for n in manager.networks() if n["Name"] == f"{name}_front"]
        assert len(networks) == 1
        spec = manager.inspect_service(f"{name}_web")["Spec"]
        assert spec["TaskTemplate"]["Resources"] == {"Limits": {"NanoCPUs": 500000000, "MemoryBytes": 64 << 20},
                                                     "Reservations": {"MemoryBytes": 8 << 20}}
        assert spec["UpdateConfig"]["FailureAction"] == "rollback" and spec["UpdateConfig"]["Order"] == "start-first"
        assert spec["RollbackConfig"]["Order"] == "stop-first" and spec["RollbackConfig"]["FailureAction"] == "pause"

        # a new Vault version and a new config: check mode predicts the roll-out and touches nothing
        vault.secrets.kv.v2.create_or_update_secret(path=vault_path, secret={"value": second_value}, mount_point=mount)
        new_secret = _vault_name(name, "api-key", vault_path, 2)
        new_config = f"{name}_settings_{_short('v=2' + chr(10))}"
        stack = _stack(lab, name, vault_path, port, "v=2\n")
        runs.append(run(stack, check=True, diff=True))
        predicted = runs[-1].result(TASK)
        assert runs[-1].rc == 0 and predicted["changed"], runs[-1].stdout[-3000:]
        assert predicted["stacks"][0]["actions"] == [
            f"create secret {new_secret}", f"remove secret {old_secret}",
            f"create config {new_config}", f"remove config {old_config}", f"update service {name}_web"]
        assert mine("secrets") == [old_secret] and mine("configs") == [old_config]

        outages, stop = [], threading.Event()

        def probe():
            while not stop.is_set():
                if not served(lab["swarm_sites"], port):
                    outages.append(time.monotonic())
                time.sleep(0.2)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            runs.append(run(stack, diff=True))
        finally:
            stop.set()
            prober.join()
        assert runs[-1].rc == 0, runs[-1].stdout[-3000:]
        assert not outages, f"nothing served the stack {len(outages)} time(s) during the rotation"
        assert mine("secrets") == [new_secret] and mine("configs") == [new_config]
        service = manager.inspect_service(f"{name}_web")
        tasks = [t for t in manager.tasks(filters={"service": service["ID"], "desired-state": "running"})
                 if t["Status"]["State"] == "running"]
        assert len(tasks) == 1
        for task in tasks:  # the running task uses the new versions
            container = task["Spec"]["ContainerSpec"]
            assert [s["SecretName"] for s in container["Secrets"]] == [new_secret]
            assert [c["ConfigName"] for c in container["Configs"]] == [new_config]

        runs.append(run(stack))
        assert runs[-1].rc == 0 and runs[-1].changed == 0, runs[-1].stdout[-3000:]
        _hidden(runs, log, first_value, second_value)
        _no_value_hash([old_secret, new_secret], first_value, second_value)
    finally:
        gone = run_playbook(_play({"name": name, "state": "absent"}))
    assert gone.rc == 0, gone.stdout[-3000:]
    assert not mine("services") and not mine("secrets") and not mine("configs")
    for network in networks:  # gone from the swarm (a node lists its local copy until its tasks are gone)
        with pytest.raises(docker.errors.NotFound):
            manager.inspect_network(network, scope="swarm")


def test_vault_problems_fail_before_the_swarm_is_touched(lab, prefix, vault_path, run_playbook):
    manager = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"], timeout=60)
    stack = _stack(lab, f"{prefix}-ire", vault_path, 20000, "v=1\n")
    missing = run_playbook(_play(stack))
    result = missing.result(TASK)
    assert missing.rc != 0 and result["changed"] is False
    assert f"stack {prefix}-ire: secret api-key: s2p/{vault_path}: no such secret in Vault" in result["msg"]
    no_connection = run_playbook([{**_play(stack)[0], "tasks": [{"name": TASK, "esa.s2p.swarm_stack": {
        "stacks": [stack]}}]}])
    assert no_connection.rc != 0
    expected = "secret api-key: vault_path needs the vault connection (vault.url or VAULT_ADDR)"
    assert expected in no_connection.result(TASK)["msg"]
    assert not [s for s in manager.services() if s["Spec"]["Name"].startswith(prefix)]
    assert not [s for s in manager.secrets() if s["Spec"]["Name"].startswith(prefix)]


def test_missing_secrets_are_generated_in_vault_once_even_by_two_concurrent_runs(lab, prefix, vault_path,
                                                                                 run_playbook, tmp_path):
    vault, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    manager = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"], timeout=60)
    log = tmp_path / "ansible.log"
    names = [f"{prefix}-ire", f"{prefix}-ope"]  # two stacks sharing one Vault path
    stacks = [_stack(lab, name, vault_path, random.randrange(33000, 34000), "v=1\n") for name in names]
    for stack in stacks:
        stack["secrets"][0]["generate"] = {"length": 24, "charset": "hex"}
        stack["services"][0].pop("healthcheck")
    expected = [_vault_name(name, "api-key", vault_path, 1) for name in names]

    def run(batch, **kw):
        return run_playbook(_play(batch), verbosity=4, envvars={"ANSIBLE_LOG_PATH": str(log)}, **kw)

    def in_vault():
        try:
            return vault.secrets.kv.v2.read_secret_version(path=vault_path, mount_point=mount,
                                                           raise_on_deleted_version=False)["data"]
        except hvac.exceptions.InvalidPath:
            return None

    runs = []
    try:
        runs.append(run(stacks[:1], check=True))  # check mode predicts the creation, writes nothing
        assert runs[-1].rc == 0, runs[-1].stdout[-3000:]
        predicted = runs[-1].result(TASK)["stacks"][0]["actions"]
        assert predicted[:1] == [f"generate secret api-key in Vault at {vault_path}"], predicted
        assert f"create secret {expected[0]}" in predicted
        assert in_vault() is None

        racing = [None, None]

        def deploy(index):
            racing[index] = run([stacks[index]])

        threads = [threading.Thread(target=deploy, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        runs.extend(racing)
        for done in racing:
            assert done.rc == 0 and done.changed == 1, done.stdout[-3000:]
        generated = [r for r in racing if f"generate secret api-key in Vault at {vault_path}"
                     in r.result(TASK)["stacks"][0]["actions"]]
        assert len(generated) == 1  # one run generated it; the other read it (and says so)
        actions = racing[0].result(TASK)["stacks"][0]["actions"]
        assert actions == (predicted if generated[0] is racing[0] else predicted[1:])  # the prediction was exact
        entry = in_vault()
        assert entry["metadata"]["version"] == 1  # written once: the other run read it
        value = entry["data"]["value"]
        assert len(value) == 24 and set(value) <= set("0123456789abcdef")
        mine = sorted(s["Spec"]["Name"] for s in manager.secrets() if s["Spec"]["Name"].startswith(prefix))
        assert mine == sorted(expected)
        runs.append(run(stacks))
        assert runs[-1].rc == 0 and runs[-1].changed == 0, runs[-1].stdout[-3000:]
        _hidden(runs, log, value)
        _no_value_hash(mine, value)
    finally:
        gone = run_playbook(_play([{"name": name, "state": "absent"} for name in names]))
    assert gone.rc == 0, gone.stdout[-3000:]
