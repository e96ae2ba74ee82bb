"""The node_outcome filter: a rack's per-node results -> one host's result (pure logic)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.outcome import node_outcome


def node(name, action, msg=None, changed=None, failed=None, uuid='u-%s'):
    entry = dict(name=name, uuid=uuid % name if uuid else None, action=action, msg=msg)
    if changed is not None:
        entry['changed'] = changed
    if failed is not None:
        entry['failed'] = failed
    return entry


def rack(*nodes, **kw):
    return dict(nodes=list(nodes), **kw)


def test_ok_node_reports_its_action_and_msg():
    res = rack(node('a', 'created', 'created, port x', changed=True, failed=False), node('b', 'unchanged', failed=False))
    out = node_outcome(res, 'a', 0, rack='r1')
    assert out['msg'] == 'created: created, port x' and out['changed'] and not out['failed'] and not out['stopped']
    assert node_outcome(res, 'b', 0, rack='r1')['msg'] == 'unchanged'
    assert out['verdict']['msg'] == 'rack r1 within budget: 0 of 2 nodes failed (budget 0)'


def test_failed_node_fails_with_its_reason_and_stops_the_others_past_the_budget():
    res = rack(node('a', 'failed', 'node a: no-such-driver', failed=True), node('b', 'created', changed=True, failed=False))
    bad, other = node_outcome(res, 'a', 0, rack='ta'), node_outcome(res, 'b', 0, rack='ta')
    assert bad['failed'] and not bad['stopped'] and bad['msg'] == 'failed: node a: no-such-driver'
    assert other['failed'] and other['stopped'] and other['changed']
    assert other['msg'] == 'rack ta stopped: 1 of 2 nodes failed (budget 0)'
    within = node_outcome(res, 'b', 1, rack='ta')
    assert not within['failed'] and not within['stopped']
    assert not node_outcome(res, 'b', '100%', rack='ta')['failed']


def test_action_failed_without_the_failed_key_counts_failed():
    res = rack(dict(name='a', action='failed', msg='boom'), dict(name='b', action='upgraded'))
    assert node_outcome(res, 'a', 1)['failed'] and node_outcome(res, 'a', 1)['verdict']['failed'] == 1


def test_rack_call_failed_as_a_whole_fails_every_host_of_the_rack():
    res = dict(failed=True, msg='cannot open an OpenStack connection')
    out = node_outcome(res, 'a', 5, rack='r2', hosts=['a', 'b', 'c'])
    assert out['failed'] and out['msg'] == 'failed: rack r2: cannot open an OpenStack connection'
    assert out['verdict']['failed'] == 3 and out['verdict']['total'] == 3
    assert node_outcome({}, 'a', 0, rack='r2')['msg'] == 'failed: rack r2: no result'


def test_a_host_missing_from_the_results_counts_failed_in_the_budget():
    res = rack(node('a', 'unchanged', failed=False))
    out = node_outcome(res, 'a', 0, rack='r', hosts=['a', 'b'])
    assert out['stopped'] and out['verdict']['failed'] == 1 and out['verdict']['total'] == 2


def test_not_started_node_fails_with_the_rack_stop_message():
    res = rack(node('a', 'failed', 'x', failed=True), node('b', 'skipped', 'not started: rack stopped', failed=False))
    out = node_outcome(res, 'b', 0, rack='r')
    assert out['failed'] and out['stopped'] and out['msg'] == 'rack r stopped: 1 of 2 nodes failed (budget 0)'
    # within the count, the module's own stop (slots held) still stops the rack
    own = node_outcome(dict(res, verdict=dict(stopped=True, msg='rack r stopped: slots held')), 'b', 5, rack='r')
    assert own['stopped'] and own['msg'] == 'rack r stopped: slots held' and own['verdict']['skipped'] == 1


def test_two_steps_inspection_then_cabling_check():
    inspect = rack(node('a', 'inspected', 'took 3 s', changed=True, failed=False),
                   node('b', 'failed', 'node b: inspection timed out', failed=True),
                   node('m', 'maintenance', 'in maintenance (disk)', failed=False),
                   node('n', 'would_inspect', 'node n: not in Ironic yet', changed=True, failed=False, uuid=None),
                   node('c', 'skipped', None, failed=False))
    topo = rack(node('a', 'blocked', 'eno1 cabled to leaf-r02', failed=True),
                node('c', 'unchanged', None, failed=False))
    steps = [inspect, topo]
    a = node_outcome(steps, 'a', 5, rack='r1', report='/rep/topology.html')
    assert a['failed'] and a['changed'] and a['action'] == 'blocked'
    assert a['msg'] == 'blocked: took 3 s; eno1 cabled to leaf-r02 (report: /rep/topology.html)'
    b = node_outcome(steps, 'b', 5, rack='r1', report='/rep/topology.html')
    assert b['msg'] == 'failed: node b: inspection timed out'  # failed before the report step
    m = node_outcome(steps, 'm', 0, rack='r1')
    assert m['skipped'] and not m['failed'] and not m['stopped'] and m['reason'] == 'in maintenance (disk)'
    n = node_outcome(steps, 'n', 5, rack='r1')
    assert n['planned'] and n['changed'] and n['msg'] == 'would_inspect: node n: not in Ironic yet'
    c = node_outcome(steps, 'c', 5, rack='r1')
    assert c['action'] == 'unchanged' and not c['failed'] and c['msg'] == 'unchanged'
    # the maintenance node counts neither way: 2 failed (a, b) of 4
    assert c['verdict']['failed'] == 2 and c['verdict']['total'] == 4
    assert node_outcome(steps, 'c', 1, rack='r1')['stopped']


def test_a_node_missing_from_a_later_step_fails_with_that_steps_message():
    steps = [rack(node('a', 'inspected', changed=True, failed=False)), dict(msg='switches: bad entry')]
    out = node_outcome(steps, 'a', 0, rack='r1')
    assert out['failed'] and out['changed'] and out['msg'] == 'failed: rack r1: switches: bad entry'


def test_bad_input_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match='node_outcome: host a'):
        node_outcome([], 'a', 0)
    with pytest.raises(AnsibleFilterError, match='node_outcome'):
        node_outcome(rack(node('a', 'failed', failed=True)), 'a', 'lots')


def test_an_entry_without_a_name_is_an_error_not_a_merged_node():
    with pytest.raises(AnsibleFilterError, match='without a name'):
        node_outcome(rack(dict(action='failed'), dict(action='failed')), '', 0)
