# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight report as Jinja filters (documentation: <filter>.yml).

Thin over module_utils/core/health.py; used by the role esa.s2p.preflight.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.module_utils.core import health


def _report(name, value):
    if not isinstance(value, list) or not all(isinstance(e, dict) and "backend" in e for e in value):
        raise AnsibleFilterError("%s: a preflight report is a list of {backend, healthy, checks}, got %r"
                                 % (name, value))
    return value


def preflight_problems(report):
    return health.report_problems(_report("preflight_problems", report))


class FilterModule(object):
    def filters(self):
        return {"preflight_problems": preflight_problems}
