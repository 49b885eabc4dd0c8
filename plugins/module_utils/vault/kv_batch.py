# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a batch of KV v2 secrets with as few requests as possible.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

A first run asks for secrets that do not exist yet: one read (a 404) per secret. Instead, a
folder that holds two or more of the wanted paths is LISTed first, top-down: a path under a folder
that does not exist, or whose next key is missing from the listing, is known to be absent without
reading it. A batch of new project accounts under one folder costs one LIST instead of one read
each; a batch that exists costs a few LISTs more than the reads (one per shared folder level).
A LIST the token may not do (policy without `list`) is no error: those paths are read one by one.
Knowing a path absent is only an optimisation of the read: writes still use check-and-set 0, so a
secret created in between makes the write fail instead of overwriting it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.vault.client import VaultForbidden

# LIST a folder only when it holds at least this many wanted paths (else reading them is as cheap).
MIN_PATHS_PER_LIST = 2
UNKNOWN = object()  # a listing the token may not do


def children(folder, paths):
    """{key directly under `folder` as a KV listing names it ('sub/' or 'leaf'): [paths under it]}."""
    out = {}
    for path in paths:
        head, sep, _rest = path[len(folder):].partition("/")
        out.setdefault(head + sep, []).append(path)
    return out


def absent_paths(list_folder, paths, pmap):
    """The paths known absent from folder listings. list_folder(folder) returns the keys under
    `folder` (ending with '/'), None when it does not exist or UNKNOWN; pmap(func, items) runs a
    level's listings -> (results in order, succeeded, first error or None). The mount root is
    never listed."""
    absent = set()
    level = dict((key, under) for key, under in children("", paths).items()
                 if key.endswith("/") and len(under) >= MIN_PATHS_PER_LIST)
    while level:
        folders = sorted(level)
        listings, _ok, error = pmap(list_folder, folders)
        if error:
            raise error
        below = {}
        for folder, keys in zip(folders, listings):
            if keys is UNKNOWN:
                continue
            if keys is None:
                absent.update(level[folder])
                continue
            keys = set(keys)
            for key, under in children(folder, level[folder]).items():
                if key not in keys:
                    absent.update(under)
                elif key.endswith("/") and len(under) >= MIN_PATHS_PER_LIST:
                    below[folder + key] = under
        level = below
    return absent


def read_many(vault, mount, paths, pmap):
    """[vault.kv_read(mount, path) for each path], with the reads of paths known absent skipped
    (see absent_paths); pmap runs the listings and the reads concurrently (bounded)."""

    def list_folder(folder):
        try:
            return vault.kv_list(mount, folder)
        except VaultForbidden:
            return UNKNOWN

    absent = absent_paths(list_folder, paths, pmap)
    todo = [path for path in paths if path not in absent]
    results, _ok, error = pmap(lambda path: vault.kv_read(mount, path), todo)
    if error:
        raise error
    found = dict(zip(todo, results))
    return [found.get(path) for path in paths]
