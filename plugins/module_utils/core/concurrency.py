# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded concurrency for batch requests: a few worker threads over a batch of items.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

A batch of writes spends most of its time waiting for the server (a round trip, a commit), so a
few requests in flight at once make it several times faster; a small bound keeps the load on
the server predictable. Used for LDAP (ldap/pool.py gives each thread its own connection) and
for Vault requests (whose HTTP session is thread-safe).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor


def bounded_map(func, items, workers):
    """[func(item)...] in order, `workers` at a time. Every call finishes before the first error is
    returned, so `succeeded` (the items whose call returned) is exact. Returns (results, succeeded, error)."""
    items = list(items)
    if not items:
        return [], [], None
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        futures = [pool.submit(func, item) for item in items]
    results, succeeded, error = [], [], None
    for item, future in zip(items, futures):
        exc = future.exception()
        if exc is None:
            results.append(future.result())
            succeeded.append(item)
        else:
            results.append(None)
            error = error or exc
    return results, succeeded, error


def bounded_map_or_raise(func, items, workers):
    """[func(item)...] in order, `workers` at a time, for reads: the first error is raised once
    every call has finished."""
    results, _succeeded, error = bounded_map(func, items, workers)
    if error is not None:
        raise error
    return results
