# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Removal of a project environment's whole KV v2 folder (every secret under it, every version).

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Only the folder of a project environment (<segment>/<project>/<env>, the folder of
naming.vault_kv_path) is accepted, so a teardown can never reach a whole segment or project.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems
from ansible_collections.esa.s2p.plugins.module_utils.vault.project import project_folder


def validate(folders, mount):
    """The folders, each <segment>/<project>/<env> with valid names, or ValidationError naming each bad one."""
    errors, seen = Problems(), {}
    try:
        naming.check_mount(mount, "mount")
    except naming.NamingError as exc:
        errors.add(exc.obj, exc.message)
    for index, folder in enumerate(folders):
        where = "folders[%d]" % index
        parts = folder.split("/") if isinstance(folder, str) else []
        if len(parts) != 3:
            errors.add(where, "%r is not the folder of a project environment (allowed: <segment>/<project>/<env>, "
                              "e.g. pd/neocc/ire)" % (folder,))
            continue
        try:
            project_folder(*parts)
        except naming.NamingError as exc:
            errors.add("%s (%s): %s" % (where, folder, exc.obj), exc.message)
            continue
        if folder in seen:
            errors.add(where, "%s is already %s" % (folder, seen[folder]))
        seen[folder] = where
    errors.raise_if_any()
    return list(folders)


def list_paths(vault, mount, folder):
    """Every secret path under `folder` (sub-folders walked), sorted; [] when the folder is empty."""
    found, pending = [], [folder]
    while pending:
        current = pending.pop()
        for key in vault.kv_list(mount, current) or []:
            (pending if key.endswith("/") else found).append("%s/%s" % (current, key.rstrip("/")))
    return sorted(found)


def plan(vault, mount, folders):
    return [{"folder": folder, "paths": list_paths(vault, mount, folder)} for folder in folders]


def apply(vault, mount, plans):
    for p in plans:
        for path in p["paths"]:
            vault.kv_destroy(mount, path)


def converge(vault, mount, folders, write):
    """The vault_kv_folder batch over one login: plan, and destroy every secret of the folders when
    `write` (not in check mode). Returns (changed, result, diff) for vault.adapter.run_batch."""
    plans = plan(vault, mount, folders)
    changed = any(p["paths"] for p in plans)
    if changed and write:
        apply(vault, mount, plans)
    diff = dict(before=dict((p["folder"], p["paths"]) for p in plans if p["paths"]),
                after=dict((p["folder"], []) for p in plans if p["paths"]))
    return changed, dict(folders=[dict(folder=p["folder"], removed=p["paths"]) for p in plans]), diff
