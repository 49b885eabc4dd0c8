# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded concurrency for batch writes: a few worker threads, one LDAP connection each.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

A batch of writes spends most of its time waiting for the server (a round trip, a commit),
so a few requests in flight at once make it several times faster; a small bound keeps the
load on the server predictable. core/concurrency.bounded_map() is the runner; LDAPPool gives
each worker thread its own connection
(an ldap3 synchronous connection must never be shared between threads), opened once and
reused for every item that thread takes, never per item.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible_collections.esa.s2p.plugins.module_utils.core.concurrency import bounded_map

# LDAP connections in flight at once (measured on the lab: 4 cut 300 Password Modify
# operations from 2.9 s to 0.6 s; 8 was slower again on two cores).
LDAP_WORKERS = 4
# Items per worker below which extra connections cost more than they save.
ITEMS_PER_WORKER = 16


class LDAPPool:
    """Run func(client, item) over a batch with up to LDAP_WORKERS connections.

    The connected `client` serves the first worker; the others get clones (same options,
    own TLS session and bind), closed by close(). Small batches run on `client` alone."""

    def __init__(self, client, workers=LDAP_WORKERS):
        self.client = client
        self.workers = workers
        self._local = threading.local()
        self._lock = threading.Lock()
        self._primary_taken = False
        self._clones = []

    def _connection(self):
        conn = getattr(self._local, "client", None)
        if conn is None:
            with self._lock:
                if not self._primary_taken:
                    self._primary_taken, conn = True, self.client
            if conn is None:
                conn = self.client.clone().connect()
                with self._lock:
                    self._clones.append(conn)
            self._local.client = conn
        return conn

    def map(self, func, items):
        """bounded_map of func(client, item); see bounded_map for the return value."""
        items = list(items)
        workers = max(1, min(self.workers, len(items) // ITEMS_PER_WORKER))
        if workers == 1:  # no thread, no extra connection
            return bounded_map(lambda item: func(self.client, item), items, 1)
        self._local = threading.local()
        self._primary_taken = False
        return bounded_map(lambda item: func(self._connection(), item), items, workers)

    def close(self):
        for conn in self._clones:
            conn.close()
        self._clones = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
