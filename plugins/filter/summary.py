# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site job's summary as a Jinja filter (documentation: site_summary.yml).

Thin over module_utils/model/site_summary.py; used by the role esa.s2p.summary.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.module_utils.model import site_summary as model_summary
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError


def site_summary(model, results=None, check_mode=False):
    if not isinstance(model, dict) or "projects" not in model:
        raise AnsibleFilterError("the input must be the normalised model, the fact s2p_model set by esa.s2p.model")
    try:
        return model_summary.site_summary(model, results or {}, check_mode=check_mode)
    except S2PError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule(object):
    def filters(self):
        return {"site_summary": site_summary}
