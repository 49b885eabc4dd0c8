"""Docker API errors the swarm client maps to its own (module_utils/swarm/client.py, no daemon):
what a manager answers when the swarm lost its majority depends on timing, both read as no quorum."""

from __future__ import annotations

import docker
import pytest
import requests

from ansible_collections.esa.s2p.plugins.module_utils.swarm.client import NoQuorum, SwarmClient, SwarmError

HOST = "unix:///run/s2p-test.sock"


def api_error(status, explanation):
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("server error", response=response, explanation=explanation)


def failing(exc):
    def call():
        raise exc
    return call


@pytest.mark.parametrize("status, explanation", [
    (503, "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few "
          "managers are online. Make sure more than half of the managers are online."),
    (500, "rpc error: code = Unknown desc = context deadline exceeded"),
])
def test_a_swarm_without_majority_is_reported_as_no_quorum(status, explanation):
    with pytest.raises(NoQuorum) as info:
        SwarmClient(HOST).call("node list", failing(api_error(status, explanation)))
    assert "has no quorum" in info.value.message and "back online" in info.value.hint
    assert info.value.obj == "node list"


def test_other_server_errors_stay_plain_with_the_status():
    with pytest.raises(SwarmError) as info:
        SwarmClient(HOST).call("service web", failing(api_error(500, "something else broke")))
    assert not isinstance(info.value, NoQuorum)
    assert info.value.message == "the Docker daemon at %s answered HTTP 500: something else broke" % HOST
