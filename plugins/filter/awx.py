# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX objects of awx/ as Jinja filters (documentation: <filter>.yml).

Thin over module_utils/model/awx_objects.py; used by playbooks/awx_configure.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.model import awx_objects


def _items(name, value, what):
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise AnsibleFilterError("%s: the input must be the list %s of awx/, got %s"
                                 % (name, what, type(value).__name__))
    return value


def awx_credential_names(types, suffix=""):
    return awx_objects.credential_names(_items("awx_credential_names", types, "awx_credential_types"), suffix)


def awx_credential_types(types):
    return awx_objects.credential_types(_items("awx_credential_types", types, "awx_credential_types"))


def awx_credential_inputs(types, given=None):
    """Reads S2P_AWX_<TYPE>_<FIELD> from the controller's environment, as lookup('env') does."""
    return awx_objects.credential_inputs(_items("awx_credential_inputs", types, "awx_credential_types"), given,
                                         dict(os.environ))


def awx_job_templates(templates, choices, names, instance_groups=None):
    try:
        return awx_objects.job_templates(_items("awx_job_templates", templates, "awx_job_templates"), choices, names,
                                         instance_groups)
    except S2PError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def awx_schedules(schedules, templates):
    try:
        return awx_objects.schedules(_items("awx_schedules", schedules, "awx_schedules"),
                                     _items("awx_schedules", templates, "awx_job_templates"))
    except S2PError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule(object):
    def filters(self):
        return {"awx_credential_names": awx_credential_names, "awx_credential_types": awx_credential_types,
                "awx_credential_inputs": awx_credential_inputs, "awx_job_templates": awx_job_templates,
                "awx_schedules": awx_schedules}
