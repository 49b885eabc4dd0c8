# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""esa.s2p.model_validate: validate the S2P model on the controller and set s2p_model.

Options not given are read from the s2p_* inventory variables; all checks and names
live in module_utils/model/model.py and model/naming.py.

The model is the same for every play of a run (site.yml validates it in each of its
imported playbooks, so that each stays runnable alone): the fact s2p_model_input_sha256
records the digest of the input s2p_model was built from, and a later call with the same
input reports "already validated" instead of building and publishing the model again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

from ansible.plugins.action import ActionBase

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.model.model import VARIABLES, build_model

# option name -> inventory variable (s2p_sites...)
OPTIONS = dict((var[len("s2p_"):], var) for var in VARIABLES)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(OPTIONS)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        variables = {}
        for option, var in OPTIONS.items():
            if option in self._task.args:
                variables[var] = self._task.args[option]
            elif var in task_vars:
                variables[var] = self._templar.template(task_vars[var])
        digest = input_digest(variables)
        published = task_vars.get("s2p_model")
        if isinstance(published, dict) and task_vars.get("s2p_model_input_sha256") == digest:
            result.update(changed=False, msg="%s (already validated in this run from the same input)"
                          % summary(published))
            return result
        try:
            model = build_model(variables)
        except ValidationError as exc:
            result.update(exc.as_fail_kwargs())
            result["failed"] = True
            return result
        result.update(changed=False, ansible_facts={"s2p_model": model, "s2p_model_input_sha256": digest},
                      msg=summary(model))
        return result


def input_digest(variables):
    """SHA-256 of the model's input variables (templated), independent of key order."""
    text = json.dumps(variables, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def summary(model):
    return "S2P model OK: %d sites, %d segments, %d environments, %d projects in %d deployments " \
           "(%d VMs), %d stations" % (len(model["sites"]), len(model["segments"]), len(model["environments"]),
                                      len(model["projects"]), len(model["deployments"]), len(model["vms"]),
                                      len(model["stations"]))
