#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: swarm_stack_info
short_description: Services and tasks of Docker Swarm stacks, with their state
version_added: 0.1.0
description:
  - Lists the services of the named stacks (objects labelled C(com.docker.stack.namespace)), with
    image, mode, replicas, running task count, update status and the spec hash that
    M(esa.s2p.swarm_stack) stored, and every task with its node, site label, state and error.
  - Says whether each service is healthy (what C(playbooks/promote.yml) requires of its source).
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
extends_documentation_fragment:
  - esa.s2p.swarm
  - esa.s2p.swarm.action_group
options:
  names:
    description: Stacks to describe; all stacks when empty. A named stack without services is listed empty.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Read-only.
  diff_mode:
    support: none
    description: Nothing is changed.
  idempotent:
    support: full
    description: Read-only, never reports a change.
"""

EXAMPLES = r"""
- name: Read the IRE stack of the demo project
  esa.s2p.swarm_stack_info:
    names: [demo-ire]
  register: info

- name: Services not fully running
  ansible.builtin.debug:
    msg: "{{ info.stacks[0].services | rejectattr('running', 'eq', 2) | map(attribute='name') }}"
"""

RETURN = r"""
stacks:
  description: One entry per stack, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The stack.
      type: str
      returned: always
    services:
      description:
        - Services with name, id, image, mode, replicas, running, update_status, update_message,
          spec_hash and tasks (id, slot, node, site, desired_state, state, error, message, image, created,
          updated; newest first).
        - C(healthy) is false when an update was rolled back or paused, a wanted task is not running, or a
          task failed in the last 300 seconds (C(failed_recently) counts them); C(problem) says why.
      type: list
      elements: dict
      returned: always
"""

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.swarm.adapter import swarm_client, swarm_module
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack_info import stack_info


def main():
    module = swarm_module(argument_spec=dict(names=dict(type="list", elements="str", default=[])),
                          supports_check_mode=True)
    try:
        stacks = stack_info(swarm_client(module), module.params["names"])
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    module.exit_json(changed=False, stacks=stacks)


if __name__ == "__main__":
    main()
