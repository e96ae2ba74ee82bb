"""site_results and routed_changes: each node's one result over a site run (site.yml reports at its end)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.outcome import node_outcomes, routed_changes, site_results


def node(name, action, msg=None, changed=False, failed=False):
    return dict(name=name, uuid='u-' + name, action=action, msg=msg, changed=changed, failed=failed)


ROUTED = dict(results=[
    dict(item=dict(name='prov'), network=dict(name='prov', action='unchanged'),
         segments=[dict(name='prov-r1', action='unchanged'), dict(name='prov-r2', action='created'),
                   dict(name='prov-r10', action='created'), dict(name='prov-old', action='unmanaged')],
         subnets=[dict(name='prov-r2-v4', segment='prov-r2', action='created'), dict(name='prov-r1-v4', segment='prov-r1', action='unchanged')]),
    dict(item=dict(name='storage'), network=dict(name='storage', action='created'), segments=[], subnets=[]),
    dict(item=dict(name='skipped'), skipped=True),
])


def test_routed_changes_credit_a_rack_only_its_own_segment_and_every_rack_a_new_network():
    assert routed_changes(ROUTED['results'], 'r2') == ['segment prov-r2 created', 'subnet prov-r2-v4 created', 'network storage created']
    # r1 is not r10's prefix: only the shared network
    assert routed_changes(ROUTED['results'], 'r1') == ['network storage created']
    assert routed_changes([], 'r1') == [] and routed_changes(None, 'r1') == []


def test_one_result_per_node_over_every_step():
    enroll = node_outcomes([dict(rack='r1', nodes=[node('a', 'unchanged'), node('b', 'failed', 'node b: bad driver', failed=True),
                                                   node('c', 'created', changed=True)])],
                           {'a': 'r1', 'b': 'r1', 'c': 'r1', 'n': ''}, '100%')
    tag = node_outcomes([dict(rack='r1', nodes=[node('a', 'unchanged'), node('c', 'updated', 'CUSTOM_RACK_R1', changed=True)])],
                        {'a': 'r1', 'c': 'r1'}, '100%')
    hosts = []
    for name in ('a', 'b', 'c', 'n'):
        hv = dict(inventory_hostname=name, enroll_outcomes=enroll, tag_outcomes=tag if name in ('a', 'c') else {},
                  routed_networks_result=dict(results=[]))
        if name != 'n':
            hv['rack'] = 'r1'
        hosts.append(hv)
    hosts[0]['routed_networks_result'] = ROUTED  # a's rack r1 sees the new shared network only
    out = site_results(hosts, ['a', 'c'])
    assert out['a'] == dict(changed=True, failed=False, msg='networks: network storage created; enroll: unchanged; tag: unchanged')
    assert out['b'] == dict(changed=False, failed=True, msg='enroll: failed: node b: bad driver')
    assert out['c']['changed'] and not out['c']['failed'] and out['c']['msg'] == 'enroll: created; tag: updated: CUSTOM_RACK_R1'
    assert out['n']['failed'] and out['n']['msg'].startswith("enroll: n: no 'rack' variable")


def test_a_stopped_rack_fails_its_other_nodes_and_a_node_no_step_took_is_ok():
    enroll = node_outcomes([dict(rack='r1', nodes=[node('a', 'failed', 'x', failed=True), node('b', 'unchanged')])], {'a': 'r1', 'b': 'r1'}, 0)
    out = site_results([dict(inventory_hostname='b', rack='r1', enroll_outcomes=enroll), dict(inventory_hostname='z', rack='r2')])
    assert out['b']['failed'] and out['b']['msg'].startswith('enroll: rack r1 stopped')
    assert out['z'] == dict(changed=False, failed=False, msg='no step of this run took it')


def test_a_run_without_introspection_names_the_nodes_the_gate_left_out():
    records = dict(nodes=[dict(name='a')])
    out = site_results([dict(inventory_hostname='a', rack='r1', site_cabling_records=records),
                        dict(inventory_hostname='b', rack='r1', site_cabling_records=records)], ['b'])
    assert out['a']['msg'].startswith('introspect: skipped: cabling check not passed') and not out['a']['failed']
    assert out['b']['msg'] == 'no step of this run took it'


def test_hosts_without_their_name_are_refused():
    with pytest.raises(AnsibleFilterError, match='site_results'):
        site_results([dict(rack='r1')])


def test_a_skipped_host_task_registered_on_every_host_says_nothing_of_the_node():
    skipped = dict(changed=False, skipped=True, skip_reason='Conditional result was False', false_condition='x')
    out = site_results([dict(inventory_hostname='a', rack='r1', deploy_node_result=skipped, tag_node_result=skipped)])
    assert out['a'] == dict(changed=False, failed=False, msg='no step of this run took it')


def test_the_summary_reads_a_skipped_host_task_as_nothing_too():
    from ansible_collections.spineleaf.baremetal.plugins.filter.outcome import site_summary
    skipped = dict(changed=False, skipped=True, skip_reason='Conditional result was False', failed=False)
    hosts = [dict(inventory_hostname='a', rack='r1', deploy_node_result=skipped),
             dict(inventory_hostname='b', rack='r1', deploy_node_result=skipped)]
    assert site_summary(hosts, ['a']) == {'r1': {'done': ['a'], 'failed': {}, 'skipped': {}}}
