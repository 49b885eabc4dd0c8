# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The S2P naming rules as Jinja filters (documentation: one <filter>.yml per filter).

Thin over module_utils/model/naming.py: the piped value is the thing being named, keyword
arguments give its context.  With model=s2p_model (the fact set by the role
esa.s2p.model) names must also exist in the model, and the domain, LDAP base DN and
segment default from it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import NamingError

_TABLES = {"site": "sites", "segment": "segments", "environment": "environments", "project": "projects",
           "station": "stations"}


def _filter(func):
    """Turn NamingError into AnsibleFilterError (Ansible adds the filter's name)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except NamingError as exc:
            raise AnsibleFilterError(str(exc)) from exc
    return wrapper


def _check_model(model):
    if model is not None and (not isinstance(model, dict) or "projects" not in model):
        raise NamingError("must be the normalised model, the fact s2p_model set by the role esa.s2p.model",
                          obj="model")
    return model


def _known(model, kind, value, arg=None):
    """Check the syntax of `value`, and with a model that the model has it."""
    naming.check_name(kind, value, arg or kind)
    if _check_model(model) is not None:
        known = model.get(_TABLES[kind]) or {}
        if value not in known:
            raise NamingError("unknown %s '%s' (known: %s)" % (kind, value, ", ".join(sorted(known)) or "none"),
                              obj=arg or kind)
    return value


def _deployed(model, project, env):
    """Check project and environment, and with a model that the project is deployed there."""
    _known(model, "project", project)
    _known(model, "environment", env, "env")
    if model is not None:
        envs = model["projects"][project].get("environments") or {}
        if env not in envs:
            raise NamingError("project '%s' has no environment '%s' (its environments: %s)" % (
                project, env, ", ".join(sorted(envs)) or "none"), obj="env")


def _setting(value, model, key, default):
    if value is not None:
        return value
    if _check_model(model) is not None:
        return model[key]
    return default


@_filter
def fqdn(service, project, env, domain=None, model=None):
    _deployed(model, project, env)
    return naming.service_fqdn(service, project, env, _setting(domain, model, "domain", naming.DEFAULT_DOMAIN))


@_filter
def vm_name(role, site, project, env, index=1, model=None):
    _known(model, "site", site)
    _deployed(model, project, env)
    return naming.vm_name(site, project, env, role, index)


@_filter
def host_fqdn(vm, domain=None, model=None):
    return naming.host_fqdn(vm, _setting(domain, model, "domain", naming.DEFAULT_DOMAIN))


@_filter
def station_fqdn(station, camera=None, domain=None, model=None):
    _known(model, "station", station)
    if model is not None and camera is not None:
        naming.check_index(camera, "camera", len(model["stations"][station]["cameras"]))
    return naming.station_fqdn(station, _setting(domain, model, "domain", naming.DEFAULT_DOMAIN), camera)


@_filter
def ldap_dn(name, kind, project=None, env=None, base_dn=None, model=None):
    base_dn = _setting(base_dn, model, "ldap_base_dn", naming.DEFAULT_LDAP_BASE_DN)
    if kind == "service":
        if env is None:
            raise NamingError("is required for kind=service (the piped value is the project)", obj="env")
        _deployed(model, name, env)
        return naming.ldap_dn(kind, naming.service_account_uid(name, env), base_dn)
    if kind == "group":
        if project is None:
            raise NamingError("is required for kind=group (the piped value is the group)", obj="project")
        _known(model, "project", project)
        return naming.ldap_dn(kind, naming.ldap_group_cn(project, name), base_dn)
    return naming.ldap_dn(kind, name, base_dn)


@_filter
def service_account(project, env, model=None):
    _deployed(model, project, env)
    return naming.service_account_uid(project, env)


@_filter
def vault_path(secret, segment=None, project=None, env=None, model=None):
    for arg, value in (("project", project), ("env", env)):
        if value is None:
            raise NamingError("is required", obj=arg)
    _deployed(model, project, env)
    if segment is None:
        if model is None:
            raise NamingError("is required unless model=s2p_model is given", obj="segment")
        segment = model["projects"][project]["segment"]
    _known(model, "segment", segment)
    return naming.vault_kv_path(segment, project, env, secret)


@_filter
def vault_policy(project, env, model=None):
    _deployed(model, project, env)
    return naming.vault_policy_name(project, env)


@_filter
def stack_name(project, env, model=None):
    _deployed(model, project, env)
    return naming.stack_name(project, env)


@_filter
def dns_owner(project, env, model=None):
    _deployed(model, project, env)
    return naming.dns_owner(project, env)


@_filter
def reverse_dns(ip):
    return naming.reverse_dns(ip)


class FilterModule(object):
    """esa.s2p naming filters."""

    def filters(self):
        return dict((f.__name__, f) for f in (fqdn, vm_name, host_fqdn, station_fqdn, ldap_dn, service_account,
                                              vault_path, vault_policy, stack_name, dns_owner,
                                              reverse_dns))
