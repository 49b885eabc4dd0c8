#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: swarm_cluster
short_description: Bring Docker nodes into one swarm with roles, availability and labels
version_added: 0.1.0
description:
  - Converges a list of nodes, each reached through its own daemon (O(nodes[].docker_host)); the
    other connection options (TLS) are shared by every node.
  - Initialises the swarm on the first manager when no listed manager is in a swarm, joins the
    other nodes as managers or workers with the swarm's join tokens (read from a manager, never
    returned or logged), and sets role (promote/demote), availability and labels through a manager.
    Labels listed are set; labels not listed are left alone.
  - A node with O(nodes[].state=absent) is demoted first when it is a manager, then leaves the
    swarm and is removed from the node list.
  - A node that the swarm removed (C(docker node rm)) while its daemon still believes it is a member
    leaves (forced) and joins again in its listed role; a node active in another swarm is refused.
  - Availability C(pause) keeps the node's tasks running and schedules no new ones there; C(drain)
    moves its tasks away.
  - Warns (or fails, O(even_managers=fail)) when the swarm would have an even number of managers,
    and fails before changing anything when the swarm has no quorum or when demoting/removing
    would lose it.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
extends_documentation_fragment:
  - esa.s2p.swarm
  - esa.s2p.swarm.action_group
options:
  nodes:
    description: The nodes of the swarm.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name used in messages and results (e.g. the site).
        type: str
        required: true
      docker_host:
        description: The node's own Docker daemon.
        type: str
        required: true
      role:
        description: Role in the swarm.
        type: str
        choices: [manager, worker]
        default: manager
      availability:
        description: Scheduling availability; C(drain) moves the node's tasks away.
        type: str
        choices: [active, drain, pause]
        default: active
      labels:
        description: Node labels to set (e.g. C(site), C(segment)).
        type: dict
        default: {}
      advertise_addr:
        description:
          - Address (optionally C(host:port)) the node advertises to the other nodes; needed to init or join.
          - When not set and O(nodes[].docker_host) is C(tcp://HOST:PORT), HOST is used (the address the
            node is reached on).
        type: str
      listen_addr:
        description:
          - Address (C(host:port)) of the node's swarm listener for cluster management traffic, used to init or join.
          - Other nodes join a manager at the address and port it advertises.
        type: str
        default: 0.0.0.0:2377
      state:
        description: C(absent) demotes (if a manager), leaves and removes the node.
        type: str
        choices: [present, absent]
        default: present
  even_managers:
    description: What to do when the swarm would have an even number of managers.
    type: str
    choices: [warn, fail]
    default: warn
  join_timeout:
    description: Seconds to wait for a joined node to be ready, or a demoted node to leave.
    type: int
    default: 90
attributes:
  check_mode:
    support: full
    description: Reads every node and reports the planned init, joins and spec changes; writes nothing.
  diff_mode:
    support: full
    description: Role, availability and labels of each node before and after.
  idempotent:
    support: full
    description: A converged cluster reports no change.
"""

EXAMPLES = r"""
- name: Three sites, all managers
  esa.s2p.swarm_cluster:
    nodes:
      - {name: esoc, docker_host: "tcp://swarm-esoc:2376", advertise_addr: 10.11.0.10, labels: {site: esoc}}
      - {name: esec, docker_host: "tcp://swarm-esec:2376", advertise_addr: 10.12.0.10, labels: {site: esec}}
      - {name: esrin, docker_host: "tcp://swarm-esrin:2376", advertise_addr: 10.13.0.10, labels: {site: esrin}}
    validate_certs: true
    ca_path: /etc/pki/s2p/ca.pem
"""

RETURN = r"""
nodes:
  description: One entry per node with its name and the actions taken (or planned in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{name: esrin, actions: ["availability active -> drain"]}]
"""

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.swarm.cluster import ClusterEngine, validate_nodes
from ansible_collections.esa.s2p.plugins.module_utils.swarm.adapter import swarm_client, swarm_module


def main():
    module = swarm_module(
        argument_spec=dict(
            nodes=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                docker_host=dict(type="str", required=True),
                role=dict(type="str", default="manager", choices=["manager", "worker"]),
                availability=dict(type="str", default="active", choices=["active", "drain", "pause"]),
                labels=dict(type="dict", default={}),
                advertise_addr=dict(type="str"),
                listen_addr=dict(type="str", default="0.0.0.0:2377"),
                state=dict(type="str", default="present", choices=["present", "absent"]),
            )),
            even_managers=dict(type="str", default="warn", choices=["warn", "fail"]),
            join_timeout=dict(type="int", default=90),
        ),
        supports_check_mode=True,
    )
    engine = ClusterEngine(lambda host: swarm_client(module, docker_host=host), check_mode=module.check_mode,
                           even_managers=module.params["even_managers"], join_timeout=module.params["join_timeout"])
    try:
        nodes = validate_nodes(module.params["nodes"])
        changed, results, diff = engine.converge(nodes)
    except S2PError as exc:
        module.no_log_values.update(engine.secrets)
        module.fail_json(**exc.as_fail_kwargs())
    module.no_log_values.update(engine.secrets)
    for warning in engine.warnings:
        module.warn(warning)
    result = dict(changed=changed, nodes=results)
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
