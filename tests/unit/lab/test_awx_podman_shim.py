"""The lab podman stand-in: ansible-runner's `podman run` as a docker command on the lab's
dockerd."""

from __future__ import annotations

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
