"""The lab podman stand-in: ansible-runner's `podman run` as a docker command on the lab's
dockerd."""

from __future__ import annotations

import json

from lab_awx_modules import load

shim = load("podman_shim")

# What ansible-runner 2.4 builds for AWX 24 (config/_base.py wrap_args_for_containerization)
RUNNER_ARGS = [
    "run", "--rm", "--tty", "--interactive", "--workdir", "/runner/project",
    "-v", "/lab/tmp/awx_7_x/:/runner/:Z", "--group-add=root", "--ipc=host",
    "--env-file", "/lab/tmp/awx_7_x/artifacts/7/env.list", "--quiet", "--name", "ansible_runner_7",
    "--user=root", "--network", "slirp4netns:enable_ipv6=true", "--pull=missing",
    "s2p/ee:1", "ansible-playbook", "-i", "/runner/inventory/hosts", "--network", "site.yml",
]


def test_run_is_translated_for_docker():
    out = shim.translate(RUNNER_ARGS)
    image = out.index("s2p/ee:1")
    options, command = out[:image], out[image + 1:]
    assert options[0] == "run"
    for podman_only in ("--quiet", "--group-add=root", "slirp4netns:enable_ipv6=true"):
        assert podman_only not in options
    assert options.count("--network=host") == 1
    assert "--network" not in options
    for kept in ("--rm", "--tty", "--interactive", "/runner/project", "/lab/tmp/awx_7_x/:/runner/:Z",
                 "--ipc=host", "--user=root", "--pull=missing", "ansible_runner_7"):
        assert kept in options
    # the job's own command line is never touched, even where it looks like an option
    assert command == ["ansible-playbook", "-i", "/runner/inventory/hosts", "--network", "site.yml"]


def test_authfile_and_userns_dropped_in_both_spellings():
    out = shim.translate(["run", "--authfile=/x/auth.json", "--userns", "keep-id", "--authfile", "/y", "img"])
    assert out == ["run", "--network=host", "img"]


def test_other_subcommands_pass_through():
    assert shim.translate(["images", "--format", "json"]) == ["images", "--format", "json"]


def test_container_name_found_for_kill():
    assert shim.container_name(shim.translate(RUNNER_ARGS)) == "ansible_runner_7"
    assert shim.container_name(["run", "--name=ansible_runner_8", "img"]) == "ansible_runner_8"
    assert shim.container_name(["run", "img"]) is None


def test_the_jobs_docker_variables_go_to_the_container_not_to_the_cli():
    """A job whose credential sets DOCKER_HOST/DOCKER_TLS_VERIFY for its swarm: the CLI must not
    read them (it would connect there, or look for ~/.docker/ca.pem), the container gets them."""
    environ = {"PATH": "/bin", "DOCKER_HOST": "tcp://swarm.example:2376", "DOCKER_TLS_VERIFY": "1",
               "DOCKER_CERT_PATH": "/runner/env/certs", "VAULT_ADDR": "https://vault.example"}
    args, env = shim.cli_environment(shim.translate(RUNNER_ARGS), environ)
    assert env == {"PATH": "/bin", "VAULT_ADDR": "https://vault.example"}
    image = args.index("s2p/ee:1")
    assert {"--env=DOCKER_HOST=tcp://swarm.example:2376", "--env=DOCKER_TLS_VERIFY=1",
            "--env=DOCKER_CERT_PATH=/runner/env/certs"} <= set(args[:image])
    assert args[image + 1:] == ["ansible-playbook", "-i", "/runner/inventory/hosts", "--network", "site.yml"]
    assert shim.cli_environment(["images"], environ) == (["images"], env)


def test_the_lab_swarm_sockets_are_mounted_at_their_own_path(tmp_path):
    sockets = [tmp_path / site / "docker.sock" for site in ("esoc", "esrin")]
    for socket in sockets:
        socket.parent.mkdir()
        socket.touch()
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_text(json.dumps({"swarm_sites": {"managers": {
        "esoc": f"unix://{sockets[0]}", "esrin": f"unix://{sockets[1]}", "esec": f"unix://{tmp_path}/gone.sock",
        "remote": "tcp://10.0.0.1:2376"}}}))
    mounts = shim.lab_socket_mounts(str(endpoints))
    assert mounts == [f"--volume={s}:{s}" for s in sockets]  # existing unix sockets only
    args = shim.with_mounts(shim.translate(RUNNER_ARGS), mounts)
    image = args.index("s2p/ee:1")
    assert set(mounts) <= set(args[:image]) and args[image + 1:][:1] == ["ansible-playbook"]
    assert shim.lab_socket_mounts(None) == [] and shim.lab_socket_mounts(str(tmp_path / "none.json")) == []
