"""Which KV paths a batch read can skip: folder listings prove paths absent (pure logic: the
listing is a function over an in-memory set of existing secret paths)."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.vault import kv_batch as batch
from ansible_collections.esa.s2p.plugins.module_utils.workflows.credential import parallel


class Tree:
    """KV LIST semantics over a set of secret paths; records every folder listed."""

    def __init__(self, existing, forbidden=()):
        self.existing, self.forbidden, self.listed = set(existing), set(forbidden), []

    def list_folder(self, folder):
        self.listed.append(folder)
        if folder in self.forbidden:
            return batch.UNKNOWN
        keys = {p[len(folder):].split("/")[0] + ("/" if "/" in p[len(folder):] else "")
                for p in self.existing if p.startswith(folder)}
        return sorted(keys) or None


def new_accounts(prefix, n):
    return [f"{prefix}/bench/a{i:04d}-ope/ldap-bind" for i in range(n)]


def test_a_new_batch_under_one_folder_costs_one_listing():
    tree = Tree({"other/x/ldap-bind"})
    paths = new_accounts("b123456", 500)
    assert batch.absent_paths(tree.list_folder, paths, parallel) == set(paths)
    assert tree.listed == ["b123456/"]


def test_an_existing_batch_costs_one_listing_per_shared_level_and_skips_nothing():
    paths = new_accounts("b123456", 50)
    tree = Tree(paths)
    assert batch.absent_paths(tree.list_folder, paths, parallel) == set()
    assert tree.listed == ["b123456/", "b123456/bench/"]  # each account folder holds one path: read it


def test_model_paths_new_project_in_an_existing_segment():
    existing = {"pd/neocc/ope/ldap-bind", "pd/neocc/dev/ldap-bind", "pd/neocc/dev/db-password"}
    paths = ["pd/neocc/ope/ldap-bind", "pd/neocc/dev/ldap-bind", "pd/neocc/ire/ldap-bind",
             "pd/flyeye/dev/ldap-bind", "pd/flyeye/ope/ldap-bind", "sd/drama/ope/ldap-bind", "top"]
    tree = Tree(existing)
    absent = batch.absent_paths(tree.list_folder, paths, parallel)
    assert absent == {"pd/neocc/ire/ldap-bind", "pd/flyeye/dev/ldap-bind", "pd/flyeye/ope/ldap-bind"}
    # sd/ holds one path (read it), the mount root is never listed, pd/neocc/<env>/ hold one each
    assert sorted(tree.listed) == ["pd/", "pd/neocc/"]


def test_a_forbidden_listing_means_read_everything_below():
    paths = new_accounts("b123456", 5)
    tree = Tree(set(), forbidden={"b123456/"})
    assert batch.absent_paths(tree.list_folder, paths, parallel) == set()


def test_a_secret_and_a_folder_of_the_same_name():
    tree = Tree({"a/x", "a/x/y"})
    assert batch.absent_paths(tree.list_folder, ["a/x", "a/x/y", "a/x/z", "a/w"], parallel) == {"a/x/z", "a/w"}


def test_a_listing_error_is_raised():
    def broken(folder):
        raise RuntimeError("sealed")

    with pytest.raises(RuntimeError, match="sealed"):
        batch.absent_paths(broken, new_accounts("b1", 3), parallel)
