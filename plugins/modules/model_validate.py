#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the work is done on the controller by the action plugin
# plugins/action/model_validate.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: model_validate
short_description: Validate the S2P model and publish its normalised form
version_added: 0.1.0
description:
  - >-
    Checks the declarative S2P model (sites, segments, environments, projects, telescope
    stations) and reports B(every) problem in one failure, each as
    C(<item path>.<field>: <what is wrong>) followed by what is allowed, for example
    "s2p_projects[neocc].environments.ire.sites[0]: unknown site 'esox' (known: esec, esoc, esrin)".
  - On success sets the fact C(s2p_model), the normalised model that the other roles consume -
    defaults filled in, items keyed by name, and every derived name (VM names, FQDNs, LDAP DNs,
    Vault paths and policies, stack names) computed by the single set of S2P naming rules.
  - An option that is not given is read from the inventory variable of the same name with
    the C(s2p_) prefix (O(sites) from C(s2p_sites)...), so the task usually has no options.
    Error messages always use the inventory variable names.
  - Runs on the controller only and never changes anything. The role C(esa.s2p.model) runs it
    at the start of every playbook; when C(s2p_model) was already published in the same run
    from the same input (same SHA-256 of the input variables, fact C(s2p_model_input_sha256)),
    it only reports that, so a playbook that imports others validates the model once.
  - The model format and the naming rules are described in docs/naming.md of the collection.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Validation changes nothing, so it runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    description: The same model always gives the same result; nothing is ever changed.
    support: full
  platform:
    platforms: all
options:
  domain:
    description:
      - The S2P DNS domain, V(s2p.esa.int) or a name under it. Default from C(s2p_domain), else V(s2p.esa.int).
    type: str
  ldap_base_dn:
    description:
      - Base DN of the directory. Default from C(s2p_ldap_base_dn), else V(dc=s2p,dc=esa,dc=int).
    type: str
  vault_kv_mount:
    description:
      - The Vault KV version 2 mount of the project secrets. Default from C(s2p_vault_kv_mount), else V(s2p).
    type: str
  sites:
    description:
      - The sites, each with C(name), C(datacenter), C(cluster), C(datastore), C(folder), C(network),
        C(template), C(subnet), C(gateway), C(dns_servers) and an optional C(description).
      - Default from C(s2p_sites); required.
    type: list
    elements: dict
  segments:
    description:
      - The segments, each with C(name) and C(description). Default from C(s2p_segments), else
        V(swe), V(sd), V(pd) and V(dsdc).
    type: list
    elements: dict
  environments:
    description:
      - The environments, each with C(name) and C(description). Default from C(s2p_environments),
        else V(dev), V(ire), V(preope) and V(ope).
    type: list
    elements: dict
  projects:
    description:
      - The projects, each with C(name), C(segment), C(environments) (a mapping of environment to
        C(sites) and optionally C(vms)), and optional C(description), C(services), C(vms),
        C(secrets) and C(ldap_groups). Default from C(s2p_projects), else none.
    type: list
    elements: dict
  stations:
    description:
      - The telescope stations, each with C(name), C(site), C(type) (V(flyeye), the default, with
        16 cameras, or V(telescope)), C(cameras) and C(description). Default from C(s2p_stations), else none.
    type: list
    elements: dict
notes:
  - The items of every list may be written as mappings with C(name) or, where no other field is
    needed, as the bare name. Lists (not mappings keyed by name) keep duplicate names detectable.
seealso:
  - name: S2P model and naming rules
    description: docs/naming.md in the collection.
    link: https://gitlab.s2p.esa.int/dc/esa.s2p/-/blob/main/docs/naming.md
"""

EXAMPLES = r"""
- name: Validate the model from the inventory variables (what the role esa.s2p.model does)
  esa.s2p.model_validate:

- name: Use a derived name
  ansible.builtin.debug:
    msg: "{{ s2p_model.projects.neocc.environments.ire.services | map(attribute='fqdn') }}"
"""

RETURN = r"""
msg:
  description: A one-line summary on success; on failure the list of problems as text.
  returned: always
  type: str
  sample: "S2P model OK: 3 sites, 4 segments, 4 environments, 4 projects in 11 deployments (34 VMs), 2 stations"
errors:
  description: "Every problem found, one string each, C(<item path>.<field>: <message>)."
  returned: failure
  type: list
  elements: str
  sample:
    - "s2p_projects[neocc].environments.ire.sites[0]: unknown site 'esox' (known: esec, esoc, esrin)"
ansible_facts:
  description: The normalised model and the digest of its input; not returned when the same input
    was already validated in this run.
  returned: success
  type: dict
  contains:
    s2p_model_input_sha256:
      description: SHA-256 of the input variables C(s2p_model) was built from.
      type: str
      returned: success
    s2p_model:
      description:
        - The normalised model. Top-level keys C(domain), C(ldap_base_dn), C(vault_kv_mount),
          C(production_environment); C(sites), C(segments), C(environments), C(projects) and
          C(stations) as mappings keyed by name; flat lists for batch tasks - C(deployments)
          (one per project and environment, with C(stack), C(vault_policy), C(vault_approle),
          C(service_account)), C(vms), C(services), C(secrets), C(ldap_groups).
        - C(projects.<name>.environments.<env>) holds that deployment with its C(services) (with
          C(fqdn)), C(vms) (with C(name), C(fqdn), C(site) and the vSphere placement) and
          C(secrets) (with C(mount) and C(path)). See docs/naming.md for every field.
      type: dict
      returned: success
"""
