# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The folders a vsphere_vm batch with state absent leaves empty (option remove_empty_folders).

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

vsphere_vm creates the folders of the VMs it builds; a decommission removes the VMs and names the
folders it made for them. Of those, a folder is removed only when, once the batch's VMs are gone,
it holds nothing else (another folder of the list that is removed too does not count): a folder
holding anything else is kept and said so. Deepest folders first, so a project's folder goes after
its environments' folders.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.vsphere.client import vim


def check_paths(paths):
    """Problems with the option's values before vCenter is contacted: inventory paths."""
    return ["remove_empty_folders[%d]: %r is not an inventory path (/<datacenter>/vm/...)" % (i, p)
            for i, p in enumerate(paths) if not isinstance(p, str) or len(p.strip("/").split("/")) < 3
            or p.strip("/").split("/")[1] != "vm"]


def plan_removal(inventory, paths, plans):
    """([(path, folder object)] to remove, deepest first; [notes]). Paths not found are already
    gone; an object that is not a folder is refused (ValueError with the message)."""
    leaving = set(p.vm.moid for p in plans if p.destroy and p.vm is not None)
    targets = {}
    for path in paths:
        found = inventory.by_path(path)
        if found is None:
            continue
        if not isinstance(found.ref, vim.Folder):
            raise ValueError("remove_empty_folders: %s is a %s, not a folder" % (path, inventory.kind(found.moid)))
        targets[found.moid] = found
    children = {}
    for moid in inventory.objects:
        children.setdefault(inventory.parent(moid), []).append(moid)
    removed, notes = {}, []
    for moid in sorted(targets, key=lambda m: (-inventory.path(m).count("/"), inventory.path(m))):
        rest = sorted(inventory.path(c) for c in children.get(moid, []) if c not in leaving and c not in removed)
        if rest:
            more = " and %d more" % (len(rest) - 3) if len(rest) > 3 else ""
            notes.append("folder %s kept: it holds %s%s" % (inventory.path(moid), ", ".join(rest[:3]), more))
        else:
            removed[moid] = targets[moid]
    order = sorted(removed, key=lambda m: (-inventory.path(m).count("/"), inventory.path(m)))
    return [(inventory.path(m), removed[m]) for m in order], notes
