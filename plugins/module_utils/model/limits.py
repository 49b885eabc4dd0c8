# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sizes of a VM, written once: what vSphere accepts (the platform) and what S2P allows (the policy).

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

The model (model/model.py) checks a VM group against the policy, vsphere_vm (vsphere/vm_spec.py)
checks a VM against the platform, so a VM written by hand may be smaller than a model's VM but
never smaller than vSphere allows. A policy lies within the platform, so every value the model
accepts vsphere_vm accepts too. Each error says which of the two the value broke.
Pure Python, no Ansible imports. Documented for engineers in docs/naming.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.model.naming import MAX_VM_INDEX

PLATFORM = "vSphere"


class Limit(object):
    """The whole numbers a VM setting may take.

    platform: (low, high) that vSphere accepts, or None when vSphere sets no limit of its own;
    policy: (low, high) that S2P allows, within the platform, or None when it is the platform's;
    step: values must be a multiple of it, and step_why says whose rule that is; why: the reason
    for the policy, when it has one worth telling.
    """

    def __init__(self, unit, platform=None, policy=None, step=1, step_why=None, why=None):
        self.unit = unit
        self.platform = platform
        self.policy = policy
        self.step = step
        self.step_why = step_why
        self.why = why

    def bounds(self, policy=True):
        """(low, high) of the policy (policy=True) or of the platform."""
        return (self.policy if policy else None) or self.platform

    def rule(self, policy=True):
        """Which rule bounds() is, as an error message names it."""
        if not (policy and self.policy):
            return "the %s limit" % PLATFORM
        text = "the S2P policy"
        if self.why:
            text += ": %s" % self.why
        if self.platform:
            text += "; %s itself accepts %d to %d" % (PLATFORM, self.platform[0], self.platform[1])
        return text

    def problem(self, value, policy=True):
        """None when the whole number `value` is allowed, else what is wrong and which rule it breaks.

        policy=False checks the platform only (vsphere_vm). A bool, text or float is not a whole
        number: a caller that accepts integral floats from templating turns them into int first."""
        low, high = self.bounds(policy)
        shape = "must be a whole number of %s from %d to %d, got %r" % (self.unit, low, high, value)
        if isinstance(value, bool) or not isinstance(value, int):
            return shape
        if not low <= value <= high:
            return "%s (%s)" % (shape, self.rule(policy))
        if value % self.step:
            return "%d is not a multiple of %d %s (%s)" % (value, self.step, self.unit, self.step_why)
        return None


# Field of a VM (group) -> its limit: the one table both the model and vsphere_vm read.
VM_LIMITS = {
    "count": Limit("VMs", policy=(1, MAX_VM_INDEX), why="a VM name ends in a two-digit index"),
    "cpus": Limit("CPUs", platform=(1, 128)),
    "memory_mb": Limit("MB", platform=(4, 4194304), policy=(512, 4194304), step=4,
                       step_why="%s allocates memory in 4 MB steps" % PLATFORM),
    "disk_gb": Limit("GB", platform=(1, 65536)),
}
