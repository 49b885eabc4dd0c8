#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: swarm_stack
short_description: Deploy a batch of Docker Swarm stacks through the Swarm API
version_added: 0.1.0
description:
  - Converges a list of stacks in one task over one connection to a swarm manager (services,
    overlay networks, versioned secrets and configs, all labelled C(com.docker.stack.namespace)
    like C(docker stack deploy) does), so the Docker CLI lists them as stacks.
  - The whole batch is validated before the daemon is asked anything; a bad item fails the task
    naming the stack, service and field, with nothing changed.
  - Fails fast when the swarm has no manager quorum, and when an image tag cannot be resolved.
  - A service is updated only when its spec hash changes. Image tags are resolved to digests
    (O(resolve_image)), so a moved tag rolls out and every node runs the same image.
  - Updates use C(failure_action=rollback) and C(order=start-first) (C(stop-first) for a service
    with host-mode ports when no eligible node is left free for a new task); the module waits until every
    changed service converged and fails with Swarm's message when Swarm rolled one back or its
    tasks keep failing (the previous version keeps serving).
  - Secrets and configs are versioned, and an old version is removed only after the services converged
    on the new one. Secret values come from Vault KV v2 (O(stacks[].secrets[].vault_path)), so a new
    Vault version rolls out as a new Docker secret, named after its KV version
    (C(<stack>_<name>_v<version>-<hash8>), the hash of mount, path, field and version, never of the value).
    A secret given as a value is named by an HMAC of it keyed with O(secret_name_key). Configs (not
    secret) are named by their content hash (C(<stack>_<name>_<hash12>)).
  - A Vault-sourced secret with O(stacks[].secrets[].generate) whose path does not exist yet is
    generated and written to Vault with check-and-set 0 (of two concurrent runs only one writes; the
    other reads and deploys that value), after every stack was planned and never in check mode (check
    mode reports the creation). The value is never returned or logged.
  - Only objects labelled with the stack's name are changed or removed.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
extends_documentation_fragment:
  - esa.s2p.swarm
  - esa.s2p.vault.optional_connection
  - esa.s2p.swarm.action_group
options:
  stacks:
    description:
      - The stacks to converge. Each is a mapping with C(name) (the stack namespace, e.g.
        C(<project>-<env>)), C(state) (C(present) or C(absent)), C(services), C(networks)
        (names or mappings with C(name), C(attachable)), C(secrets) (C(name), C(value)) and
        C(configs) (C(name), C(data)).
      - "A service has C(name), C(image), C(mode) (replicated or global), C(replicas), C(command),
        C(args), C(env) (mapping), C(ports) (list of C(published), C(target), C(protocol); always
        host mode: the lab and the sites run without the ingress mesh), C(healthcheck) (C(test),
        C(interval), C(timeout), C(retries), C(start_period) in seconds), C(resources)
        (C(limit_cpus), C(limit_memory), C(reserve_cpus), C(reserve_memory)), C(sites) (site labels
        the tasks may run on), C(constraints), C(networks), C(secrets) and C(configs) (names, or
        C(source)/C(target)), C(update) (C(parallelism), C(delay), C(monitor), C(max_failure_ratio)),
        C(labels), C(stop_grace_period)."
      - Secret values are hidden from logs and output (C(value) is C(no_log)).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Stack namespace; its services are named C(<name>_<service>).
        type: str
        required: true
      state:
        description: C(absent) removes the stack's services, networks, secrets and configs.
        type: str
        choices: [present, absent]
        default: present
      services:
        description: The services of the stack (see above).
        type: list
        elements: raw
      networks:
        description: Overlay networks of the stack, named C(<stack>_<name>).
        type: list
        elements: raw
      secrets:
        description:
          - Secrets of the stack; each version becomes a Docker secret (see the description for its name).
          - The value is read from Vault KV v2 (O(stacks[].secrets[].vault_path), with one login to O(vault)
            for the whole task) or given as O(stacks[].secrets[].value).
        type: list
        elements: dict
        suboptions:
          name:
            description: Name the services refer to.
            type: str
            required: true
          value:
            description: The secret value, when it is not read from Vault.
            type: str
          vault_path:
            description:
              - KV v2 path inside O(kv_mount) of the secret, from the naming rules (filter C(esa.s2p.vault_path),
                C(<segment>/<project>/<env>/<secret>)). Its newest version is used.
              - Exactly one of O(stacks[].secrets[].value) and O(stacks[].secrets[].vault_path) is needed.
            type: str
          vault_field:
            description: Key of the Vault secret's data that holds the value (V(value) when not set).
            type: str
          generate:
            description:
              - When O(stacks[].secrets[].vault_path) does not exist in Vault, generate a random value with
                this policy and write it there as version 1 (check-and-set 0), instead of failing.
              - Only with O(stacks[].secrets[].vault_path). An existing path, even with a deleted newest
                version, is never overwritten.
            type: dict
            suboptions:
              length:
                description: Number of characters (16 to 256).
                type: int
                default: 32
              charset:
                description:
                  - Characters to draw from; C(alphanumeric) letters and digits, C(hex), C(urlsafe) also C(-) and C(_).
                type: str
                choices: [alphanumeric, hex, urlsafe]
                default: alphanumeric
      configs:
        description: Configs of the stack, versioned like secrets.
        type: list
        elements: dict
        suboptions:
          name:
            description: Name the services refer to.
            type: str
            required: true
          data:
            description: The config content.
            type: str
            required: true
  kv_mount:
    description: KV v2 mount of O(stacks[].secrets[].vault_path).
    type: str
    default: s2p
  secret_name_key:
    description:
      - Key of the HMAC-SHA256 that names the Docker secrets given as O(stacks[].secrets[].value), so that
        nobody who can list the swarm's secrets can check a guessed value against a name. Keep it off the
        swarm (e.g. in the AWX credential) and keep it stable (a new key renames, and so rolls out, every
        such secret once).
      - Without it those names come from PBKDF2-HMAC-SHA256 salted with the stack and secret name, which
        only slows guessing down. Secrets read from Vault do not need it.
      - The environment variable E(S2P_SWARM_SECRET_NAME_KEY) is used when this is not set.
    type: str
  known_sites:
    description: Values of the node label C(site) that C(sites) may name.
    type: list
    elements: str
    default: [esoc, esec, esrin]
  resolve_image:
    description: Resolve image tags to digests through the daemon (the registry) before deploying.
    type: bool
    default: true
  wait:
    description:
      - Wait until changed services converged, and services an earlier run left unsettled (see RV(stacks)).
      - A changed service has converged when every task of the wanted version runs and has kept running
        for the C(update.monitor) seconds of its service (default 10), the period Swarm
        itself watches an update for. A command that exits at once therefore fails the task instead of
        passing as running. Lower C(update.monitor) to shorten the wait.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for convergence before failing; with several rollout waves (O(rollout_limit)), for each wave.
    type: int
    default: 300
  rollout_limit:
    description:
      - The most services created or updated at the same time. The stacks of the batch are rolled out in waves of
        whole stacks with at most this many services to create or update together; each wave must converge
        (O(wait)) before the next one starts, so a failing wave leaves the later stacks as they were. A stack with
        more services than the limit is a wave of its own. V(0) rolls the whole batch out at once.
      - Starting hundreds of services at once overloads the managers and the nodes' network setup (tasks then
        fail to start); the waves keep a large first deployment, such as a whole estate's, within what the swarm
        absorbs.
      - Without O(wait) the whole batch is rolled out at once.
    type: int
    default: 100
attributes:
  check_mode:
    support: full
    description: Reads the stacks and resolves images, reports the exact changes, writes nothing.
  diff_mode:
    support: full
    description: One diff per changed stack with the normalised service specs and object names.
  idempotent:
    support: full
    description: A second run with the same input and the same image digests changes nothing.
"""

EXAMPLES = r"""
- name: Deploy the IRE environment of the demo project
  esa.s2p.swarm_stack:
    stacks:
      - name: demo-ire
        networks: [front]
        secrets:
          - name: db-password
            vault_path: "{{ 'db-password' | esa.s2p.vault_path('pd', 'demo', 'ire') }}"
            generate: {length: 40}
        services:
          - name: web
            image: registry.s2p.esa.int:5000/demo/web:1.4
            replicas: 2
            sites: [esoc, esec]
            command: [httpd, -f, -p, "8080", -h, /var/www]
            ports: [{published: 18080, target: 8080}]
            healthcheck: {test: [CMD, wget, -q, -O-, "http://127.0.0.1:8080/"], interval: 5}
            networks: [front]
            secrets: [db-password]
    vault: "{{ s2p_vault_connection }}"
"""

RETURN = r"""
stacks:
  description:
    - One entry per stack with its name, state, whether it changed and the actions taken (or planned).
    - C(unsettled) lists the services this run leaves as they are although an earlier run left them
      unsettled (it was killed while it waited, or ran with O(wait=false)), that is an update still running or
      paused, fewer tasks running than wanted, or tasks that failed in the last two minutes. Outside check
      mode and with O(wait=true) they are waited for like the services the run changes, and the task fails
      when they do not become healthy; an unhealthy service never counts as converged.
  returned: always
  type: list
  elements: dict
  sample: [{name: demo-ire, state: present, changed: true, actions: ["create service demo-ire_web"], unsettled: []}]
progress:
  description: Convergence progress notes, in order.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import DEFAULT_VAULT_KV_MOUNT
from ansible_collections.esa.s2p.plugins.module_utils.swarm.adapter import swarm_client, swarm_module
from ansible_collections.esa.s2p.plugins.module_utils.swarm.secrets import GENERATE_CHARSETS, GENERATE_DEFAULTS
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack_spec import DEFAULT_SITES
from ansible_collections.esa.s2p.plugins.module_utils.vault.adapter import ADAPTER as VAULT
from ansible_collections.esa.s2p.plugins.module_utils.workflows.swarm_stack import converge


def main():
    module = swarm_module(
        argument_spec=dict(
            stacks=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                state=dict(type="str", default="present", choices=["present", "absent"]),
                services=dict(type="list", elements="raw"),
                networks=dict(type="list", elements="raw"),
                # no_log on each value, not on the list: the secret names stay readable in output
                secrets=dict(type="list", elements="dict", no_log=False, options=dict(
                    name=dict(type="str", required=True),
                    value=dict(type="str", no_log=True),
                    vault_path=dict(type="str", no_log=False),
                    vault_field=dict(type="str", no_log=False),
                    generate=dict(type="dict", no_log=False, options=dict(
                        length=dict(type="int", default=GENERATE_DEFAULTS["length"], no_log=False),
                        charset=dict(type="str", default=GENERATE_DEFAULTS["charset"],
                                     choices=sorted(GENERATE_CHARSETS)),
                    )),
                ), mutually_exclusive=[["value", "vault_path"]], required_one_of=[["value", "vault_path"]]),
                configs=dict(type="list", elements="dict", options=dict(
                    name=dict(type="str", required=True),
                    data=dict(type="str", required=True),
                )),
            )),
            # Whether the batch needs Vault is checked with the batch (Vault-sourced secrets).
            vault=VAULT.nested_option(required=False),
            kv_mount=dict(type="str", default=DEFAULT_VAULT_KV_MOUNT),
            secret_name_key=dict(type="str", no_log=True, fallback=(env_fallback, ["S2P_SWARM_SECRET_NAME_KEY"])),
            known_sites=dict(type="list", elements="str", default=list(DEFAULT_SITES)),
            resolve_image=dict(type="bool", default=True),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=300),
            rollout_limit=dict(type="int", default=100),
        ),
        supports_check_mode=True,
    )
    try:
        result = converge(module.params, module.check_mode, module._diff, lambda: swarm_client(module),
                          lambda: VAULT.client_from_nested(module.params["vault"], "vault"), module.no_log_values.add)
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
