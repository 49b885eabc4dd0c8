"""core/concurrency.py: results in the order of the items whatever order the calls finish in,
and every call finished before an error is raised."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core.concurrency import bounded_map, bounded_map_or_raise


def test_results_keep_the_order_of_the_items_and_at_most_workers_run_at_once():
    running, most, lock = [0], [0], threading.Lock()

    def slow_square(n):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02 * (5 - n))  # the first items finish last
        with lock:
            running[0] -= 1
        return n * n

    assert bounded_map_or_raise(slow_square, range(5), 3) == [0, 1, 4, 9, 16]
    assert most[0] == 3


def test_the_first_error_in_item_order_is_raised_after_every_call_ran():
    called = []

    def read(n):
        called.append(n)
        if n in (1, 3):
            raise KeyError(n)
        return n

    with pytest.raises(KeyError) as raised:
        bounded_map_or_raise(read, [0, 1, 2, 3, 4], 2)
    assert raised.value.args == (1,) and sorted(called) == [0, 1, 2, 3, 4]
    assert bounded_map(read, [0, 2], 2) == ([0, 2], [0, 2], None)


def test_no_items_no_threads():
    assert bounded_map_or_raise(lambda n: 1 / 0, [], 4) == []
