# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' plans as Jinja filters (documentation: <filter>.yml).

Thin over module_utils/model/plans.py: the roles hand the result to their modules as it is, so no
role renders YAML text to parse back. Errors name the filter and the item.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.model import plans


def _filter(func, needs_model=True):
    """Check the piped model, and turn S2PError into AnsibleFilterError."""
    @functools.wraps(func)
    def wrapper(value, *args, **kwargs):
        if needs_model and (not isinstance(value, dict) or "projects" not in value):
            raise AnsibleFilterError("%s: the input must be the normalised model, the fact s2p_model set by "
                                     "esa.s2p.model" % func.__name__)
        try:
            return func(value, *args, **kwargs)
        except S2PError as exc:
            raise AnsibleFilterError(str(exc)) from exc
    return wrapper


def _mapping(name, value):
    if not isinstance(value, dict):
        raise AnsibleFilterError("%s: the input must be a mapping, got %s" % (name, type(value).__name__))
    return value


def project_environment_counts(results):
    return plans.project_environment_counts(_mapping("project_environment_counts", results))


def add_counts(totals, counts):
    return plans.add_counts(_mapping("add_counts", totals or {}), _mapping("add_counts", counts or {}))


def declared_environments(projects, project):
    if not isinstance(projects, list):
        raise AnsibleFilterError("declared_environments: the input must be the list s2p_projects, got %s"
                                 % type(projects).__name__)
    return plans.declared_environments(projects, project)


def environment_copies(stack_names, project, declared, named=None):
    if not isinstance(stack_names, list):
        raise AnsibleFilterError("environment_copies: the input must be a list of stack names, got %s"
                                 % type(stack_names).__name__)
    return plans.environment_copies(stack_names, project, declared, named)


def selected(items, sites=None, segments=None, projects=None, environments=None):
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise AnsibleFilterError("selected: the input must be a list of mappings (VMs, deployments), got %s"
                                 % type(items).__name__)
    for name, value in (("sites", sites), ("segments", segments), ("projects", projects),
                        ("environments", environments)):
        if value is not None and not isinstance(value, list):
            raise AnsibleFilterError("selected: %s must be a list of names, got %s" % (name, type(value).__name__))
    return plans.selected(items, sites, segments, projects, environments)


def stack_images(services, stack):
    if not isinstance(services, list):
        raise AnsibleFilterError("stack_images: the input must be the services of esa.s2p.swarm_stack_info, got %s"
                                 % type(services).__name__)
    return plans.stack_images(services, stack)


class FilterModule(object):
    def filters(self):
        return {
            "project_environment_plan": _filter(plans.project_environment_plan),
            "project_environment_counts": project_environment_counts,
            "add_counts": add_counts,
            "service_account_plan": _filter(plans.service_account_plan),
            "telescope_backend_plan": _filter(plans.telescope_backend_plan),
            "project_stacks": _filter(plans.project_stacks),
            "environment_copy": _filter(plans.environment_copy),
            "declared_environments": declared_environments,
            "environment_copies": environment_copies,
            "stack_images": stack_images,
            "selected": selected,
        }
