"""The racks file expansion (module_utils/_racks.py): patterns, ranges, exceptions and every error."""
import copy
import os

import pytest
import yaml

from ansible_collections.spineleaf.baremetal.plugins.module_utils._racks import (
    PatternError, expand_mac, expand_range, expand_site, render)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def site(**racks):
    """A two-leaf, one-range site; keyword arguments replace racks."""
    data = {
        'vars': {'site_name': 't'},
        'switches': {'port_name': 'Ethernet1/{port}', 'port_count': 8},
        'defaults': {
            'physnet': 'leaf{rack_index}',
            'leaves': {'leaf-{rack}-a': {'mlag_peer': 'leaf-{rack}-b'}, 'leaf-{rack}-b': {'mlag_peer': 'leaf-{rack}-a'}},
            'nodes': [{
                'range': '{rack}-n[01:04]', 'role': 'compute',
                'bmc_address': {'base': '10.0.{rack_index}.0', 'step': 1},
                'nics': [{'name': 'eno1', 'mac': {'base': '52:54:00:{rack_index:02d}:00:01', 'step': 256},
                          'pxe': True, 'leaf': 'leaf-{rack}-a', 'port': {'base': 0, 'step': 1}}],
            }],
        },
        'racks': {'r01': {'index': 1}, 'r02': {'index': 2}},
    }
    data['racks'].update(racks)
    return data


def expand_ok(data):
    result, errors = expand_site(data)
    assert errors == []
    return result


def expand_errors(data):
    result, errors = expand_site(data)
    assert result is None, 'a file with errors must yield nothing'
    assert errors
    return '\n'.join(errors)


# ------------------------------------------------------------------ patterns
@pytest.mark.parametrize('pattern, expect', [
    ('r07-n[01:03]', [('r07-n01', 1), ('r07-n02', 2), ('r07-n03', 3)]),
    ('r07-n[8:10]', [('r07-n8', 8), ('r07-n9', 9), ('r07-n10', 10)]),
    ('n[001:005:2]x', [('n001x', 1), ('n003x', 3), ('n005x', 5)]),
    ('r01-spare', [('r01-spare', 1)]),
    ('gpu', [('gpu', None)]),
])
def test_expand_range(pattern, expect):
    assert expand_range(pattern) == expect


@pytest.mark.parametrize('pattern', ['r01-n[01:04', 'r01-n[a:c]', 'r01-n[05:01]', 'r[1:2]-n[1:2]', '', 'bad name',
                                     'n[1:3:0]'])
def test_bad_range_does_not_expand(pattern):
    with pytest.raises(PatternError):
        expand_range(pattern)


def test_mac_base_plus_step_times_number():
    ctx = {'rack': 'r01', 'rack_index': 1, 'n': 3, 'name': 'r01-n03'}
    assert expand_mac({'base': '52:54:00:{rack_index:02d}:00:01', 'step': 256}, ctx) == '52:54:00:01:03:01'
    assert expand_mac('52-54-00-AA-{n:02x}-01', ctx) == '52:54:00:aa:03:01'
    with pytest.raises(PatternError, match='outside the MAC address space'):
        expand_mac({'base': 'ff:ff:ff:ff:ff:ff', 'step': 1}, ctx)
    with pytest.raises(PatternError, match='not a MAC'):
        expand_mac('52:54:00:{n}', ctx)


def test_render_names_unknown_field():
    with pytest.raises(PatternError, match=r'unknown field \{rak\}'):
        render('leaf-{rak}-a', {'rack': 'r01'})
    with pytest.raises(PatternError, match='does not expand'):
        render('leaf-{rack', {'rack': 'r01'})


# ------------------------------------------------------------------ expansion
def test_expansion_gives_site_model():
    s = expand_ok(site())
    assert [r for r, _v, _h in s['racks']] == ['r01', 'r02']
    rack, rack_vars, hosts = s['racks'][1]
    assert rack_vars == {'rack': 'r02', 'rack_index': 2, 'rack_physnet': 'leaf2', 'rack_leaves': ['leaf-r02-a', 'leaf-r02-b']}
    assert hosts == ['r02-n01', 'r02-n02', 'r02-n03', 'r02-n04']
    assert s['hosts']['r02-n03'] == {
        'bmc_address': '10.0.2.3', 'node_role': 'compute',
        'nics': [{'name': 'eno1', 'mac': '52:54:00:02:03:01', 'pxe': True, 'leaf': 'leaf-r02-a', 'port': 'Ethernet1/3'}]}
    assert s['vars']['site_name'] == 't'
    assert s['vars']['leaf_switches']['leaf-r02-b'] == {'rack': 'r02', 'mlag_peer': 'leaf-r02-a'}
    assert s['role_groups'] == {'role_compute': hosts[:0] + ['r01-n01', 'r01-n02', 'r01-n03', 'r01-n04'] + hosts}


def test_overrides_exclude_and_extra_node():
    data = site(r01={'index': 1, 'nodes': [
        {'range': 'r01-n[01:04]', 'role': 'compute', 'bmc_address': '10.0.1.{n}', 'resource_class': 'gpu',
         'nics': [{'name': 'eno1', 'mac': {'base': '52:54:00:01:00:01', 'step': 256}, 'pxe': True,
                   'leaf': 'leaf-r01-a', 'port': {'base': 0, 'step': 1}}],
         'overrides': {'r01-n02': {'role': 'controller', 'nics': [{'name': 'eno1', 'mac': '52:54:00:aa:bb:cc'}]}},
         'exclude': ['r01-n03']},
        {'range': 'r01-spare9', 'bmc_address': '10.0.1.99',
         'nics': [{'name': 'eno1', 'mac': '52:54:00:01:99:01', 'pxe': True, 'leaf': 'leaf-r01-b', 'port': 8}]},
    ]})
    s = expand_ok(data)
    hosts = s['racks'][0][2]
    assert hosts == ['r01-n01', 'r01-n02', 'r01-n04', 'r01-spare9']
    n02 = s['hosts']['r01-n02']
    assert n02['node_role'] == 'controller' and n02['resource_class'] == 'gpu'
    assert n02['nics'][0] == {'name': 'eno1', 'mac': '52:54:00:aa:bb:cc', 'pxe': True, 'leaf': 'leaf-r01-a',
                              'port': 'Ethernet1/2'}
    assert s['hosts']['r01-spare9']['nics'][0]['port'] == 'Ethernet1/8'
    assert 'role_controller' in s['role_groups']


def test_expansion_does_not_change_its_input():
    data = site()
    before = copy.deepcopy(data)
    expand_ok(data)
    assert data == before


def test_lab_racks_file_equals_the_yaml_form():
    """The same comparison as the integration test, without Ansible: hosts.yml + group_vars/."""
    lab = os.path.join(REPO, 'inventory', 'lab')
    with open(os.path.join(lab, 'lab.racks.yml')) as f:
        s = expand_ok(yaml.safe_load(f))
    with open(os.path.join(lab, 'hosts.yml')) as f:
        racks = yaml.safe_load(f)['all']['children']['baremetal']['children']
    with open(os.path.join(lab, 'group_vars', 'all.yml')) as f:
        site_vars = yaml.safe_load(f)
    assert s['vars'] == site_vars
    got = dict((r, (v, h)) for r, v, h in s['racks'])
    assert sorted(got) == sorted(g[len('rack_'):] for g in racks)
    for group, members in racks.items():
        with open(os.path.join(lab, 'group_vars', group + '.yml')) as f:
            assert got[group[len('rack_'):]][0] == yaml.safe_load(f)
        assert got[group[len('rack_'):]][1] == list(members['hosts'])
        for host, hostvars in members['hosts'].items():
            assert s['hosts'][host] == hostvars, host


def test_example_large_site_is_24_racks_of_40():
    path = os.path.join(REPO, 'inventory', 'example-large', 'site.racks.yml')
    with open(path) as f:
        text = f.read()
    assert len(text.splitlines()) < 150
    s = expand_ok(yaml.safe_load(text))
    assert len(s['racks']) == 24
    assert all(len(h) == 40 for _r, _v, h in s['racks'])
    assert len(s['hosts']) == 960


# ------------------------------------------------------------------ errors
def test_overlapping_ranges_name_both():
    text = expand_errors(site(r02={'index': 2, 'nodes': [
        {'range': 'r01-n[04:05]', 'bmc_address': '10.9.9.{n}',
         'nics': [{'name': 'eno1', 'mac': '52:54:00:99:{n:02d}:01', 'pxe': True, 'leaf': 'leaf-r02-a'}]}]}))
    assert 'rack r02 range r01-n[04:05]: node r01-n04 overlaps rack r01 range r01-n[01:04]' in text


def test_duplicate_mac_and_bmc_name_both_nodes():
    text = expand_errors(site(r02={'index': 2, 'nodes': [
        {'range': 'r02-n[01:02]', 'bmc_address': '10.0.1.2',
         'nics': [{'name': 'eno1', 'mac': '52:54:00:01:01:01', 'pxe': True, 'leaf': 'leaf-r02-a'}]}]}))
    assert ('rack r02 range r02-n[01:02]: node r02-n01 NIC eno1: MAC 52:54:00:01:01:01 is also on '
            'r01-n01 NIC eno1 (rack r01 range r01-n[01:04])') in text
    assert 'rack r02 range r02-n[01:02]: node r02-n01: BMC address 10.0.1.2 is also the BMC of r01-n02' in text
    assert 'node r02-n02: BMC address 10.0.1.2 is also the BMC of r01-n02' in text
    assert 'node r02-n02 NIC eno1: MAC 52:54:00:01:01:01 is also on r01-n01' in text


def test_port_beyond_the_leaf_port_count():
    data = site()
    data['defaults']['nodes'][0]['range'] = '{rack}-n[07:09]'
    text = expand_errors(data)
    assert 'rack r01 range r01-n[07:09] node r01-n09: NIC eno1: port Ethernet1/9 (number 9) is beyond leaf leaf-r01-a\'s 8 ports' in text
    assert 'r01-n08' not in text


def test_leaf_of_another_rack():
    text = expand_errors(site(r02={'index': 2, 'nodes': [
        {'range': 'r02-n01', 'bmc_address': '10.0.2.1',
         'nics': [{'name': 'eno1', 'mac': '52:54:00:02:01:01', 'pxe': True, 'leaf': 'leaf-r01-b', 'port': 1}]}]}))
    assert 'rack r02 range r02-n01 node r02-n01: NIC eno1: leaf leaf-r01-b is a leaf of rack r01, not of rack r02' in text


def test_rack_claims_a_leaf_of_another_rack():
    text = expand_errors(site(r02={'index': 2, 'leaves': ['leaf-r01-a']}))
    assert 'rack r02: leaf leaf-r01-a is a leaf of rack r01 (declared in rack r01)' in text


def test_unknown_leaf_and_peer():
    data = site()
    data['switches']['leaves'] = {'spine-1': {'rack': 'r01', 'mlag_peer': 'spine-9'}}
    data['defaults']['nodes'][0]['nics'][0]['leaf'] = 'leaf-{rack}-c'
    text = expand_errors(data)
    assert "rack r01 range r01-n[01:04] node r01-n01: NIC eno1: leaf leaf-r01-c is not declared" in text
    assert 'switch spine-1: mlag_peer spine-9 is not a declared switch' in text


@pytest.mark.parametrize('change, expect', [
    ({'range': '{rack}-n[01:04'}, 'rack r01: range {rack}-n[01:04: \'r01-n[01:04\' does not expand'),
    ({'bmc_address': '10.0.{rak}.{n}'}, 'rack r01 range r01-n[01:04] node r01-n01: pattern \'10.0.{rak}.{n}\' does not expand: unknown field {rak}'),
    ({'bmc_address': {'base': '10.0.1.x', 'step': 1}}, "node r01-n01: bmc_address base '10.0.1.x'"),
    ({'nics': [{'name': 'eno1', 'mac': 'zz:{n}', 'pxe': True}]}, "node r01-n01: mac 'zz:1' is not a MAC address"),
    ({'nics': [{'name': 'eno1', 'mac': '52:54:00:{rack_index:02d}:{n:02d}:01', 'pxe': True, 'speed': 25}]},
     'node r01-n01: NIC eno1: unknown keys speed'),
    ({'overrides': {'r01-n09': {'role': 'x'}}}, 'rack r01 range r01-n[01:04]: node r01-n09 (in overrides/exclude) is not in the range'),
    ({'exclude': ['r01-n00']}, 'node r01-n00 (in overrides/exclude) is not in the range'),
])
def test_pattern_and_exception_errors_name_rack_and_range(change, expect):
    data = site()
    data['defaults']['nodes'][0].update(change)
    assert expect in expand_errors(data)


def test_site_model_checks_name_rack_range_and_node():
    data = site()
    data['defaults']['nodes'][0]['nics'][0]['pxe'] = False
    data['defaults']['nodes'][0]['bonds'] = [{'name': 'bond0', 'members': ['eno1', 'eno9']}]
    text = expand_errors(data)
    assert 'rack r01 range r01-n[01:04] node r01-n01: node r01-n01: no NIC has pxe: true' in text
    assert "node r01-n01 bond bond0: member 'eno9' is not one of its nics" in text


@pytest.mark.parametrize('racks, expect', [
    ({'r01': {'index': 0}}, 'rack r01: index must be a positive integer (got 0)'),
    ({'r01': {'index': 1}, 'r02': {'index': 1}}, 'rack r02: index 1 is also the index of rack r01'),
    ({'r01': {'index': 1, 'rack_size': 42}}, 'rack r01: unknown keys rack_size'),
    ({'r01': 'x'}, 'rack r01: must be a mapping'),
])
def test_rack_errors(racks, expect):
    data = site()
    data['racks'] = racks
    assert expect in expand_errors(data)


def test_every_error_is_reported_at_once():
    data = site(r03={'index': 1})
    data['defaults']['nodes'][0]['range'] = '{rack}-n[07:09]'
    text = expand_errors(data)
    assert 'index 1 is also the index of rack r01' in text
    assert 'r01-n09: NIC eno1: port Ethernet1/9' in text and 'r02-n09: NIC eno1: port Ethernet1/9' in text


def test_racks_required():
    assert 'racks: must map each rack id' in expand_errors({'vars': {}})


# ------------------------------------------------------------------ nodes to discover (no MACs)
def test_nodes_without_macs_and_bmc_addresses_expand():
    data = site()
    spec = data['defaults']['nodes'][0]
    del spec['bmc_address']
    del spec['nics'][0]['mac']
    result = expand_ok(data)
    hv = result['hosts']['r01-n02']
    text = repr(result)
    assert "'mac'" not in text and 'bmc_address' not in text
    assert hv['nics'] == [{'name': 'eno1', 'pxe': True, 'leaf': 'leaf-r01-a', 'port': 'Ethernet1/2'}]


def test_two_nodes_on_one_leaf_port_name_both():
    text = expand_errors(site(r02={'index': 2, 'nodes': [
        {'range': 'r02-n[01:02]', 'nics': [{'name': 'eno1', 'pxe': True, 'leaf': 'leaf-r02-a', 'port': 5}]}]}))
    assert ('rack r02 range r02-n[01:02]: node r02-n02 NIC eno1: leaf leaf-r02-a port Ethernet1/5 is also claimed by '
            'r02-n01 NIC eno1 (rack r02 range r02-n[01:02])') in text


def test_one_leaf_port_spelled_two_ways_is_claimed_twice():
    """A node's literal ``Eth1/3`` is the port another node reaches as ``Ethernet1/{port}`` 3."""
    data = site(r02={'index': 2, 'nodes': [
        {'range': 'r02-n[01:01]', 'nics': [{'name': 'eno1', 'mac': '52:54:00:02:00:01', 'pxe': True,
                                            'leaf': 'leaf-r02-a', 'port': 3}]},
        {'range': 'r02-n[02:02]', 'nics': [{'name': 'eno1', 'mac': '52:54:00:02:00:02', 'pxe': True,
                                            'leaf': 'leaf-r02-a', 'port': 'Eth1/3'}]}]})
    text = expand_errors(data)
    assert 'node r02-n02 NIC eno1: leaf leaf-r02-a port Eth1/3 is also claimed by r02-n01 NIC eno1' in text


def test_leaf_port_identity_is_one_function():
    """The site check, the racks file, discovery and the cabling check share one normaliser."""
    from ansible_collections.spineleaf.baremetal.plugins.module_utils import _discover, _leaf_port, _racks, _site, _topology
    assert _site.leaf_position is _racks.leaf_position is _leaf_port.leaf_position
    assert _topology.port_key is _leaf_port.port_key and _discover.leaf_port is _leaf_port.leaf_port
    assert _leaf_port.leaf_port('leaf-1', 'Ethernet1/3') == _leaf_port.leaf_port('leaf-1', 'Eth1/3')
    assert _leaf_port.leaf_port('leaf-1', 'Ethernet1/3') != _leaf_port.leaf_port('leaf-2', 'Ethernet1/3')
    assert _leaf_port.leaf_port(None, 'Eth1/3') is None and _leaf_port.leaf_port('leaf-1', None) is None
