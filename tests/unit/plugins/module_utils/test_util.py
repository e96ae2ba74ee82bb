"""The shared pure helpers: MAC, JSON pointer, the difference tracker; and the one retry loop."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import call_with_retry, is_retryable
from ansible_collections.spineleaf.baremetal.plugins.module_utils._util import (
    DifferenceTracker, is_mac, json_pointer, normalize_mac)


class HttpError(Exception):
    def __init__(self, status_code, details=''):
        super().__init__(details)
        self.status_code = status_code
        self.details = details


def test_mac_and_pointer():
    assert normalize_mac(' AA-BB-CC-DD-EE-0F ') == 'aa:bb:cc:dd:ee:0f'
    assert normalize_mac('aa:bb:cc:dd:ee') is None and normalize_mac(None) is None
    assert is_mac('aa:bb:cc:dd:ee:ff') and not is_mac('zz:bb:cc:dd:ee:ff')
    assert json_pointer('a/b~c') == 'a~1b~0c'


def test_difference_tracker():
    t = DifferenceTracker()
    assert not t.add('n1', {'a': 1}, {'a': 1})
    assert t.add('n2', {'a': 1}, {'a': 2})
    assert not t.add('n3', {'a': 1}, {'a': 2}, changes=[])  # listed changes decide
    assert t.add('n4', {'s': 'enroll'}, {'s': 'enroll'}, changes=['provision_state enroll -> manageable'])
    assert t.changed and t.items() == ['n2', 'n4']
    assert t.changes('n4') == ['provision_state enroll -> manageable'] and t.changes('n1') == []
    assert t.diff() == {'before': {'n2': {'a': 1}, 'n4': {'s': 'enroll'}},
                        'after': {'n2': {'a': 2}, 'n4': {'s': 'enroll'}}}
    assert not DifferenceTracker().changed and DifferenceTracker().diff() == {'before': {}, 'after': {}}


def test_retry_policy():
    assert is_retryable(HttpError(409, 'Node n1 is locked by host c1'))
    assert is_retryable(HttpError(503))
    assert not is_retryable(HttpError(409, 'A port with MAC address x already exists'))
    assert not is_retryable(HttpError(500, 'database is locked'))  # only adaptive writes take that
    answers = [HttpError(503), HttpError(409, 'NodeLocked'), 'ok']
    waits, retried = [], []

    def attempt():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
    assert call_with_retry(attempt, 5, 0.1, 0.15, sleep=waits.append, on_retry=retried.append) == 'ok'
    assert waits == [0.1, 0.15] and [e.status_code for e in retried] == [503, 409]

    calls = []

    def always_busy():
        calls.append(1)
        raise HttpError(503)
    with pytest.raises(HttpError):
        call_with_retry(always_busy, 2, 0.1, 1.0, sleep=waits.append)
    assert len(calls) == 3
