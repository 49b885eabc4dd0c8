# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""esa.s2p.vsphere_vm on the controller: progress lines for long batches.

A module cannot print while it runs, so with O(progress_every) the batch is first planned
as a whole in check mode (one run: every VM validated and checked against one inventory
read, nothing touched), then only the VMs that change are converged in chunks of
O(progress_every), each chunk one module run, with a line such as
"esa.s2p.vsphere_vm: 16/30 VMs converged (12 created, 4 updated)" after each. Without it (or in check
mode, or when the batch fits in one chunk) the module runs once, as before.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

ACTIONS = ("create", "update", "destroy", "none")
DONE = {"create": "created", "update": "updated", "destroy": "removed"}


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            chunk = int(args.get("progress_every") or 0)
        except (TypeError, ValueError):
            chunk = 0  # the module itself reports the bad value
        vms = args.get("vms")
        if self._task.check_mode or chunk < 1 or not isinstance(vms, list) or len(vms) <= chunk:
            result.update(self._execute_module(module_args=args, task_vars=task_vars))
            return result

        planned = self._plan(args, task_vars)
        if planned.get("failed") or not planned.get("changed"):
            result.update(planned)
            return result
        names = [vm["name"] for vm in planned["vms"] if vm["changed"]]
        todo = [vm for vm in vms if isinstance(vm, dict) and vm.get("name") in set(names)]
        display.display("esa.s2p.vsphere_vm: %d of %d VMs to converge, %d at a time" % (
            len(todo), len(vms), chunk))
        merged = dict((vm["name"], vm) for vm in planned["vms"])
        diff, failures, done = [], {}, []
        folders = args.pop("remove_empty_folders", None)
        for start in range(0, len(todo), chunk):
            part = todo[start:start + chunk]
            out = self._execute_module(module_args=dict(args, vms=part), task_vars=task_vars)
            if out.get("failed") and not out.get("failures"):
                # Not a per-VM failure (connection, vCenter refused the read...): stop here.
                out["msg"] = "%s (after %d of %d VMs converged)" % (out.get("msg"), len(done), len(todo))
                result.update(out)
                return result
            for vm in out.get("vms") or []:
                merged[vm["name"]] = vm
                done.append(vm)
            diff.extend(out.get("diff") or [])
            failures.update(out.get("failures") or {})
            display.display("esa.s2p.vsphere_vm: %d/%d VMs converged (%s)" % (
                len(done), len(todo), _tally(done, failures)))
        vms_out = [merged[vm["name"]] for vm in planned["vms"]]
        counts = dict((action, sum(1 for vm in vms_out if vm["action"] == action)) for action in ACTIONS)
        result.update(changed=True, vms=vms_out, counts=counts)
        if folders and not failures:
            # once every chunk's VMs are gone: one more run that removes only the emptied folders
            out = self._execute_module(module_args=dict(args, vms=[], remove_empty_folders=folders),
                                       task_vars=task_vars)
            if out.get("failed"):
                result.update(out)
                return result
            result.update(folders_removed=out.get("folders_removed", []), folder_notes=out.get("folder_notes", []))
            diff.extend(out.get("diff") or [])
        if self._task.diff:
            result["diff"] = diff
        if failures:
            result.update(failed=True, failures=failures, msg="%d VM(s) failed:\n- %s" % (
                len(failures), "\n- ".join("%s: %s" % item for item in sorted(failures.items()))))
        return result

    def _plan(self, args, task_vars):
        """The module on the whole batch in check mode: validation and the plan, nothing written."""
        check_mode = self._task.check_mode
        self._task.check_mode = True
        try:
            return self._execute_module(module_args=args, task_vars=task_vars)
        finally:
            self._task.check_mode = check_mode


def _tally(done, failures):
    parts = []
    for action in ("create", "update", "destroy"):
        count = sum(1 for vm in done if vm["action"] == action and vm["name"] not in failures)
        if count:
            parts.append("%d %s" % (count, DONE[action]))
    if failures:
        parts.append("%d failed" % len(failures))
    return ", ".join(parts) or "no change"
