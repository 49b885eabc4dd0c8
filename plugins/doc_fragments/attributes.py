# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Attribute blocks shared by modules of every backend (the action_group stays per module)."""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and predict exactly what a real run would change, without changing it.
  diff_mode:
    description: Returns the before and after state of what it changes (or would change in check mode).
  idempotent:
    description: A second run with the same input reports no change.
"""

    # Modules that only read: the health checks and the *_info modules.
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode runs the same reads and returns the same result.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  idempotent:
    support: full
    description: Read-only; never reports a change.
"""
