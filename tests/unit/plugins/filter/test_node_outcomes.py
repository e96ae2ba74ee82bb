"""The node_outcomes filter: every host's result at once, equal to node_outcome per host."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.outcome import node_outcome, node_outcomes


def node(name, action, msg=None, changed=False, failed=False):
    return dict(name=name, uuid='u-' + name, action=action, msg=msg, changed=changed, failed=failed)


def test_equal_to_node_outcome_per_host_and_budget_per_rack():
    r1 = dict(rack='r1', nodes=[node('a', 'failed', 'node a: no-such-driver', failed=True), node('b', 'created', changed=True)])
    r2 = dict(rack='r2', nodes=[node('c', 'unchanged'), node('d', 'updated', 'port x', changed=True)])
    hosts = {'a': 'r1', 'b': 'r1', 'c': 'r2', 'd': 'r2'}
    out = node_outcomes([r1, r2], hosts, 0)
    assert set(out) == set(hosts)
    for host, rack in hosts.items():
        res = r1 if rack == 'r1' else r2
        assert out[host] == node_outcome(res, host, 0, rack=rack, hosts=[h for h, r in hosts.items() if r == rack])
    assert out['b']['stopped'] and out['b']['failed'] and not out['c']['failed'] and out['d']['changed']


def test_steps_nested_rack_key_missing_rack_and_host_without_rack():
    inspect = [dict(introspect_rack='r1', nodes=[node('a', 'inspected'), node('b', 'failed', 'timeout', failed=True)])]
    topology = [dict(item=dict(introspect_rack='r1'), nodes=[node('a', 'blocked', 'eno1 on leaf-x', failed=True)])]
    out = node_outcomes([inspect, topology], {'a': 'r1', 'b': 'r1', 'c': 'r9', 'n': ''}, '100%',
                        rack_key=['introspect_rack', 'item.introspect_rack'], report='/r/t.html', missing='no call')
    assert out['a']['msg'] == 'blocked: eno1 on leaf-x (report: /r/t.html)' and out['a']['failed']
    assert out['b']['msg'] == 'failed: timeout' and not out['b']['stopped']
    assert out['c']['failed'] and out['c']['msg'] == 'failed: rack r9: no call'
    assert out['n']['failed'] and out['n']['msg'].startswith("n: no 'rack' variable")
    assert 'n' not in node_outcomes([inspect, topology], {'a': 'r1', 'n': None}, no_rack=False,
                                    rack_key=['introspect_rack', 'item.introspect_rack'])


def test_hosts_must_be_a_mapping_or_their_variables():
    with pytest.raises(AnsibleFilterError, match='hosts must be a mapping'):
        node_outcomes([], 'a')
    with pytest.raises(AnsibleFilterError, match='a host without its variables'):
        node_outcomes([], ['a'])


def test_one_site_wide_call_is_every_racks():
    res = dict(nodes=[node('a', 'claimed', 'macs learned', changed=True), node('b', 'failed', 'no machine', failed=True)])
    out = node_outcomes(res, {'a': 'r1', 'b': 'r2'}, '100%', rack_key=None)
    assert out['a']['changed'] and out['a']['rack'] == 'r1' and not out['a']['failed']
    assert out['b']['failed'] and out['b']['msg'] == 'failed: no machine'
    assert node_outcomes(dict(msg='boom'), {'a': 'r1'}, rack_key=None)['a']['msg'] == 'failed: rack r1: boom'


def test_hosts_as_their_variables():
    res = [dict(rack='r1', nodes=[node('a', 'unchanged')])]
    out = node_outcomes(res, [dict(inventory_hostname='a', rack='r1'), dict(inventory_hostname='n')])
    assert not out['a']['failed'] and out['n']['failed'] and "no 'rack' variable" in out['n']['msg']
