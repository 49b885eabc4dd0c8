#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: swarm_health
short_description: Check that the Docker daemon is a manager of a swarm with quorum
version_added: 0.1.0
description:
  - Pings the Docker daemon at O(docker_host) and reads its version, checks that it is in an active
    swarm and is a manager, that enough managers are reachable for the Raft quorum
    (floor(managers/2)+1), and that no node with availability C(active) is down.
  - Lists the swarm's nodes with role, availability, state and manager reachability.
  - Never fails because the daemon or swarm is unhealthy; returns RV(healthy) and one entry per
    check in RV(checks), whose message says what to fix. Fails only on invalid options.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
extends_documentation_fragment:
  - esa.s2p.swarm
  - esa.s2p.attributes.read_only
  - esa.s2p.swarm.action_group
"""

EXAMPLES = r"""
- name: Check the swarm before deploying stacks
  esa.s2p.swarm_health:
    docker_host: tcp://manager1.s2p.esa.int:2376
    validate_certs: true
    ca_path: /etc/pki/s2p/ca.pem
    client_cert: /etc/pki/s2p/automation.pem
    client_key: /etc/pki/s2p/automation.key
  register: swarm_health

- name: Show the drained nodes
  ansible.builtin.debug:
    msg: "{{ swarm_health.nodes | selectattr('availability', 'eq', 'drain') | map(attribute='hostname') }}"
"""

RETURN = r"""
healthy:
  description: True when every check passed.
  returned: always
  type: bool
checks:
  description: One entry per check, in the order they ran.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: What was checked.
      type: str
      returned: always
      sample: "manager quorum"
    ok:
      description: Whether the check passed.
      type: bool
      returned: always
    msg:
      description: The finding, or what to fix when C(ok) is false.
      type: str
      returned: always
docker_host:
  description: The daemon that was asked.
  returned: always
  type: str
daemon:
  description: Version facts of the daemon (Version, ApiVersion, Os, Arch, KernelVersion).
  returned: when the daemon answered
  type: dict
  sample: {Version: 20.10.24, ApiVersion: "1.41", Os: linux, Arch: amd64}
swarm:
  description: This node's view of the swarm.
  returned: when the daemon answered
  type: dict
  sample: {local_node_state: active, control_available: true, node_id: x1y2, cluster_id: c3d4, managers: 1, nodes: 1}
quorum:
  description: Managers in all, reachable, needed for quorum, and the unreachable ones.
  returned: when the daemon is a manager
  type: dict
  sample: {managers: 3, reachable: 3, needed: 2, has_quorum: true, unreachable: []}
nodes:
  description: Every node of the swarm with id, hostname, role, availability, state, addr, leader, reachability.
  returned: always (empty unless the daemon is a manager)
  type: list
  elements: dict
"""

from ansible_collections.esa.s2p.plugins.module_utils.swarm.client import health_report
from ansible_collections.esa.s2p.plugins.module_utils.swarm.adapter import swarm_client, swarm_module


def main():
    module = swarm_module(supports_check_mode=True)
    module.exit_json(changed=False, **health_report(swarm_client(module)))


if __name__ == "__main__":
    main()
