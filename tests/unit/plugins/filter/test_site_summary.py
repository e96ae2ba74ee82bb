"""site_summary: hosts classified per rack from their structured outcomes (no message parsing)."""
from ansible_collections.spineleaf.baremetal.plugins.filter.outcome import site_summary


def outcome(failed=False, skipped=False, stopped=False, msg='ok', reason=None):
    return dict(failed=failed, skipped=skipped, stopped=stopped, msg=msg, reason=reason)


def test_done_failed_skipped_stopped_no_rack_and_not_checked():
    hosts = [
        dict(inventory_hostname='a', rack='r1', enroll_outcomes={'a': outcome(), 'b': outcome(failed=True, msg='failed: bad driver')}),
        dict(inventory_hostname='b', rack='r1', enroll_outcomes={'b': outcome(failed=True, msg='failed: bad driver')}),
        dict(inventory_hostname='c', rack='r2', introspect_outcomes={'c': outcome(skipped=True, reason='in maintenance')}),
        dict(inventory_hostname='d', rack='r2', tag_outcomes={'d': outcome(failed=True, stopped=True, msg='rack r2 stopped')}),
        dict(inventory_hostname='n', enroll_node_result=dict(failed=True, msg="n: no 'rack' variable")),
        dict(inventory_hostname='g', rack='r3', site_cabling_records=dict(nodes=[])),
        dict(inventory_hostname='h', rack='r3', site_cabling_records=dict(nodes=[])),
        dict(inventory_hostname='q', rack='r4'),  # not in the play, no outcome: not counted
    ]
    out = site_summary(hosts, ['a', 'c', 'g', 'h'], ['h'])
    assert out['r1'] == {'done': ['a'], 'failed': {'b': 'failed: bad driver'}, 'skipped': {}}
    assert out['r2'] == {'done': [], 'failed': {}, 'skipped': {'c': 'in maintenance', 'd': 'rack r2 stopped'}}
    assert out['(no rack)']['failed'] == {'n': "n: no 'rack' variable"}
    assert out['r3']['done'] == ['h'] and 'run the introspect step' in out['r3']['skipped']['g']
    assert 'r4' not in out
