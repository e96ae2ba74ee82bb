"""PrepareAhead: the window's next nodes prepared ahead in threads, errors per node, in order."""
import threading
import time

import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._prepare_ahead import PrepareAhead


def _items(n):
    return [{"uuid": "u%d" % i, "name": "n%d" % i} for i in range(n)]


def test_overlaps_up_to_workers_and_returns_each_nodes_own_result():
    lock, state = threading.Lock(), {"now": 0, "peak": 0}

    def prepare(item):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.2)
        with lock:
            state["now"] -= 1
        return item["name"] + "-drive"

    items = _items(8)
    ahead = PrepareAhead(prepare, items, 4)
    try:
        got = [ahead(dict(item, started=1.0)) for item in items]  # the Runner passes copies
    finally:
        ahead.close()
    assert got == ["n%d-drive" % i for i in range(8)]
    assert 2 <= state["peak"] <= 4, state  # overlapped, never more than the workers


def test_error_is_raised_for_its_node_only():
    def prepare(item):
        if item["name"] == "n1":
            raise ValueError("node n1: no port")
        return item["name"]

    items = _items(3)
    ahead = PrepareAhead(prepare, items, 3)
    try:
        assert ahead(items[0]) == "n0"
        with pytest.raises(ValueError, match="node n1: no port"):
            ahead(items[1])
        assert ahead(items[2]) == "n2"
    finally:
        ahead.close()


def test_close_cancels_what_has_not_started_and_one_worker_runs_inline():
    calls = []
    gate = threading.Event()

    def prepare(item):
        calls.append(item["name"])
        gate.wait(5)
        return item["name"]

    items = _items(6)
    ahead = PrepareAhead(prepare, items, 2)
    gate.set()
    assert ahead(items[0]) == "n0"  # n0 and n1 submitted; nothing for n2.. until asked
    ahead.close()  # n1: cancelled if it had not started yet, else waited for
    assert "n0" in calls and set(calls) <= {"n0", "n1"}

    inline = PrepareAhead(lambda item: threading.current_thread().name, items, 1)
    assert inline(items[0]) == threading.current_thread().name
    inline.close()
    other = PrepareAhead(lambda item: item["name"], items, 3)
    assert other({"uuid": "x", "name": "unknown"}) == "unknown"  # not in the list: prepared on the spot
    other.close()
