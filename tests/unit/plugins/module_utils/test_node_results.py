"""The one per-node result contract and its reporter (BaremetalModule.report_nodes)."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import (
    NODE_RESULT_KEYS, BaremetalModule, node_entry, nodes_failure_message)
from ansible_collections.spineleaf.baremetal.plugins.module_utils._util import DifferenceTracker


class Exit(Exception):
    def __init__(self, how, result):
        super().__init__(how)
        self.how, self.result = how, result


class Reporter(BaremetalModule):
    """The base class without AnsibleModule: exit_json / fail_json raise what they were given."""

    def __init__(self, diff_mode=False):  # pylint: disable=super-init-not-called
        self.diff_mode = diff_mode

    def exit_json(self, **kwargs):
        raise Exit('exit', kwargs)

    def fail_json(self, **kwargs):
        raise Exit('fail', kwargs)


def test_node_entry_fills_the_contract_keys():
    e = node_entry(dict(name='n1', action='deployed', provision_state='active'), changing=('deployed',))
    assert set(NODE_RESULT_KEYS) <= set(e) and e['changed'] and not e['failed'] and e['uuid'] is None and e['msg'] is None
    assert node_entry(dict(name='n1', action='failed', msg='x'))['failed']
    assert node_entry(dict(name='n1', action='updated', changed=False), changing=('updated',))['changed'] is False


def test_failure_message_names_the_nodes_and_reasons():
    nodes = [node_entry(dict(name='a', action='failed', msg='node a: boom')), node_entry(dict(name='b', action='ok'))]
    assert nodes_failure_message('provisioning', nodes) == 'provisioning: 1 of 2 nodes failed (a): node a: boom'
    assert nodes_failure_message('provisioning', nodes[1:]) is None


def test_report_nodes_exits_with_summary_diff_and_contract():
    tracker = DifferenceTracker()
    tracker.add('a', {'x': 1}, {'x': 2})
    nodes = [dict(name='a', uuid='u1', action='updated'), dict(name='b', uuid='u2', action='unchanged')]
    with pytest.raises(Exit) as got:
        Reporter(diff_mode=True).report_nodes(nodes, 'tagging', changing=('updated',), summary_keys=('failed',),
                                              tracker=tracker, api_writes=1)
    assert got.value.how == 'exit'
    r = got.value.result
    assert r['changed'] and r['summary'] == {'failed': 0, 'updated': 1, 'unchanged': 1} and r['api_writes'] == 1
    assert r['diff'] == {'before': {'a': {'x': 1}}, 'after': {'a': {'x': 2}}}
    assert [n['changed'] for n in r['nodes']] == [True, False] and not any(n['failed'] for n in r['nodes'])


def test_report_nodes_fails_keeping_every_nodes_result():
    nodes = [dict(name='a', action='failed', msg='node a: locked'), dict(name='b', action='deployed')]
    with pytest.raises(Exit) as got:
        Reporter().report_nodes(nodes, 'provisioning', changing=('deployed',))
    assert got.value.how == 'fail' and got.value.result['msg'] == 'provisioning: 1 of 2 nodes failed (a): node a: locked'
    assert len(got.value.result['nodes']) == 2 and got.value.result['changed'] and 'diff' not in got.value.result


def test_report_nodes_fail_msg_false_does_not_fail_for_failed_checks():
    nodes = [dict(name='a', action='blocked', msg='wrong port')]
    with pytest.raises(Exit) as got:
        Reporter().report_nodes(nodes, 'lldp_topology', failing=('failed', 'blocked'), fail_msg=False)
    assert got.value.how == 'exit' and got.value.result['nodes'][0]['failed']
