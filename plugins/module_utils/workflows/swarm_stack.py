# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The work of the swarm_stack module: a batch of stacks whose secrets may come from Vault KV v2.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

The batch is validated whole, then the Vault-sourced secrets are read over one Vault login
(only when the batch has some), then StackEngine converges the stacks on the swarm; secrets
missing in Vault are generated (and written there) by StackEngine's before_apply hook, after
every stack was planned and never in check mode. Every secret value is handed to `hide`
(the module's no_log_values) as soon as it is read or generated.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib

from ansible_collections.esa.s2p.plugins.module_utils.core.concurrency import bounded_map_or_raise
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError, ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.swarm.secrets import (
    fill_vault_secrets,
    generate_missing,
    vault_secrets,
)
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack import StackEngine
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack_spec import validate_stacks
from ansible_collections.esa.s2p.plugins.module_utils.vault.client import VaultCASConflict


# Vault KV reads in flight at once: each secret is its own path (Vault has no bulk read).
KV_READERS = 8


class VaultSecrets(object):
    """The batch's Vault-sourced secrets over one Vault login: read, and generate the missing ones.
    Every value goes to hide() as soon as it is read or generated, so no later message can show it."""

    def __init__(self, vault, mount, hide):
        self.vault, self.mount, self.hide = vault, mount, hide
        self.written = []

    def read(self, path):
        entry = self.vault.kv_read(self.mount, path)
        value = ((entry or {}).get("data") or {})
        for item in value.values():
            if isinstance(item, (str, int, float)):
                self.hide(str(item))
        return entry

    def reader(self, paths):
        """read() for `paths`, each read once beforehand, KV_READERS at a time."""
        paths = sorted(set(paths))
        found = dict(zip(paths, bounded_map_or_raise(self.read, paths, KV_READERS)))
        return lambda path: found[path] if path in found else self.read(path)

    def create(self, path, data):
        """Version 1 of `path` with check-and-set 0; None when another run created it first."""
        try:
            version = self.vault.kv_write(self.mount, path, data, cas=0)
        except VaultCASConflict:
            return None
        self.written.append(path)
        return version

    def generate(self, stacks):
        """The before_apply hook of StackEngine.converge (never called in check mode)."""
        return generate_missing(stacks, self.mount, self.create, self.read, self.hide)


@contextlib.contextmanager
def vault_for(stacks, vault_options, new_vault, mount, hide):
    """A VaultSecrets over one login when the batch has Vault-sourced secrets, else None.
    vault_options: the module's `vault` option; new_vault(): its client, nothing sent yet."""
    wanted = vault_secrets(stacks)
    if not wanted:
        yield None
        return
    if not (vault_options or {}).get("url"):
        need = "vault_path needs the vault connection (vault.url or VAULT_ADDR)"
        raise ValidationError(["stack %s: secret %s: %s" % (stack["name"], secret["name"], need)
                               for stack, secret in wanted])
    with new_vault() as vault:
        yield VaultSecrets(vault, mount, hide)


class StackRunFailed(S2PError):
    """A failure of the run with what the module reports beside it: the progress so far and the
    secrets generated in Vault before it (they stay there, for the next run)."""

    def __init__(self, error, progress, generated):
        super(StackRunFailed, self).__init__(str(error))
        self.error, self.progress, self.generated = error, progress, generated

    def __str__(self):
        return str(self.error)

    def as_fail_kwargs(self):
        failure = self.error.as_fail_kwargs()
        if self.generated:
            failure["changed"] = True
            failure["generated"] = self.generated
        failure["progress"] = self.progress
        return failure


def converge(params, check_mode, diff, new_swarm, new_vault, hide):
    """The swarm_stack module's work on its validated `params`; returns the module's result.

    new_swarm(), new_vault(): the clients, nothing sent yet (Vault only when a secret comes from
    it); hide(value): keeps a secret value out of every output. Raises StackRunFailed."""
    engine, source = None, None
    try:
        if (params.get("rollout_limit") or 0) < 0:
            raise ValidationError(["rollout_limit must be 0 (the whole batch at once) or more, got %d"
                                   % params["rollout_limit"]])
        stacks = validate_stacks(params["stacks"], params["known_sites"], params["secret_name_key"])
        with vault_for(stacks, params["vault"], new_vault, params["kv_mount"], hide) as source:
            if source is not None:
                wanted = [secret["vault_path"] for _stack, secret in vault_secrets(stacks)]
                fill_vault_secrets(stacks, source.mount, source.reader(wanted))
            for stack in stacks:  # secret values must never come back, even inside error messages
                for secret in stack["secrets"].values():
                    if secret["data"] is not None:
                        hide(secret["data"])
            engine = StackEngine(new_swarm(), check_mode=check_mode, wait=params["wait"],
                                 wait_timeout=params["wait_timeout"], resolve_image=params["resolve_image"],
                                 rollout_limit=params.get("rollout_limit") or 0)
            changed, results, diffs = engine.converge(
                stacks, before_apply=(lambda: source.generate(stacks)) if source is not None else None)
    except S2PError as exc:
        progress, generated = engine.progress if engine else [], source.written if source is not None else []
        raise StackRunFailed(exc, progress, generated) from exc
    result = dict(changed=changed, stacks=results, progress=engine.progress)
    if diff:
        result["diff"] = diffs
    return result
