"""IronicAdapter.write with adaptive_writes and its AdaptiveGate: retries of contention, narrowing concurrency."""
import threading

import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import is_transient_db_error
from ansible_collections.spineleaf.baremetal.plugins.module_utils._ironic import AdaptiveGate, IronicAdapter
from tests.unit.fakes import FakeConn, FakeHttpError


def adapter(concurrency=16):
    return IronicAdapter(FakeConn(), concurrency=concurrency, backoff=0.001, max_backoff=0.002, adaptive_writes=True)


def test_database_lock_is_transient():
    assert is_transient_db_error(FakeHttpError(500, '(sqlite3.OperationalError) database is locked'))
    assert is_transient_db_error(FakeHttpError(500, 'Deadlock found when trying to get lock'))
    assert not is_transient_db_error(FakeHttpError(500, 'something else broke'))
    assert not is_transient_db_error(FakeHttpError(400, 'database is locked'))


def test_adaptive_write_retries_and_counts_every_call():
    ad = adapter()
    answers = [FakeHttpError(500, 'database is locked'), FakeHttpError(409, 'Node x is locked by host y'), 'done']

    def call():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert ad.write(call) == 'done'
    assert ad.writes == 3
    assert ad._gate.max == 2  # contention seen: no more than 2 writers from now on


def test_adaptive_write_gives_up_on_real_errors():
    ad = adapter()

    def bad():
        raise FakeHttpError(400, 'invalid trait')

    with pytest.raises(FakeHttpError):
        ad.write(bad)
    assert ad.writes == 1


def test_gate_starts_small_grows_and_halves():
    gate = AdaptiveGate(16)
    assert gate.limit == 2
    for _success in range(200):
        gate.success()
    assert gate.limit == 16
    gate.shrink()
    assert gate.limit == 8 and gate.max == 15
    assert AdaptiveGate(1).limit == 1


def test_gate_bounds_parallel_callers():
    gate = AdaptiveGate(3, start=3)
    peak = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def work():
        barrier.wait()
        with gate:
            with lock:
                peak[0] = max(peak[0], gate.active)

    threads = [threading.Thread(target=work) for _worker in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] <= 3 and gate.active == 0
