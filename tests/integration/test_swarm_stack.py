"""esa.s2p.swarm_stack on the lab's three-site swarm (swarm_sites: esoc, esec, esrin managers,
images pulled from the lab registry by digest): a busybox httpd project in IRE, PREOPE and OPE
deployed in one batch, re-run, check mode, diff, image roll-out, a failing healthcheck rolled
back, secret rotation, bad inputs, and secret markers never in any output."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
import threading
import time
import urllib.request

import docker
import pytest
from health_helpers import assert_no_marker

ENVS = ["ire", "preope", "ope"]
TASK = "stacks"


@pytest.fixture(scope="module")
def sites(lab):
    if "swarm_sites" not in lab:
        pytest.fail("the lab has no swarm_sites service: run `python3 lab/lab.py up swarm_sites`")
    return lab["swarm_sites"]


@pytest.fixture(scope="module")
def manager(sites):
    return docker.DockerClient(base_url=sites["docker_host"], timeout=60)


@pytest.fixture(scope="module")
def images(sites, manager):
    """Three versions of a tiny httpd image in the lab registry: v1, v2 (other page), bad (no page:
    its healthcheck fails)."""
    repo = "%s/s2p/test-web-%s" % (sites["registry"], random.randrange(16 ** 6))
    base = sites["images"]["busybox"]
    refs = {}
    for version, page in (("v1", b"version one\n"), ("v2", b"version two\n"), ("bad", None)):
        # "bad" is started with -h /nowhere (see _service): httpd answers 404, the healthcheck fails
        dockerfile = "FROM %s\n%s\n" % (base, "COPY index.html /var/www/index.html" if page else "LABEL broken=yes")
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            for name, data in (("Dockerfile", dockerfile.encode()), ("index.html", page or b"")):
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(data), time.time()  # vfs diffs by size and mtime
                tar.addfile(info, io.BytesIO(data))
        context.seek(0)
        ref = "%s:%s" % (repo, version)
        manager.images.build(fileobj=context, custom_context=True, tag=ref, network_mode="none", rm=True,
                             nocache=True)
        manager.images.push(ref)
        refs[version] = ref
    return refs


def _service(image, port, env="ire", **extra):
    www = "/var/www" if not image.endswith(":bad") else "/nowhere"
    spec = {"name": "web", "image": image, "replicas": 2, "sites": ["esoc", "esec", "esrin"],
            "command": ["httpd", "-f", "-p", "8080", "-h", www],
            "ports": [{"published": port, "target": 8080}],
            "healthcheck": {"test": ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/"],
                            "interval": 1, "timeout": 2, "retries": 2},
            "update": {"monitor": 4}, "env": {"S2P_ENV": env}, "networks": ["front"],
            "secrets": ["api-key"], "configs": [{"source": "settings", "target": "/etc/s2p.conf"}]}
    spec.update(extra)
    return spec


def _stacks(prefix, images, ports, secret, version="v1", state="present"):
    return [{"name": "%s-%s" % (prefix, env), "state": state, "networks": ["front"],
             "secrets": [{"name": "api-key", "value": secret}],
             "configs": [{"name": "settings", "data": "environment=%s\n" % env}],
             "services": [_service(images[version], ports[env], env)]} for env in ENVS]


def _play(stacks, **options):
    return [{"name": "stacks", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/esa.s2p.swarm": "{{ s2p_swarm_connection }}"},
             "tasks": [{"name": TASK, "esa.s2p.swarm_stack": dict(stacks=stacks, wait_timeout=180, **options)}]}]


def _get(sites, port):
    """The page served on `port` by every site that runs a task (a failed request: None)."""
    pages = []
    for address in sites["addresses"].values():
        try:
            with urllib.request.urlopen("http://%s:%d/" % (address, port), timeout=3) as answer:
                pages.append(answer.read().decode())
        except OSError:
            continue
    return pages


@pytest.fixture
def project(prefix, run_playbook, images, manager):
    base = random.randrange(21000, 29000, 10)
    ports = {env: base + index for index, env in enumerate(ENVS)}
    yield prefix, ports
    run_playbook(_play([{"name": "%s-%s" % (prefix, env), "state": "absent"} for env in ENVS]))
    left = [s.name for s in manager.services.list() if s.name.startswith(prefix)]
    assert not left, left


def test_deploy_rerun_check_diff_rollout_and_rotation(project, run_playbook, images, sites, manager,
                                                      secret_marker):
    prefix, ports = project
    stacks = _stacks(prefix, images, ports, secret_marker)
    # check mode predicts the first deploy and writes nothing
    predicted = run_playbook(_play(stacks), check=True, diff=True)
    assert predicted.rc == 0 and predicted.changed == 1, predicted.stdout[-3000:]
    assert not [s for s in manager.services.list() if s.name.startswith(prefix)]
    first = run_playbook(_play(stacks), diff=True, verbosity=4)
    assert first.rc == 0, first.stdout[-3000:]
    assert [s["actions"] for s in first.result(TASK)["stacks"]] == \
        [s["actions"] for s in predicted.result(TASK)["stacks"]]
    for env in ENVS:
        assert _get(sites, ports[env]) == ["version one\n"] * 2
        service = manager.services.get("%s-%s_web" % (prefix, env))
        image = service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        assert "@sha256:" in image  # pinned by digest
        assert service.attrs["Spec"]["UpdateConfig"]["FailureAction"] == "rollback"
        assert service.attrs["Spec"]["UpdateConfig"]["Order"] == "start-first"
    configs = sorted(c.name for c in manager.configs.list() if c.name.startswith(prefix))
    assert len(configs) == 3 and all("_settings_" in c for c in configs)  # versioned by content hash
    second = run_playbook(_play(stacks), check=False)
    assert second.rc == 0 and second.changed == 0, second.stdout[-3000:]
    assert run_playbook(_play(stacks), check=True).changed == 0
    info = run_playbook([{"name": "info", "hosts": "localhost", "gather_facts": False,
                          "module_defaults": {"group/esa.s2p.swarm": "{{ s2p_swarm_connection }}"},
                          "tasks": [{"name": "info", "esa.s2p.swarm_stack_info": {
                              "names": ["%s-%s" % (prefix, e) for e in ENVS]}}]}])
    described = info.result("info")["stacks"]
    assert [s["name"] for s in described] == sorted("%s-%s" % (prefix, e) for e in ENVS)
    for stack in described:
        (web,) = stack["services"]
        assert web["running"] == 2 and web["replicas"] == 2 and web["spec_hash"]
        running = [t for t in web["tasks"] if t["state"] == "running"]
        assert len({t["site"] for t in running}) == 2  # spread over two sites

    # a new image rolls out to IRE only; diff shows the image change
    stacks[0]["services"][0]["image"] = images["v2"]
    rollout = run_playbook(_play(stacks), diff=True)
    assert rollout.rc == 0, rollout.stdout[-3000:]
    assert [s["changed"] for s in rollout.result(TASK)["stacks"]] == [True, False, False]
    assert "test-web" in rollout.stdout and ":v2@sha256:" in rollout.stdout
    assert _get(sites, ports["ire"]) == ["version two\n"] * 2
    assert _get(sites, ports["preope"]) == ["version one\n"] * 2

    # a failing healthcheck: Swarm rolls back, the task fails clearly, v2 keeps serving
    stacks[0]["services"][0] = _service(images["bad"], ports["ire"])
    bad = run_playbook(_play(stacks))
    assert bad.rc != 0
    message = bad.result(TASK)["msg"]
    assert "rolled back service %s-ire_web" % prefix in message, message
    assert _get(sites, ports["ire"]) == ["version two\n"] * 2

    # secret rotation: a new version, services converge on it, the old version is removed
    rotated = secret_marker + "-2"
    stacks = _stacks(prefix, images, ports, rotated)
    stacks[0]["services"][0]["image"] = images["v2"]
    outages, probing = [], threading.Event()

    def probe():  # some site serves IRE at every moment of the rotation (start-first updates)
        while not probing.is_set():
            if not _get(sites, ports["ire"]):
                outages.append(time.monotonic())
            time.sleep(0.2)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        rotation = run_playbook(_play(stacks), verbosity=4)
    finally:
        probing.set()
        prober.join()
    assert not outages, f"IRE served nothing {len(outages)} time(s) during the secret rotation"
    assert rotation.rc == 0, rotation.stdout[-3000:]
    names = sorted(s.name for s in manager.secrets.list() if s.name.startswith(prefix))
    assert len(names) == 3 and all(n.rsplit("_", 1)[0].endswith("api-key") for n in names)
    # never named by a plain hash of the value (docker secret ls would confirm a guessed one)
    for value in (secret_marker, rotated):
        digest = hashlib.sha256(value.encode()).hexdigest()
        assert not [n for n in names for size in range(6, 13) if digest[:size] in n], names
    assert _get(sites, ports["preope"]) == ["version one\n"] * 2
    assert_no_marker(first, secret_marker)
    assert_no_marker(rotation, secret_marker, rotated)


# One fault per stack; all of them in ONE batch with a good stack: every fault is reported with its
# stack, service and field, and nothing of any stack (the good one included) is created.
BAD = [
    ({"replicas": -1}, "service web: replicas: must be an integer from 0 to 1000, got -1"),
    ({"replicas": "two"}, "service web: replicas: must be an integer"),
    ({"sites": ["mars"]}, "service web: sites: unknown site label(s) mars"),
    ({"sites": []}, "service web: sites: must name at least one site"),
    ({"image": "Not//An:Image"}, "service web: image: 'Not//An:Image' is not a valid image reference"),
    ({"image": "busybox@sha256:123"}, "service web: image: 'busybox@sha256:123' is not a valid image reference"),
    ({"secrets": ["missing"]}, "service web: secrets: unknown secret 'missing'"),
    ({"configs": ["missing"]}, "service web: configs: unknown config 'missing'"),
    ({"networks": ["back"]}, "service web: networks: unknown network 'back'"),
    ({"ports": [{"published": 80, "target": 80}, {"published": 80, "target": 8080}]},
     "service web: ports[1]: published port 80/tcp is already used"),
    ({"ports": [{"published": 70000, "target": 80}]}, "service web: ports[0]: published: must be an integer"),
    ({"ports": [{"published": 80, "target": 80, "protocol": "sctp"}]}, "protocol: must be tcp or udp"),
    ({"ports": [{"target": 80}]}, "service web: ports[0]: needs both published and target"),
    ({"mode": "daemonset"}, "service web: mode: must be one of replicated, global"),
    ({"healthcheck": {"test": []}}, "service web: healthcheck: test: needs a command"),
    ({"healthcheck": {"test": ["CMD", "true"], "interval": -5}}, "healthcheck: interval: must be a number"),
    ({"resources": {"limit_memory": "64X"}}, "resources: limit_memory: must be a size such as 64M or 1G"),
    ({"env": {"BAD-KEY": "x"}}, "service web: env: invalid variable name(s) BAD-KEY"),
    ({"command": {"a": 1}}, "service web: command: must be a list of strings"),
    ({"update": {"parallelism": -1}}, "service web: update: parallelism: must be an integer"),
    ({"constraints": ["node.labels.site"]}, "is not a placement constraint"),
    ({"colour": "blue"}, "service web: unknown key(s) colour"),
]


@pytest.mark.smoke
def test_bad_inputs_change_nothing(prefix, run_playbook, sites, manager, secret_marker):
    image = sites["image_digests"]["busybox"]
    stacks = []
    for index, (change, _words) in enumerate(BAD):
        service = dict({"name": "web", "image": image, "command": ["sleep", "3600"], "secrets": ["api-key"]},
                       **change)
        stacks.append({"name": "%s-bad%02d" % (prefix, index), "secrets": [{"name": "api-key", "value": secret_marker}],
                       "services": [service]})
    stacks.append({"name": "%s-good" % prefix, "services": [{"name": "web", "image": image}]})
    run = run_playbook(_play(stacks), verbosity=4)
    result = run.result(TASK)
    assert run.rc != 0 and result["changed"] is False
    assert "%d problem(s) in the input, nothing was changed" % len(BAD) in result["msg"], result["msg"]
    for index, (_change, words) in enumerate(BAD):
        stack = "stack %s-bad%02d: " % (prefix, index)
        assert [e for e in result["errors"] if e.startswith(stack) and words in e], (words, result["errors"])
    assert_no_marker(run, secret_marker)
    assert not [s for s in manager.services.list() if s.name.startswith(prefix)]
    assert not [s for s in manager.secrets.list() if s.name.startswith(prefix)]
    assert not [n for n in manager.networks.list() if n.name.startswith(prefix)]


def test_missing_image_fails_before_any_change(prefix, run_playbook, sites, manager):
    stacks = [{"name": "%s-ire" % prefix, "services": [
        {"name": "web", "image": "%s/s2p/no-such-image:1" % sites["registry"]}]}]
    run = run_playbook(_play(stacks))
    assert run.rc != 0
    assert "cannot be resolved to a digest" in run.result(TASK)["msg"]
    assert not [s for s in manager.services.list() if s.name.startswith(prefix)]


@pytest.mark.smoke
def test_name_conflict_with_a_service_outside_the_stack(prefix, run_playbook, sites, manager):
    other = manager.services.create(sites["image_digests"]["busybox"], name="%s-ire_web" % prefix,
                                    command=["sleep", "3600"])
    try:
        stacks = [{"name": "%s-ire" % prefix, "services": [
            {"name": "web", "image": sites["image_digests"]["busybox"], "command": ["sleep", "3600"]}]}]
        run = run_playbook(_play(stacks))
        assert run.rc != 0
        assert "exists and belongs to no stack" in run.result(TASK)["msg"]
    finally:
        other.remove()


UNHEALTHY = {
    "healthcheck fails": {
        "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
        "healthcheck": {"test": ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:9/"],  # nothing listens on 9
                        "interval": 1, "timeout": 1, "retries": 1}},
    # runs for 2 s, then exits: "running" at the first polls, yet never healthy
    "exits after two seconds": {"command": ["sh", "-c", "sleep 2; exit 3"]},
}


@pytest.mark.parametrize("how", sorted(UNHEALTHY))
def test_a_new_service_that_never_gets_healthy_fails_clearly(how, prefix, run_playbook, sites, manager):
    """No previous version to roll back to: the task fails saying so, instead of waiting out the timeout."""
    stack = {"name": "%s-ire" % prefix, "services": [dict(
        UNHEALTHY[how], name="web", image=sites["image_digests"]["busybox"], replicas=1, stop_grace_period=1)]}
    try:
        run = run_playbook(_play([stack]))
        result = run.result(TASK)
        assert run.rc != 0, run.stdout[-3000:]
        assert "new service %s-ire_web never became healthy and there is no previous version to roll back to" \
            % prefix in result["msg"], result["msg"]
        assert "keep failing" in result["msg"] and "did not converge within" not in result["msg"]
        assert [s.name for s in manager.services.list() if s.name.startswith(prefix)] == ["%s-ire_web" % prefix]
    finally:
        gone = run_playbook(_play([{"name": "%s-ire" % prefix, "state": "absent"}]))
    assert gone.rc == 0 and not [s for s in manager.services.list() if s.name.startswith(prefix)]


def test_a_batch_rolls_out_in_waves_and_a_failing_wave_stops_the_later_ones(prefix, run_playbook, sites, manager):
    """rollout_limit 2: four stacks of one service and one of two roll out in waves of at most two services;
    each wave converges before the next is created. Then a batch whose first wave never gets healthy fails
    there and leaves the stacks of the later waves uncreated."""
    image = sites["image_digests"]["busybox"]

    def stack(name, services=1, **extra):
        spec = {"image": image, "replicas": 1, "stop_grace_period": 1, "update": {"monitor": 1},
                "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"]}
        return {"name": f"{prefix}-{name}", "services": [dict(spec, name=f"s{i}", **extra) for i in range(services)]}

    names = ["w1", "w2", "w3", "w4"]
    try:
        run = run_playbook(_play([stack(n) for n in names] + [stack("w5", 2)], rollout_limit=2))
        assert run.rc == 0, run.stdout[-3000:]
        progress = [p for p in run.result(TASK)["progress"] if p.startswith("rollout wave")]
        assert progress == ["rollout wave 1 of 3: 2 stack(s), 2 service(s) to create or update",
                            "rollout wave 2 of 3: 2 stack(s), 2 service(s) to create or update",
                            "rollout wave 3 of 3: 1 stack(s), 2 service(s) to create or update"], progress
        created = {s.name: s.attrs["CreatedAt"] for s in manager.services.list() if s.name.startswith(prefix)}
        first_running = min(t["Status"]["Timestamp"] for n in (f"{prefix}-w1_s0", f"{prefix}-w2_s0")
                            for t in manager.services.get(n).tasks() if t["Status"]["State"] == "running")
        assert created[f"{prefix}-w3_s0"] > first_running, created  # wave 2 started once wave 1 ran
        again = run_playbook(_play([stack(n) for n in names] + [stack("w5", 2)], rollout_limit=2))
        assert again.rc == 0 and not again.result(TASK)["changed"], again.stdout[-3000:]

        failing = [stack("bad1", command=["sh", "-c", "exit 3"]), stack("bad2", command=["sh", "-c", "exit 3"]),
                   stack("later")]
        run = run_playbook(_play(failing, rollout_limit=2))
        assert run.rc != 0, run.stdout[-3000:]
        assert "keep failing" in run.result(TASK)["msg"], run.result(TASK)["msg"]
        left = sorted(s.name for s in manager.services.list() if s.name.startswith(prefix))
        assert f"{prefix}-later_s0" not in left and f"{prefix}-bad1_s0" in left, left
    finally:
        gone = run_playbook(_play([{"name": f"{prefix}-{n}", "state": "absent"}
                                   for n in names + ["w5", "bad1", "bad2", "later"]]))
    assert gone.rc == 0 and not [s for s in manager.services.list() if s.name.startswith(prefix)]


def test_a_service_left_unhealthy_by_an_earlier_run_is_not_converged(prefix, run_playbook, sites, manager):
    """An earlier run that did not wait for its service to settle (killed during the wait; here,
    deterministically, wait=false) leaves the wanted spec deployed and unhealthy: the next run has
    nothing to change, but it must check the service again and fail, in check mode say so."""
    stack = {"name": "%s-ire" % prefix, "services": [dict(
        UNHEALTHY["exits after two seconds"], name="web", image=sites["image_digests"]["busybox"], replicas=1,
        stop_grace_period=1)]}
    try:
        first = run_playbook(_play([stack], wait=False))
        assert first.rc == 0 and first.result(TASK)["changed"] is True, first.stdout[-3000:]
        deadline = time.monotonic() + 60  # unhealthy = a task already failed (it exits after 2 s)
        while not [t for t in manager.api.tasks(filters={"service": "%s-ire_web" % prefix})
                   if t["Status"]["State"] == "failed"]:
            assert time.monotonic() < deadline, "no task of the service failed within 60 s"
            time.sleep(0.5)
        check = run_playbook(_play([stack]), check=True)
        found = check.result(TASK)
        assert check.rc == 0 and found["changed"] is False, check.stdout[-3000:]
        assert [u.split(":")[0] for u in found["stacks"][0]["unsettled"]] == ["service %s-ire_web" % prefix], found
        run = run_playbook(_play([stack]))
        result = run.result(TASK)
        assert run.rc != 0, run.stdout[-3000:]
        assert "%s-ire_web never became healthy" % prefix in result["msg"], result["msg"]
    finally:
        gone = run_playbook(_play([{"name": "%s-ire" % prefix, "state": "absent"}]))
    assert gone.rc == 0 and not [s for s in manager.services.list() if s.name.startswith(prefix)]
